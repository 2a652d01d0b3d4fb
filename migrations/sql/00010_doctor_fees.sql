-- +goose Up
-- A doctor's consultation fee in minor units of an ISO 4217 currency
-- (0: free).
ALTER TABLE doctor_profiles ADD COLUMN fee_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE doctor_profiles ADD COLUMN fee_currency TEXT NOT NULL DEFAULT 'EUR';

-- +goose Down
ALTER TABLE doctor_profiles DROP COLUMN fee_currency;
ALTER TABLE doctor_profiles DROP COLUMN fee_amount;
