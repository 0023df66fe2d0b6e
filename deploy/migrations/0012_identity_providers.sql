-- Single sign-on: each job centre's OpenID Connect providers, and the nonces already accepted
-- (an ID token's nonce is accepted once; rows are kept until the token could no longer be valid).
CREATE TABLE identity_provider (
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  id             text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,32}$'),
  display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  issuer         text NOT NULL CHECK (issuer ~ '^https?://[^\s]+$'),
  client_id      text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
  staff_claim    text NOT NULL CHECK (staff_claim ~ '^[A-Za-z0-9_:.-]{1,64}$'),
  enabled        boolean NOT NULL DEFAULT true,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_centre_id, id)
);

CREATE TABLE sso_nonce (
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  provider_id    text NOT NULL,
  nonce_hash     bytea NOT NULL,  -- SHA-256 of the nonce
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (job_centre_id, provider_id, nonce_hash)
);
CREATE INDEX sso_nonce_expires ON sso_nonce (expires_at);

GRANT SELECT, INSERT, UPDATE ON identity_provider TO forecast_case_service;
GRANT SELECT, INSERT, DELETE ON sso_nonce TO forecast_case_service;
