-- +goose Up
CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    storage_key    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_appointment_idx ON attachments (appointment_id);

-- seq is dense per appointment: appointments.last_seq hands the numbers out
-- under a row lock, and this index makes a gap or duplicate impossible.
CREATE TABLE messages (
    id             TEXT PRIMARY KEY,
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    seq            BIGINT NOT NULL,
    sender_id      TEXT NOT NULL REFERENCES users (id),
    client_msg_id  TEXT NOT NULL,
    text           TEXT NOT NULL,
    attachment_id  TEXT REFERENCES attachments (id),
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX messages_seq_key ON messages (appointment_id, seq);
-- A client's retry of the same message is recognised by this key.
CREATE UNIQUE INDEX messages_client_key ON messages (appointment_id, sender_id, client_msg_id);
CREATE INDEX messages_created_idx ON messages (created_at);

CREATE TABLE chat_reads (
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    seq            BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (appointment_id, user_id)
);

-- +goose Down
DROP TABLE chat_reads;
DROP TABLE messages;
DROP TABLE attachments;
