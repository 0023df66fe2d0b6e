-- Identity: the sign-in audit trail (append-only) and the failed sign-in counters behind the
-- growing delays and temporary lockouts. Only the case service's role may touch them.

CREATE TABLE auth_event (
  id              bigserial PRIMARY KEY,
  at              timestamptz NOT NULL,
  job_centre_id   bigint REFERENCES job_centre(id),  -- NULL when the job centre was unknown
  staff_id        bigint REFERENCES staff(id),       -- NULL when the account was unknown
  kind            text NOT NULL CHECK (kind IN ('LOGIN', 'LOGIN_FAILED', 'LOCKED_OUT', 'LOGOUT',
                    'PASSWORD_CHANGED', 'SETUP_CODE_ISSUED', 'SETUP_CODE_REDEEMED', 'SSO_LOGIN',
                    'SSO_REFUSED')),
  client_address  text NOT NULL DEFAULT '',
  detail          text NOT NULL DEFAULT ''           -- never a password, code or token
);
CREATE INDEX auth_event_by_centre ON auth_event (job_centre_id, id);
CREATE INDEX auth_event_by_staff ON auth_event (staff_id, id);

-- One row per throttled key: "account:<job centre>/<staff code>" (as typed, so unknown accounts
-- are throttled exactly like known ones) or "address:<client address>".
CREATE TABLE login_throttle (
  key              text PRIMARY KEY,
  failures         integer NOT NULL DEFAULT 0,
  last_failure_at  timestamptz,
  blocked_until    timestamptz,       -- no attempt is checked before this instant
  locked           boolean NOT NULL DEFAULT false  -- blocked_until is a lockout, not a delay
);

GRANT SELECT, INSERT ON auth_event TO forecast_case_service;
GRANT USAGE, SELECT ON SEQUENCE auth_event_id_seq TO forecast_case_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO forecast_case_service;
