-- Case-change notifications carry the time the change was written ("at", seconds since the
-- epoch, clock_timestamp() of the writing statement, just before its commit), so the forecast
-- service can measure how long a committed change takes to reach its figures
-- (jobcentre_forecast_change_lag_seconds). Otherwise as 0003.
CREATE OR REPLACE FUNCTION notify_case_events() RETURNS trigger AS $$
DECLARE
  at double precision := extract(epoch FROM clock_timestamp());
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM inserted LIMIT 101) AS probe) <= 100 THEN
    PERFORM pg_notify('case_changed', json_build_object(
      'job_centre_id', i.job_centre_id, 'case_id', i.case_id, 'team_id', c.team_id,
      'version', i.case_version, 'event_id', i.id, 'kind', i.kind, 'at', at)::text)
    FROM inserted i JOIN cases c ON c.id = i.case_id
    ORDER BY i.id;
  ELSE
    PERFORM pg_notify('case_changed', json_build_object(
      'job_centre_id', job_centre_id, 'kind', 'BULK', 'events', count(*),
      'first_event_id', min(id), 'last_event_id', max(id), 'at', at)::text)
    FROM inserted
    GROUP BY job_centre_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
