DROP INDEX incidents_tier;
ALTER TABLE incidents DROP COLUMN tier_id;
DROP TABLE escalations;
DROP TABLE oncall_overrides;
DROP TABLE oncall_members;
DROP TABLE oncall_rotations;
DROP TABLE tier_members;
DROP TABLE tiers;
