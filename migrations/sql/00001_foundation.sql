-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('patient', 'doctor', 'admin')),
    time_zone     TEXT NOT NULL DEFAULT 'UTC',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_created_idx ON users (role, created_at, id);

CREATE TABLE doctor_profiles (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    specialty  TEXT NOT NULL,
    bio        TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX doctor_profiles_specialty_idx ON doctor_profiles (specialty);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE audit_entries (
    id          TEXT PRIMARY KEY,
    actor_id    TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    details     JSONB,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_entries_created_idx ON audit_entries (created_at, id);
CREATE INDEX audit_entries_actor_idx ON audit_entries (actor_id, created_at);
CREATE INDEX audit_entries_target_idx ON audit_entries (target_type, target_id, created_at);

CREATE TABLE schedules (
    doctor_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone    TEXT NOT NULL,
    slot_minutes INTEGER NOT NULL,
    rules        JSONB NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE time_offs (
    id         TEXT PRIMARY KEY,
    doctor_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX time_offs_doctor_idx ON time_offs (doctor_id, starts_at);

CREATE TABLE appointments (
    id                     TEXT PRIMARY KEY,
    doctor_id              TEXT NOT NULL REFERENCES users (id),
    patient_id             TEXT NOT NULL REFERENCES users (id),
    starts_at              TIMESTAMPTZ NOT NULL,
    ends_at                TIMESTAMPTZ NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('booked', 'in_progress', 'completed', 'cancelled', 'no_show')),
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
-- The database judges double booking: one active appointment per doctor and start.
CREATE UNIQUE INDEX appointments_active_slot_key ON appointments (doctor_id, starts_at)
    WHERE status IN ('booked', 'in_progress');
CREATE INDEX appointments_doctor_idx ON appointments (doctor_id, starts_at, id);
CREATE INDEX appointments_patient_idx ON appointments (patient_id, starts_at, id);
CREATE INDEX appointments_status_idx ON appointments (status, starts_at);

-- +goose Down
DROP TABLE appointments;
DROP TABLE time_offs;
DROP TABLE schedules;
DROP TABLE audit_entries;
DROP TABLE refresh_tokens;
DROP TABLE doctor_profiles;
DROP TABLE users;
