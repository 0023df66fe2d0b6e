-- Issue 10: the expectation write's answer, prepared once and read in one lookup.
--
-- 1. plpgsql, not LANGUAGE sql. A LANGUAGE sql function that PostgreSQL cannot inline is parsed
--    and planned again on every call (fmgr_sql keeps its plan only for the calling expression's
--    lifetime, and plpgsql evaluates `answer := case_answer_json(...)` in a per-transaction
--    state). Profiled under the write benchmark, that was 26% of all CPU on the machine. As
--    plpgsql, its queries' plans are prepared once per connection.
-- 2. No correlated sub-queries for the case as it usually is. The function of 0055 ran four
--    (expectation, open actions, each action's follow-ups, the count); called from pgbench on its
--    own, the write ran at 1,400/s with the answer and 1,830/s without. Here the case, its codes
--    and its current expectation are one join, the open actions are counted, and only a case
--    with open actions runs the query that lists them.
-- The answer is the same document, key for key.
CREATE OR REPLACE FUNCTION case_answer_json(p_case bigint) RETURNS jsonb AS $$
DECLARE
  c record;
  open_count bigint;
  open_actions jsonb := '[]'::jsonb;
BEGIN
  SELECT k.id, k.case_ref, k.case_type, k.opened_on, k.status, k.closed_on, k.closure_outcome,
         k.version, k.fields, k.updated_at, s.code AS caseworker, u.code AS team,
         e.id AS e_id, e.expected_outcome, e.expected_month, e.risk, e.agreed_in_dialogue,
         e.dialogue_id, e.note, es.code AS e_recorded_by, e.recorded_at
    INTO c
    FROM cases k JOIN staff s ON s.id = k.caseworker_id JOIN org_unit u ON u.id = k.team_id
    LEFT JOIN expectation e ON e.id = k.current_expectation_id
    LEFT JOIN staff es ON es.id = e.recorded_by
    WHERE k.id = p_case;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT count(*) INTO open_count FROM action WHERE case_id = p_case AND status = 'OPEN';
  IF open_count > 0 THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'id', a.id, 'description', a.description, 'owner', o.code, 'due_on', a.due_on::text,
             'status', a.status, 'created_by', cb.code,
             'created_at', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
             'agreed_in_dialogue', a.agreed_in_dialogue,
             'follow_ups', coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                 'result', f.result, 'postponed_to', coalesce(f.postponed_to::text, ''),
                 'note', f.note, 'recorded_by', fs.code,
                 'recorded_at', to_char(f.recorded_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                 ORDER BY f.recorded_at, f.id)
               FROM action_follow_up f JOIN staff fs ON fs.id = f.recorded_by
               WHERE f.action_id = a.id), '[]'::jsonb))
             ORDER BY a.due_on, a.id), '[]'::jsonb)
      INTO open_actions
      FROM (SELECT * FROM action
            WHERE case_id = p_case AND status = 'OPEN' ORDER BY due_on, id LIMIT 50) a
      JOIN staff o ON o.id = a.owner_id JOIN staff cb ON cb.id = a.created_by;
  END IF;
  RETURN jsonb_build_object(
    'case_ref', c.case_ref, 'case_type', c.case_type, 'opened_on', c.opened_on::text,
    'caseworker', c.caseworker, 'team', c.team, 'status', c.status,
    'closed_on', coalesce(c.closed_on::text, ''), 'closure_outcome', coalesce(c.closure_outcome, ''),
    'version', c.version, 'fields', c.fields,
    'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'expectation', CASE WHEN c.e_id IS NULL THEN NULL ELSE jsonb_build_object(
        'id', c.e_id, 'expected_outcome', c.expected_outcome,
        'expected_month', to_char(c.expected_month, 'YYYY-MM'), 'risk', c.risk,
        'agreed_in_dialogue', c.agreed_in_dialogue, 'dialogue_id', coalesce(c.dialogue_id, 0),
        'note', c.note, 'recorded_by', c.e_recorded_by,
        'recorded_at', to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      END,
    'open_actions', open_actions,
    'open_action_count', open_count);
END;
$$ LANGUAGE plpgsql STABLE;
