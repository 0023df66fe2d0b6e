-- Job centres, organisation, staff, catalogues and cases with their append-only history.
-- Owned by the case service. Every change to a case is a row in an append-only table plus the
-- current-state row in `cases`; `case_event` is the unified audit trail and drives NOTIFY.

CREATE TABLE job_centre (
  id          bigserial PRIMARY KEY,
  code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{1,32}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_unit (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  code           text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,32}$'),
  name           text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('DEPARTMENT', 'TEAM')),
  parent_id      bigint REFERENCES org_unit(id),
  UNIQUE (job_centre_id, code)
);

CREATE TABLE staff (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  code           text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
  display_name   text NOT NULL DEFAULT '',
  role           text NOT NULL CHECK (role IN ('CASEWORKER', 'TEAM_LEADER', 'MANAGER', 'ADMIN')),
  team_id        bigint REFERENCES org_unit(id),
  active         boolean NOT NULL DEFAULT true,
  UNIQUE (job_centre_id, code)
);

-- Case types, outcomes and risks, per job centre.
CREATE TABLE catalogue_entry (
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  kind           text NOT NULL CHECK (kind IN ('CASE_TYPE', 'OUTCOME', 'RISK')),
  code           text NOT NULL CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
  label_da       text NOT NULL,
  label_en       text NOT NULL,
  sort_order     int NOT NULL DEFAULT 0,
  active         boolean NOT NULL DEFAULT true,
  outcome_group  text NOT NULL DEFAULT '',
  probability    double precision NOT NULL DEFAULT 0 CHECK (probability >= 0 AND probability <= 1),
  PRIMARY KEY (job_centre_id, kind, code)
);

-- The job centre's own case fields ("has a CV", readiness segment, ...).
CREATE TABLE case_field (
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,32}$'),
  label_da       text NOT NULL,
  label_en       text NOT NULL,
  field_type     text NOT NULL CHECK (field_type IN ('BOOL', 'NUMBER', 'CHOICE', 'DATE')),
  choices        text[] NOT NULL DEFAULT '{}',
  sort_order     int NOT NULL DEFAULT 0,
  active         boolean NOT NULL DEFAULT true,
  PRIMARY KEY (job_centre_id, code)
);

-- Current state of each case. case_ref is the case system's reference, never a CPR number.
CREATE TABLE cases (
  id                 bigserial PRIMARY KEY,
  job_centre_id      bigint NOT NULL REFERENCES job_centre(id),
  case_ref           text NOT NULL,
  case_type          text NOT NULL,
  opened_on          date NOT NULL,
  caseworker_id      bigint NOT NULL REFERENCES staff(id),
  team_id            bigint NOT NULL REFERENCES org_unit(id),
  status             text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
  closed_on          date,
  closure_outcome    text,
  fields             jsonb NOT NULL DEFAULT '{}'::jsonb,
  current_expectation_id bigint,
  version            bigint NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_centre_id, case_ref)
);
CREATE INDEX cases_by_team ON cases (job_centre_id, team_id, status);
CREATE INDEX cases_by_caseworker ON cases (job_centre_id, caseworker_id, status);

-- Append-only: every expectation ever recorded. The case's current one is the latest.
CREATE TABLE expectation (
  id                  bigserial PRIMARY KEY,
  job_centre_id       bigint NOT NULL REFERENCES job_centre(id),
  case_id             bigint NOT NULL REFERENCES cases(id),
  expected_outcome    text NOT NULL,
  expected_month      date NOT NULL CHECK (extract(day FROM expected_month) = 1),
  risk                text NOT NULL,
  agreed_in_dialogue  boolean NOT NULL DEFAULT false,
  dialogue_id         bigint,
  note                text NOT NULL DEFAULT '',
  recorded_by         bigint NOT NULL REFERENCES staff(id),
  recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX expectation_by_case ON expectation (case_id, recorded_at);
CREATE INDEX expectation_by_centre_time ON expectation (job_centre_id, recorded_at);
ALTER TABLE cases ADD CONSTRAINT cases_current_expectation_fk
  FOREIGN KEY (current_expectation_id) REFERENCES expectation(id);

-- Actions: the current state row; every follow-up is appended to action_follow_up.
CREATE TABLE action (
  id                  bigserial PRIMARY KEY,
  job_centre_id       bigint NOT NULL REFERENCES job_centre(id),
  case_id             bigint NOT NULL REFERENCES cases(id),
  description         text NOT NULL,
  owner_id            bigint NOT NULL REFERENCES staff(id),
  due_on              date NOT NULL,
  status              text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'DONE', 'NOT_DONE')),
  agreed_in_dialogue  boolean NOT NULL DEFAULT false,
  created_by          bigint NOT NULL REFERENCES staff(id),
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_by_case ON action (case_id);

