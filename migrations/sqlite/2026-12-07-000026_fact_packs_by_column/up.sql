-- Fact packs are now laid out by column (pack_codec version 2), so a report decodes only the
-- columns it reads. The stored packs are of version 1: rebuild every one (the job, or a report
-- for its own days). An unreadable pack would be rebuilt on read anyway; this does it ahead.
INSERT OR IGNORE INTO fact_packs_dirty (kind, day) SELECT kind, day FROM fact_packs;
