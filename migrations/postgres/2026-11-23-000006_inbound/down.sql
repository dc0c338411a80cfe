DROP TABLE attachments;
DROP TABLE inbound_messages;
DROP TABLE settings;