CREATE TABLE action_follow_up (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  action_id      bigint NOT NULL REFERENCES action(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  result         text NOT NULL CHECK (result IN ('DONE', 'NOT_DONE', 'POSTPONED')),
  postponed_to   date,
  previous_due_on date NOT NULL,
  note           text NOT NULL DEFAULT '',
  recorded_by    bigint NOT NULL REFERENCES staff(id),
  recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_follow_up_by_action ON action_follow_up (action_id, recorded_at);

-- Who held the case from when: the first row is the assignment at opening.
CREATE TABLE assignment (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  caseworker_id  bigint NOT NULL REFERENCES staff(id),
  team_id        bigint NOT NULL REFERENCES org_unit(id),
  from_on        date NOT NULL,
  recorded_by    bigint NOT NULL REFERENCES staff(id),
  recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignment_by_case ON assignment (case_id, from_on);

-- Closures and reopenings, in order.
CREATE TABLE status_change (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  status         text NOT NULL CHECK (status IN ('CLOSED', 'REOPENED')),
  on_date        date NOT NULL,
  outcome        text,
  recorded_by    bigint NOT NULL REFERENCES staff(id),
  recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_change_by_case ON status_change (case_id, on_date);
CREATE INDEX status_change_by_centre ON status_change (job_centre_id, on_date);

-- Every change of a custom field value (value NULL when cleared), for as-of figures.
CREATE TABLE field_change (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  field_code     text NOT NULL,
  value          jsonb,
  effective_on   date NOT NULL,
  recorded_by    bigint NOT NULL REFERENCES staff(id),
  recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX field_change_by_case ON field_change (case_id, effective_on);

-- The unified audit trail: who changed what, when. One row per case version.
CREATE TABLE case_event (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  case_version   bigint NOT NULL,
  kind           text NOT NULL,
  actor_id       bigint NOT NULL REFERENCES staff(id),
  effective_on   date NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  summary        jsonb NOT NULL DEFAULT '{}'::jsonb,
  UNIQUE (case_id, case_version)
);
CREATE INDEX case_event_by_centre ON case_event (job_centre_id, id);

-- Retried writes: the first answer, kept so that a retry returns it again.
CREATE TABLE idempotency_key (
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  key            text NOT NULL,
  method         text NOT NULL,
  request_hash   text NOT NULL,
  response       bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_centre_id, key)
);

-- Tell listeners (the forecast service) about every committed change; delivered on commit.
CREATE FUNCTION notify_case_event() RETURNS trigger AS $$
DECLARE
  team bigint;
BEGIN
  SELECT team_id INTO team FROM cases WHERE id = NEW.case_id;
  PERFORM pg_notify('case_changed', json_build_object(
    'job_centre_id', NEW.job_centre_id, 'case_id', NEW.case_id, 'team_id', team,
    'version', NEW.case_version, 'event_id', NEW.id, 'kind', NEW.kind)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER case_event_notify AFTER INSERT ON case_event
  FOR EACH ROW EXECUTE FUNCTION notify_case_event();

-- The default catalogue a new job centre starts with (DESIGN.md, "Interchange formats").
CREATE FUNCTION seed_default_catalogue(centre bigint) RETURNS void AS $$
BEGIN
  INSERT INTO catalogue_entry (job_centre_id, kind, code, label_da, label_en, sort_order) VALUES
    (centre, 'CASE_TYPE', 'SDP', 'Sygedagpenge', 'Sickness benefit', 1),
    (centre, 'CASE_TYPE', 'JAF', 'Jobafklaringsforløb', 'Job clarification course', 2),
    (centre, 'CASE_TYPE', 'RF',  'Ressourceforløb', 'Resource course', 3),
    (centre, 'CASE_TYPE', 'KHJ', 'Kontanthjælp, jobparat', 'Social assistance, job-ready', 4),
    (centre, 'CASE_TYPE', 'KHA', 'Kontanthjælp, aktivitetsparat', 'Social assistance, activity-ready', 5),
    (centre, 'CASE_TYPE', 'DP',  'A-dagpenge', 'Unemployment insurance benefit', 6),
    (centre, 'CASE_TYPE', 'UDH', 'Uddannelseshjælp', 'Education benefit', 7),
    (centre, 'CASE_TYPE', 'INT', 'Integrationsydelse', 'Integration benefit', 8);
  INSERT INTO catalogue_entry (job_centre_id, kind, code, label_da, label_en, sort_order, outcome_group) VALUES
    (centre, 'OUTCOME', 'ORDINARY_JOB', 'Ordinært job', 'Ordinary job', 1, 'JOB'),
    (centre, 'OUTCOME', 'SMALL_JOB', 'Ordinære timer / småjob', 'Ordinary hours / small job', 2, 'JOB'),
    (centre, 'OUTCOME', 'FLEX_JOB', 'Fleksjob', 'Flex job', 3, 'FLEX_JOB'),
    (centre, 'OUTCOME', 'EDUCATION', 'Uddannelse', 'Education', 4, 'EDUCATION'),
    (centre, 'OUTCOME', 'DECLARED_FIT', 'Raskmeldt', 'Declared fit', 5, 'JOB'),
    (centre, 'OUTCOME', 'DISABILITY_PENSION', 'Førtidspension', 'Disability pension', 6, 'PENSION'),
    (centre, 'OUTCOME', 'OTHER_BENEFIT', 'Overgået til anden ydelse', 'Moved to another benefit', 7, 'BENEFIT'),
    (centre, 'OUTCOME', 'OTHER', 'Andet', 'Other', 8, 'OTHER');
  INSERT INTO catalogue_entry (job_centre_id, kind, code, label_da, label_en, sort_order, probability) VALUES
    (centre, 'RISK', 'LOW', 'Lav', 'Low', 1, 0.85),
    (centre, 'RISK', 'MEDIUM', 'Middel', 'Medium', 2, 0.60),
    (centre, 'RISK', 'HIGH', 'Høj', 'High', 3, 0.35);
END;
$$ LANGUAGE plpgsql;
