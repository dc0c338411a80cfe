DROP TABLE digest_runs;
DROP TABLE notification_prefs;
DROP TABLE outbox;
