DROP TABLE fact_packs_dirty;
DROP TABLE fact_packs;
