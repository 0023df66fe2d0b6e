-- The case service's read model (issue 10: one owner per table). The case service owns the case,
-- catalogue and organisation tables and is the only one that writes them; every other reader
-- (the forecast service, and the caller look-up and case-read log shared by both services) reads
-- them through the views of schema case_read_model, never the tables. Each view names its columns,
-- so a column added to a table stays private until it is added here, and dropping or renaming a
-- column that a reader depends on fails in this file's successor, in one place. The views are
-- simple (one table, no aggregates), so PostgreSQL inlines them: a read costs what the table read
-- cost. Notes and action descriptions are left out: the forecast service does not show them.
CREATE SCHEMA case_read_model;

CREATE VIEW case_read_model.job_centre AS
  SELECT id, code, name FROM public.job_centre;
CREATE VIEW case_read_model.org_unit AS
  SELECT id, job_centre_id, code, name, kind, parent_id FROM public.org_unit;
CREATE VIEW case_read_model.staff AS
  SELECT id, job_centre_id, code, display_name, role, team_id, active FROM public.staff;
CREATE VIEW case_read_model.catalogue_entry AS
  SELECT job_centre_id, kind, code, label_da, label_en, sort_order, active, outcome_group,
         probability
  FROM public.catalogue_entry;
CREATE VIEW case_read_model.case_field AS
  SELECT job_centre_id, code, label_da, label_en, field_type, choices, sort_order, active
  FROM public.case_field;
CREATE VIEW case_read_model.milestone_metric AS
  SELECT job_centre_id, code, label_da, label_en, kind, outcome_group, field_code, choice,
         higher_is_better, sort_order, active
  FROM public.milestone_metric;
CREATE VIEW case_read_model.cases AS
  SELECT id, job_centre_id, case_ref, case_type, opened_on, caseworker_id, team_id, status,
         closed_on, closure_outcome, fields, current_expectation_id, version, created_at,
         updated_at
  FROM public.cases;
CREATE VIEW case_read_model.expectation AS
  SELECT id, job_centre_id, case_id, expected_outcome, expected_month, risk, agreed_in_dialogue,
         dialogue_id, recorded_by, recorded_at
  FROM public.expectation;
CREATE VIEW case_read_model.action AS
  SELECT id, job_centre_id, case_id, owner_id, due_on, status, agreed_in_dialogue, created_by,
         created_at
  FROM public.action;
CREATE VIEW case_read_model.action_follow_up AS
  SELECT id, job_centre_id, action_id, case_id, result, postponed_to, previous_due_on,
         recorded_by, recorded_at
  FROM public.action_follow_up;
CREATE VIEW case_read_model.assignment AS
  SELECT id, job_centre_id, case_id, caseworker_id, team_id, from_on, recorded_by, recorded_at
  FROM public.assignment;
CREATE VIEW case_read_model.status_change AS
  SELECT id, job_centre_id, case_id, status, on_date, outcome, recorded_by, recorded_at
  FROM public.status_change;
CREATE VIEW case_read_model.field_change AS
  SELECT id, job_centre_id, case_id, field_code, value, effective_on, recorded_by, recorded_at
  FROM public.field_change;
-- written_xid is the row's xmin: the forecast service's catch-up after a lost connection finds the
-- events committed since its mark by transaction id as well as by event id (history_store.cc).
CREATE VIEW case_read_model.case_event AS
  SELECT id, job_centre_id, case_id, case_version, kind, actor_id, effective_on, recorded_at,
         xmin AS written_xid
  FROM public.case_event;

GRANT USAGE ON SCHEMA case_read_model TO forecast_case_service, forecast_forecast_service;
GRANT SELECT ON ALL TABLES IN SCHEMA case_read_model
  TO forecast_case_service, forecast_forecast_service;

-- The forecast service no longer reads the case service's tables themselves (granted by 0009).
REVOKE SELECT ON job_centre, org_unit, staff, catalogue_entry, case_field, milestone_metric, cases,
  expectation, action, action_follow_up, assignment, status_change, field_change, case_event
  FROM forecast_forecast_service;
