-- Announce case events per statement instead of per row. A single write inserts one event and
-- still sends exactly the payload 0001 defined (job_centre_id, case_id, team_id, version,
-- event_id, kind). A bulk statement (a history import: tens of thousands of events) sends one
-- notification per job centre instead, without case_id:
--   {"job_centre_id": 1, "kind": "BULK", "events": 120000, "first_event_id": 7, "last_event_id": 120006}
-- so listeners reload that job centre once rather than handling every row; and the import does not
-- spend its time in a row trigger.
DROP TRIGGER case_event_notify ON case_event;
DROP FUNCTION notify_case_event();

CREATE FUNCTION notify_case_events() RETURNS trigger AS $$
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM inserted LIMIT 101) AS probe) <= 100 THEN
    PERFORM pg_notify('case_changed', json_build_object(
      'job_centre_id', i.job_centre_id, 'case_id', i.case_id, 'team_id', c.team_id,
      'version', i.case_version, 'event_id', i.id, 'kind', i.kind)::text)
    FROM inserted i JOIN cases c ON c.id = i.case_id
    ORDER BY i.id;
  ELSE
    PERFORM pg_notify('case_changed', json_build_object(
      'job_centre_id', job_centre_id, 'kind', 'BULK', 'events', count(*),
      'first_event_id', min(id), 'last_event_id', max(id))::text)
    FROM inserted
    GROUP BY job_centre_id;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER case_event_notify AFTER INSERT ON case_event
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION notify_case_events();
