-- Issue 10: a call of case_record_expectations() writes its plain expectations in one statement.
--
-- 0120 ran case_record_expectation() once per write, each in a subtransaction: per write five
-- statements, each with its executor start-up and plan-cache lookup, and a subtransaction. In one
-- backend (1,000 writes in a rolled-back transaction, 2026-12-03) that took 380-520 us per write
-- in calls of 2 and 385-430 in calls of 8. One statement for all the plain writes of a call (no
-- dialogue, not agreed in one: the caseworker's own update, by far the most common write), with
-- data-modifying CTEs, took 357-457 and 256-297.
--
-- The same checks as case_record_expectation() (0115), on the same rows:
-- - the case by (centre, case_ref), the caller's scope, base version, OPEN, month not before the
--   case's opening: a write failing any is refused with 'fallback: ...' to the service's general
--   path, which tells the caller why;
-- - the UPDATE of cases checks the version again on the row as it now stands (a concurrent writer
--   may have committed since the statement's snapshot), and only the writes it updated insert
--   their expectation, event and key;
-- - the expectation's id is drawn before the UPDATE names it as current; foreign keys are checked
--   at the statement's end, when the expectation rows exist;
-- - the answers are returned only after the statement, with its checks, finished: an error
--   anywhere rolls the statement back (one subtransaction per call), and then every write of the
--   call runs alone through 0120's function, which sorts out whose key or deadlock it was.
-- Writes in a dialogue, or marked agreed, go through 0120's function too.

-- 0120's function stays, under a new name, for the writes that go one by one (its grant holds).
ALTER FUNCTION case_record_expectations(jsonb) RENAME TO case_record_expectations_each;

CREATE FUNCTION case_record_expectations(p_writes jsonb)
RETURNS TABLE (i int, answer text, refusal text) AS $$
DECLARE
  done_i int[];
  done_answer text[];
  done_refusal text[];
  set_ok boolean := false;
  rest jsonb;
BEGIN
  -- The plain writes (no dialogue, not agreed in one) in one statement; a case's second write in
  -- the same call is refused to the general path, as a concurrent writer's would be.
  BEGIN
    WITH ws AS (
      SELECT * FROM jsonb_to_recordset(p_writes) AS x(
          i int, centre bigint, case_ref text, base_version bigint, actor bigint, all_cases boolean,
          team bigint, staff bigint, key text, method text, hash text, outcome text, month date,
          risk text, agreed boolean, dialogue bigint, note text, effective_on date)
      WHERE x.dialogue = 0 AND NOT x.agreed),
    firsts AS (
      SELECT DISTINCT ON (ws.centre, ws.case_ref) ws.* FROM ws ORDER BY ws.centre, ws.case_ref, ws.i),
    target AS (
      SELECT f.*, k.id AS case_id, k.case_type, k.opened_on, k.fields, s.code AS caseworker,
             u.code AS team_code, wr.code AS writer,
             coalesce(o.open_count, 0) AS open_count,
             coalesce(o.open_actions, '[]'::jsonb) AS open_actions,
             nextval('expectation_id_seq') AS expectation_id
        FROM firsts f
        JOIN cases k ON k.job_centre_id = f.centre AND k.case_ref = f.case_ref
        JOIN staff s ON s.id = k.caseworker_id JOIN org_unit u ON u.id = k.team_id
        JOIN staff wr ON wr.id = f.actor
        LEFT JOIN case_open_actions o ON o.case_id = k.id
       WHERE (f.all_cases OR k.team_id = f.team OR k.caseworker_id = f.staff)
         AND k.version = f.base_version AND k.status = 'OPEN'
         AND f.month >= date_trunc('month', k.opened_on)::date),
    moved AS (
      UPDATE cases c SET version = c.version + 1, updated_at = now(),
                         current_expectation_id = t.expectation_id
        FROM target t
       WHERE c.id = t.case_id AND c.version = t.base_version AND c.status = 'OPEN'
      RETURNING t.i, c.version AS new_version, c.updated_at),
    done AS (
      SELECT t.*, m.new_version, m.updated_at,
             case_answer_document(
               t.case_ref, t.case_type, t.opened_on, t.caseworker, t.team_code, 'OPEN', NULL, NULL,
               m.new_version, t.fields, m.updated_at,
               case_expectation_document(t.expectation_id, t.outcome, t.month, t.risk, false, 0,
                                         t.note, t.writer, now()),
               t.open_actions, t.open_count) AS doc
        FROM target t JOIN moved m ON m.i = t.i),
    expectations AS (
      INSERT INTO expectation (id, job_centre_id, case_id, expected_outcome, expected_month, risk,
                               agreed_in_dialogue, dialogue_id, note, recorded_by)
      SELECT d.expectation_id, d.centre, d.case_id, d.outcome, d.month, d.risk, false, NULL, d.note,
             d.actor FROM done d),
    events AS (
      INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on,
                              summary)
      SELECT d.centre, d.case_id, d.new_version, 'EXPECTATION', d.actor, d.effective_on,
             jsonb_build_object('expected_outcome', d.outcome,
                                'expected_month', to_char(d.month, 'YYYY-MM'), 'risk', d.risk,
                                'agreed_in_dialogue', false, 'dialogue_id', 0)
        FROM done d),
    keys AS (
      INSERT INTO idempotency_key (job_centre_id, key, method, request_hash, response, response_json)
      SELECT d.centre, d.actor::text || ':' || d.key, d.method, d.hash, ''::bytea, d.doc
        FROM done d WHERE d.key <> '')
    SELECT array_agg(ws.i), array_agg((d.doc || jsonb_build_object('case_id', d.case_id))::text),
           array_agg(CASE WHEN d.i IS NOT NULL THEN NULL
                          WHEN f.i IS NULL THEN 'fallback: the case''s second write in one call'
                          ELSE 'fallback: the case does not take this write as it stands' END)
      INTO done_i, done_answer, done_refusal
      FROM ws LEFT JOIN firsts f ON f.i = ws.i LEFT JOIN done d ON d.i = ws.i;
    set_ok := true;
  EXCEPTION WHEN OTHERS THEN
    -- A key already stored, a deadlock, a concurrent change the statement cannot settle: every
    -- write of the call is tried again alone below, which tells each write's reason apart.
    set_ok := false;
  END;
  -- Returned only once the statement, with its foreign-key checks, has finished.
  IF NOT set_ok THEN
    RETURN QUERY SELECT * FROM case_record_expectations_each(p_writes);
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM unnest(done_i, done_answer, done_refusal);
  -- The rest one by one.
  SELECT jsonb_agg(x) INTO rest FROM jsonb_array_elements(p_writes) x
   WHERE (x->>'dialogue')::bigint <> 0 OR (x->>'agreed')::boolean;
  IF rest IS NOT NULL THEN
    RETURN QUERY SELECT * FROM case_record_expectations_each(rest);
  END IF;
END;
$$ LANGUAGE plpgsql;

REVOKE ALL ON FUNCTION case_record_expectations(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION case_record_expectations(jsonb) TO forecast_case_service;
