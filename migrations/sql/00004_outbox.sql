-- +goose Up
-- Domain events, written in the same transaction as the change that raised
-- them. A dispatcher claims each row (available_at is its lease), hands the
-- event to the subscribers and marks it done; a failure or a crash leaves
-- it pending for a later attempt.
CREATE TABLE outbox_events (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    available_at TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    claimed_by   TEXT,
    done_at      TIMESTAMPTZ,
    last_error   TEXT
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (available_at, created_at) WHERE done_at IS NULL;
CREATE INDEX outbox_events_done_idx ON outbox_events (done_at) WHERE done_at IS NOT NULL;

-- One notification per event and recipient, however often the event is
-- dispatched.
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (dedupe_key);

-- +goose Down
DROP INDEX notifications_dedupe_key;
ALTER TABLE notifications DROP COLUMN dedupe_key;
DROP TABLE outbox_events;
