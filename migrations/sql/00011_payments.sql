-- +goose Up
-- A paid booking holds its slot while the patient pays: status
-- pending_payment, counted by the double-booking index like an active one.
-- +only postgres
ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
    CHECK (status IN ('pending_payment', 'booked', 'in_progress', 'completed', 'cancelled', 'no_show'));
-- +only end
-- +only sqlite
-- SQLite cannot alter a CHECK constraint: the table is rebuilt. The rows
-- the other tables point at are gone only inside this transaction.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE appointments_copy AS SELECT * FROM appointments;
DROP TABLE appointments;
CREATE TABLE appointments (
    id                     TEXT PRIMARY KEY,
    doctor_id              TEXT NOT NULL REFERENCES users (id),
    patient_id             TEXT NOT NULL REFERENCES users (id),
    starts_at              TIMESTAMPTZ NOT NULL,
    ends_at                TIMESTAMPTZ NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('pending_payment', 'booked', 'in_progress', 'completed', 'cancelled', 'no_show')),
    reason                 TEXT NOT NULL DEFAULT '',
    cancel_reason          TEXT NOT NULL DEFAULT '',
    cancelled_by           TEXT NOT NULL DEFAULT '',
    last_seq               BIGINT NOT NULL DEFAULT 0,
    diagnosis_summary      TEXT,
    diagnosis_prescription TEXT,
    diagnosed_at           TIMESTAMPTZ,
    diagnosis_updated_at   TIMESTAMPTZ,
    started_at             TIMESTAMPTZ,
    completed_at           TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
INSERT INTO appointments SELECT * FROM appointments_copy;
DROP TABLE appointments_copy;
CREATE INDEX appointments_doctor_idx ON appointments (doctor_id, starts_at, id);
CREATE INDEX appointments_patient_idx ON appointments (patient_id, starts_at, id);
CREATE INDEX appointments_status_idx ON appointments (status, starts_at);
-- +only end
-- +only postgres
DROP INDEX appointments_active_slot_key;
-- +only end
CREATE UNIQUE INDEX appointments_active_slot_key ON appointments (doctor_id, starts_at)
    WHERE status IN ('pending_payment', 'booked', 'in_progress');

-- One payment per paid appointment. Amounts are integers in the currency's
-- minor units; provider_ref is the provider's id (a Stripe PaymentIntent).
CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    patient_id      TEXT NOT NULL REFERENCES users (id),
    doctor_id       TEXT NOT NULL REFERENCES users (id),
    provider        TEXT NOT NULL,
    provider_ref    TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'expired', 'cancelled', 'refund_pending', 'refunded')),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    currency        TEXT NOT NULL,
    client_secret   TEXT NOT NULL DEFAULT '',
    refunded_amount BIGINT NOT NULL DEFAULT 0,
    refund_ref      TEXT NOT NULL DEFAULT '',
    failure_reason  TEXT NOT NULL DEFAULT '',
    expires_at      TIMESTAMPTZ NOT NULL,
    paid_at         TIMESTAMPTZ,
    refunded_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX payments_appointment_key ON payments (appointment_id);
CREATE INDEX payments_provider_ref_idx ON payments (provider, provider_ref);
CREATE INDEX payments_patient_idx ON payments (patient_id, created_at, id);
CREATE INDEX payments_doctor_idx ON payments (doctor_id, created_at, id);
CREATE INDEX payments_created_idx ON payments (created_at, id);
-- The sweeper's work: holds to expire, refunds owed.
CREATE INDEX payments_status_idx ON payments (status, expires_at);

-- Provider events already handled, so a webhook delivered twice acts once.
CREATE TABLE payment_events (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    type        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE payment_events;
DROP TABLE payments;
DROP INDEX appointments_active_slot_key;
CREATE UNIQUE INDEX appointments_active_slot_key ON appointments (doctor_id, starts_at)
    WHERE status IN ('booked', 'in_progress');
