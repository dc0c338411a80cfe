-- Mail trust (issue 12).

-- The source format of each text: Markdown from the web forms, plain text from mail (shown
-- escaped, line breaks kept, never read as Markdown).
ALTER TABLE incidents ADD COLUMN description_format TEXT NOT NULL DEFAULT 'markdown' CHECK (description_format IN ('markdown','text'));
ALTER TABLE comments ADD COLUMN format TEXT NOT NULL DEFAULT 'markdown' CHECK (format IN ('markdown','text'));

-- The Auto-Submitted value the mail goes out with: auto-generated, or auto-replied when an
-- incoming mail caused it (RFC 3834).
ALTER TABLE outbox ADD COLUMN auto_submitted TEXT NOT NULL DEFAULT 'auto-generated' CHECK (auto_submitted IN ('auto-generated','auto-replied'));

-- The raw original of every message is kept for a while; new ones zstd-compressed.
ALTER TABLE inbound_messages ADD COLUMN raw_encoding TEXT NOT NULL DEFAULT 'plain' CHECK (raw_encoding IN ('plain','zstd'));
CREATE INDEX inbound_messages_received ON inbound_messages (received_at);
