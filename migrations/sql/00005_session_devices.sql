-- +goose Up
-- Where a sign-in session came from, for the user's list of sessions.
ALTER TABLE refresh_tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (user_id, revoked_at);

-- +goose Down
DROP INDEX refresh_tokens_user_live_idx;
ALTER TABLE refresh_tokens DROP COLUMN ip;
ALTER TABLE refresh_tokens DROP COLUMN user_agent;
