-- +goose Up
-- A patient's request to delete their account, until an admin confirms it
-- (the account is then anonymised; consultations stay as medical records).
ALTER TABLE users ADD COLUMN deletion_requested_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN anonymised_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE users DROP COLUMN anonymised_at;
ALTER TABLE users DROP COLUMN deletion_requested_at;
