-- Owned by the forecast service: monthly milestone metrics and targets, and the monthly
-- dialogue between a team leader and a caseworker. Targets are append-only (the one in force
-- for a team, caseworker, metric and month is the latest set), so milestone tables can be
-- recomputed as of any past date.

-- Which milestone metrics a job centre tracks. kind:
--   CLOSURES           cases closed in the month (outcome_group empty: every outcome)
--   FIELD_TURNED_TRUE  cases whose yes/no field `field_code` turned true in the month
--                      (e.g. 'in_internship': cases starting a company internship)
--   FIELD_SET          open cases at the end of the month with `field_code` set
--                      (true for yes/no fields, equal to `choice` for choice fields)
--   CASELOAD           open cases at the end of the month (lower is better)
CREATE TABLE milestone_metric (
  job_centre_id     bigint NOT NULL REFERENCES job_centre(id),
  code              text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,48}$'),
  label_da          text NOT NULL,
  label_en          text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('CLOSURES', 'FIELD_TURNED_TRUE', 'FIELD_SET', 'CASELOAD')),
  outcome_group     text NOT NULL DEFAULT '',
  field_code        text NOT NULL DEFAULT '',
  choice            text NOT NULL DEFAULT '',
  higher_is_better  boolean NOT NULL DEFAULT true,
  sort_order        int NOT NULL DEFAULT 0,
  active            boolean NOT NULL DEFAULT true,
  PRIMARY KEY (job_centre_id, code),
  CHECK (kind NOT IN ('FIELD_TURNED_TRUE', 'FIELD_SET') OR field_code <> '')
);

-- Append-only: every target ever set. caseworker_id NULL means the whole team.
CREATE TABLE milestone_target (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  team_id        bigint NOT NULL REFERENCES org_unit(id),
  caseworker_id  bigint REFERENCES staff(id),
  metric_code    text NOT NULL,
  month          date NOT NULL CHECK (extract(day FROM month) = 1),
  target         double precision NOT NULL CHECK (target >= 0),
  set_by         bigint NOT NULL REFERENCES staff(id),
  set_at         timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (job_centre_id, metric_code) REFERENCES milestone_metric(job_centre_id, code)
);
CREATE INDEX milestone_target_by_team ON milestone_target (job_centre_id, team_id, month, set_at);

-- The monthly dialogue. team_leader_id is whoever recorded it (team leader or manager).
CREATE TABLE dialogue (
  id               bigserial PRIMARY KEY,
  job_centre_id    bigint NOT NULL REFERENCES job_centre(id),
  team_id          bigint NOT NULL REFERENCES org_unit(id),
  team_leader_id   bigint NOT NULL REFERENCES staff(id),
  caseworker_id    bigint NOT NULL REFERENCES staff(id),
  held_on          date NOT NULL,
  notes_status     text NOT NULL DEFAULT '',
  notes_knowledge  text NOT NULL DEFAULT '',
  notes_learning   text NOT NULL DEFAULT '',
  notes_adjustment text NOT NULL DEFAULT '',
  idempotency_key  text,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dialogue_by_caseworker ON dialogue (job_centre_id, caseworker_id, held_on);
CREATE INDEX dialogue_by_team ON dialogue (job_centre_id, team_id, held_on);
CREATE UNIQUE INDEX dialogue_idempotency ON dialogue (job_centre_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The cases discussed in a dialogue.
CREATE TABLE dialogue_case (
  dialogue_id  bigint NOT NULL REFERENCES dialogue(id),
  case_id      bigint NOT NULL REFERENCES cases(id),
  PRIMARY KEY (dialogue_id, case_id)
);

-- Milestones and dialogues change figures too: tell the forecast service's listeners.
CREATE FUNCTION notify_forecast_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('forecast_changed', json_build_object(
    'job_centre_id', NEW.job_centre_id, 'team_id', NEW.team_id, 'kind', TG_TABLE_NAME)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER milestone_target_notify AFTER INSERT ON milestone_target
  FOR EACH ROW EXECUTE FUNCTION notify_forecast_change();
CREATE TRIGGER dialogue_notify AFTER INSERT ON dialogue
  FOR EACH ROW EXECUTE FUNCTION notify_forecast_change();

-- The default metrics a job centre starts with; metrics on fields the centre does not define
-- simply count nothing until it does.
CREATE FUNCTION seed_default_milestone_metrics(centre bigint) RETURNS void AS $$
BEGIN
  INSERT INTO milestone_metric (job_centre_id, code, label_da, label_en, kind, outcome_group,
                                field_code, choice, higher_is_better, sort_order) VALUES
    (centre, 'closures', 'Afsluttede sager', 'Closed cases', 'CLOSURES', '', '', '', true, 1),
    (centre, 'closures_job', 'Afsluttet til job', 'Closed to a job', 'CLOSURES', 'JOB', '', '', true, 2),
    (centre, 'closures_education', 'Afsluttet til uddannelse', 'Closed to education', 'CLOSURES', 'EDUCATION', '', '', true, 3),
    (centre, 'closures_flex_job', 'Afsluttet til fleksjob', 'Closed to a flex job', 'CLOSURES', 'FLEX_JOB', '', '', true, 4),
    (centre, 'internship_starts', 'Starter i virksomhedspraktik', 'Starting a company internship', 'FIELD_TURNED_TRUE', '', 'in_internship', '', true, 5),
    (centre, 'has_cv', 'Har CV', 'Has a CV', 'FIELD_SET', '', 'has_cv', '', true, 6),
    (centre, 'caseload', 'Sagsstamme', 'Caseload', 'CASELOAD', '', '', '', false, 7)
  ON CONFLICT DO NOTHING;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION seed_milestone_metrics_on_new_centre() RETURNS trigger AS $$
BEGIN
  PERFORM seed_default_milestone_metrics(NEW.id);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER job_centre_milestone_metrics AFTER INSERT ON job_centre
  FOR EACH ROW EXECUTE FUNCTION seed_milestone_metrics_on_new_centre();

SELECT seed_default_milestone_metrics(id) FROM job_centre;
