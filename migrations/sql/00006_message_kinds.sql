-- +goose Up
-- A room's history also records what happened in it: calls that ended
-- (kind "call") and consultation steps (kind "system"); meta holds their
-- JSON details.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT '';
UPDATE messages SET kind = 'attachment' WHERE attachment_id IS NOT NULL;
-- When a call was answered, for its duration.
ALTER TABLE call_states ADD COLUMN accepted_at TIMESTAMPTZ;
-- The language a user reads notifications and mails in.
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';

-- +goose Down
ALTER TABLE users DROP COLUMN locale;
ALTER TABLE call_states DROP COLUMN accepted_at;
ALTER TABLE messages DROP COLUMN meta;
ALTER TABLE messages DROP COLUMN kind;
