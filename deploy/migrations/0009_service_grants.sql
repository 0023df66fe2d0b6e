-- Least privilege for the services' roles (created by 0005) on the tables of 0001 and 0002.
-- The case service writes the case tables and reads the organisation and catalogue it keeps;
-- the forecast service reads what it projects from and writes only its own tables (milestone
-- targets, dialogues and their cases). Neither deletes anything, and neither can change the
-- schema (the migrations run as the database owner). Tables made by later migrations grant
-- their own privileges. The forecast service reads case_event to catch up by event id after a
-- lost connection (its change listener's marks).

-- case service
GRANT SELECT ON job_centre, org_unit, staff, catalogue_entry, case_field, cases, expectation,
  action, action_follow_up, assignment, status_change, field_change, case_event, idempotency_key,
  dialogue
  TO forecast_case_service;
GRANT INSERT, UPDATE ON cases, expectation, action, idempotency_key, catalogue_entry, case_field
  TO forecast_case_service;
GRANT INSERT ON action_follow_up, assignment, status_change, field_change, case_event, org_unit,
  staff
  TO forecast_case_service;
GRANT USAGE ON SEQUENCE org_unit_id_seq, staff_id_seq, cases_id_seq, expectation_id_seq,
  action_id_seq, action_follow_up_id_seq, assignment_id_seq, status_change_id_seq,
  field_change_id_seq, case_event_id_seq
  TO forecast_case_service;

-- forecast service
GRANT SELECT ON job_centre, org_unit, staff, catalogue_entry, case_field, cases, expectation,
  action, action_follow_up, assignment, status_change, field_change, case_event,
  milestone_metric, milestone_target, dialogue, dialogue_case
  TO forecast_forecast_service;
GRANT INSERT ON milestone_target, dialogue, dialogue_case TO forecast_forecast_service;
GRANT USAGE ON SEQUENCE milestone_target_id_seq, dialogue_id_seq TO forecast_forecast_service;
