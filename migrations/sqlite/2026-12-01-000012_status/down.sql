ALTER TABLE outbox DROP COLUMN list_unsubscribe;
DROP TABLE status_subscribers;
DROP TABLE status_updates;
DROP TABLE status_incidents;
