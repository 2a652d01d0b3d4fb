-- +goose Up
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    read_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- One row per appointment and reminder offset: whoever inserts it sends
-- the reminder, so two schedulers never send one twice.
CREATE TABLE reminder_claims (
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    offset_seconds BIGINT NOT NULL,
    claimed_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (appointment_id, offset_seconds)
);

-- The call of a consultation room, visible to every node: ringing or
-- active; no row means idle.
CREATE TABLE call_states (
    appointment_id TEXT PRIMARY KEY REFERENCES appointments (id),
    call_id        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('ringing', 'active')),
    caller_id      TEXT NOT NULL REFERENCES users (id),
    media          TEXT NOT NULL,
    ring_deadline  TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE call_states;
DROP TABLE reminder_claims;
DROP TABLE notifications;
