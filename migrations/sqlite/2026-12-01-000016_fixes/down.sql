DROP TABLE release_overrides;
