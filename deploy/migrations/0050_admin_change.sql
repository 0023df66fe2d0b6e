-- The set-up audit trail (issue 13): every change an administrator makes to the job centre's
-- set-up - organisation units, staff, catalogue entries, case fields, milestone metrics - is one
-- row here, in the same transaction as the change: who (staff_id; NULL for the operator's
-- forecast-admin, which has no staff member behind it), when, through which call, what (the
-- target's kind and code) and the values before and after, as JSON. Owned by the case service
-- (the set-up service), which writes it and reads it back for CaseService.ListAdminChanges.
-- Append-only: the service's role may not change or delete a row.
CREATE TABLE admin_change (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  changed_at     timestamptz NOT NULL DEFAULT now(),
  staff_id       bigint REFERENCES staff(id),
  call           text NOT NULL CHECK (length(call) BETWEEN 1 AND 200),
  target_kind    text NOT NULL CHECK (target_kind IN ('ORG_UNIT', 'STAFF', 'CATALOGUE_ENTRY',
                                                       'CASE_FIELD', 'MILESTONE_METRIC')),
  target_code    text NOT NULL,
  before         jsonb,  -- NULL when the target was new
  after          jsonb NOT NULL
);
CREATE INDEX admin_change_by_centre ON admin_change (job_centre_id, id);

GRANT SELECT, INSERT ON admin_change TO forecast_case_service;
GRANT USAGE ON SEQUENCE admin_change_id_seq TO forecast_case_service;

-- Administrators rename and move units and change staff (name, role, team, active) through the
-- case service; 0009 granted inserts only. Codes, kinds and job centres never change.
GRANT UPDATE (name, parent_id) ON org_unit TO forecast_case_service;
GRANT UPDATE (display_name, role, team_id, active) ON staff TO forecast_case_service;

-- Administrators add and change milestone metrics through the case service, with the rest of the
-- set-up (a metric names the case fields and outcome groups the case service keeps); the forecast
-- service reads them and counts them.
GRANT SELECT, INSERT ON milestone_metric TO forecast_case_service;
GRANT UPDATE (label_da, label_en, kind, outcome_group, field_code, choice, higher_is_better,
  sort_order, active) ON milestone_metric TO forecast_case_service;

-- A changed metric must reach the forecast service's caches at once, as catalogue changes do.
CREATE TRIGGER milestone_metric_notify AFTER INSERT OR UPDATE OR DELETE ON milestone_metric
  FOR EACH ROW EXECUTE FUNCTION notify_centre_reference_change();
