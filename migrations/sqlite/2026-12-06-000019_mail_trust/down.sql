DROP INDEX inbound_messages_received;
ALTER TABLE inbound_messages DROP COLUMN raw_encoding;
ALTER TABLE outbox DROP COLUMN auto_submitted;
ALTER TABLE comments DROP COLUMN format;
ALTER TABLE incidents DROP COLUMN description_format;
