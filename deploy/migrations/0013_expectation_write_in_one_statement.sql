-- Writes at database speed (issue 10), owned by the case service.
--
-- 1. RecordExpectation in one statement: case_record_expectation() checks what the database
--    knows (the case exists in the job centre, the caller's write filter covers it, it is at the
--    base version, open, opened no later than the expected month, a dialogue_id names a dialogue
--    of the job centre held with the case's caseworker, the idempotency key is new),
--    appends the expectation, moves the case (version, current expectation, updated_at) in one
--    UPDATE, appends the case_event (which sends the NOTIFY) and returns the case after the
--    change as JSON, stored as the idempotent answer in the same transaction. When any check
--    fails it raises 'fallback: ...' and nothing is written: the service then takes its general
--    path, which finds and words the precise error.
-- 2. History rows by (case_id, id), so that a reader (the forecast service) can read only the rows
--    of a case newer than the last it applied, whatever the length of the case's history.

-- Answers stored by SQL functions (the case as JSON); `response` stays '' for them.
ALTER TABLE idempotency_key ADD COLUMN response_json jsonb;

CREATE INDEX expectation_by_case_id ON expectation (case_id, id);
CREATE INDEX assignment_by_case_id ON assignment (case_id, id);
CREATE INDEX status_change_by_case_id ON status_change (case_id, id);
CREATE INDEX action_by_case_id ON action (case_id, id);
CREATE INDEX action_follow_up_by_case_id ON action_follow_up (case_id, id);
CREATE INDEX field_change_by_case_id ON field_change (case_id, id);

-- The case as the API shows it (forecast.v1.Case without the typed fields: `fields` is the raw
-- jsonb object), with open actions and their follow-ups. Timestamps in RFC 3339 UTC.
CREATE FUNCTION case_answer_json(p_case bigint) RETURNS jsonb AS $$
  SELECT jsonb_build_object(
    'case_ref', c.case_ref, 'case_type', c.case_type, 'opened_on', c.opened_on::text,
    'caseworker', s.code, 'team', u.code, 'status', c.status,
    'closed_on', coalesce(c.closed_on::text, ''), 'closure_outcome', coalesce(c.closure_outcome, ''),
    'version', c.version, 'fields', c.fields,
    'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'expectation', (
      SELECT jsonb_build_object(
        'id', e.id, 'expected_outcome', e.expected_outcome,
        'expected_month', to_char(e.expected_month, 'YYYY-MM'), 'risk', e.risk,
        'agreed_in_dialogue', e.agreed_in_dialogue, 'dialogue_id', coalesce(e.dialogue_id, 0),
        'note', e.note, 'recorded_by', es.code,
        'recorded_at', to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      FROM expectation e JOIN staff es ON es.id = e.recorded_by
      WHERE e.id = c.current_expectation_id),
    'open_actions', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
        'id', a.id, 'description', a.description, 'owner', o.code, 'due_on', a.due_on::text,
        'status', a.status, 'created_by', cb.code,
        'created_at', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'agreed_in_dialogue', a.agreed_in_dialogue,
        'follow_ups', coalesce((
          SELECT jsonb_agg(jsonb_build_object(
            'result', f.result, 'postponed_to', coalesce(f.postponed_to::text, ''), 'note', f.note,
            'recorded_by', fs.code,
            'recorded_at', to_char(f.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
            ORDER BY f.recorded_at, f.id)
          FROM action_follow_up f JOIN staff fs ON fs.id = f.recorded_by
          WHERE f.action_id = a.id), '[]'::jsonb))
        ORDER BY a.id)
      FROM action a JOIN staff o ON o.id = a.owner_id JOIN staff cb ON cb.id = a.created_by
      WHERE a.case_id = c.id AND a.status = 'OPEN'), '[]'::jsonb))
  FROM cases c JOIN staff s ON s.id = c.caseworker_id JOIN org_unit u ON u.id = c.team_id
  WHERE c.id = p_case
$$ LANGUAGE sql STABLE;

-- p_all / p_team / p_staff: the caller's write filter (services/common/authorization.h,
-- CasesAccessible): every case of the job centre, or those of one team or held by one staff
-- member (0: none). p_key '' means no idempotency key.
CREATE FUNCTION case_record_expectation(
    p_centre bigint, p_case_ref text, p_base_version bigint, p_actor bigint,
    p_all boolean, p_team bigint, p_staff bigint,
    p_key text, p_method text, p_hash text,
    p_outcome text, p_month date, p_risk text, p_agreed boolean, p_dialogue bigint, p_note text,
    p_effective_on date)
RETURNS jsonb AS $$
DECLARE
  target record;
  new_expectation bigint;
  new_version bigint;
  answer jsonb;
BEGIN
  SELECT id, version, status, opened_on, team_id, caseworker_id INTO target
    FROM cases WHERE job_centre_id = p_centre AND case_ref = p_case_ref;
  IF NOT FOUND OR target.version <> p_base_version OR target.status <> 'OPEN'
     OR p_month < date_trunc('month', target.opened_on)::date
     OR NOT (p_all OR target.team_id = p_team OR target.caseworker_id = p_staff)
     OR (p_dialogue <> 0 AND NOT EXISTS (
           SELECT 1 FROM dialogue d WHERE d.id = p_dialogue AND d.job_centre_id = p_centre
             AND d.caseworker_id = target.caseworker_id)) THEN
    RAISE EXCEPTION 'fallback: the case does not take this write as it stands';
  END IF;
  INSERT INTO expectation (job_centre_id, case_id, expected_outcome, expected_month, risk,
                           agreed_in_dialogue, dialogue_id, note, recorded_by)
    VALUES (p_centre, target.id, p_outcome, p_month, p_risk, p_agreed, nullif(p_dialogue, 0),
            p_note, p_actor)
    RETURNING id INTO new_expectation;
  -- The version condition again: a concurrent writer may have committed since the read above.
  UPDATE cases SET version = version + 1, updated_at = now(),
                   current_expectation_id = new_expectation
    WHERE id = target.id AND version = p_base_version AND status = 'OPEN'
    RETURNING version INTO new_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'fallback: the case moved on concurrently';
  END IF;
  INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, summary)
    VALUES (p_centre, target.id, new_version, 'EXPECTATION', p_actor, p_effective_on,
            jsonb_build_object('expected_outcome', p_outcome,
                               'expected_month', to_char(p_month, 'YYYY-MM'), 'risk', p_risk,
                               'agreed_in_dialogue', p_agreed, 'dialogue_id', p_dialogue));
  answer := case_answer_json(target.id);
  IF p_key <> '' THEN
    -- Last, with the answer: a concurrent first attempt with the key makes this wait for its
    -- commit; a key already stored rolls everything back, and the general path replays it.
    INSERT INTO idempotency_key (job_centre_id, key, method, request_hash, response, response_json)
      VALUES (p_centre, p_key, p_method, p_hash, ''::bytea, answer) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'fallback: idempotency key already used';
    END IF;
  END IF;
  RETURN answer;
END;
$$ LANGUAGE plpgsql;

GRANT EXECUTE ON FUNCTION case_answer_json(bigint) TO forecast_case_service;
GRANT EXECUTE ON FUNCTION case_record_expectation(bigint, text, bigint, bigint, boolean, bigint,
    bigint, text, text, text, text, date, text, boolean, bigint, text, date)
  TO forecast_case_service;
