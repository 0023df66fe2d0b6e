-- Identity (services/identity, hosted by the case service): each staff member's own password,
-- one-time set-up codes, and sign-in sessions. Secrets are never stored in clear: passwords as
-- Argon2id hashes (libsodium crypto_pwhash_str), set-up codes and session tokens as SHA-256 hex
-- (they are 80-256 random bits, so a fast hash suffices). Only the case service's role may
-- touch these tables.

CREATE TABLE credential (
  staff_id       bigint PRIMARY KEY REFERENCES staff(id),
  password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  changed_at     timestamptz NOT NULL
);

-- At most one live set-up code per staff member: issuing a new one replaces the old; redeeming
-- deletes it.
CREATE TABLE setup_code (
  staff_id    bigint PRIMARY KEY REFERENCES staff(id),
  code_hash   text NOT NULL,
  issued_by   bigint REFERENCES staff(id),
  issued_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);

CREATE TABLE session (
  id              bigserial PRIMARY KEY,
  token_hash      text NOT NULL UNIQUE,
  staff_id        bigint NOT NULL REFERENCES staff(id),
  method          text NOT NULL CHECK (method IN ('PASSWORD', 'SETUP_CODE', 'SSO')),
  client_address  text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL,
  last_used_at    timestamptz NOT NULL,   -- the idle timeout runs from here
  expires_at      timestamptz NOT NULL,   -- the absolute end
  ended_at        timestamptz             -- logout, password change, set-up code
);
CREATE INDEX session_live_by_staff ON session (staff_id) WHERE ended_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON credential, setup_code, session TO forecast_case_service;
GRANT USAGE, SELECT ON SEQUENCE session_id_seq TO forecast_case_service;
