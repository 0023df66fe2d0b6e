-- Issue 10: the expectation write spent most of its database time re-planning its answer.
--
-- A LANGUAGE sql function that PostgreSQL cannot inline is parsed and planned again on every call
-- (fmgr_sql keeps its plan only for the calling expression's lifetime, and plpgsql evaluates
-- `answer := case_answer_json(...)` in a per-transaction state). Profiled under the write
-- benchmark, that parse and plan was 26% of all CPU on the machine and over half of
-- case_record_expectation's. As plpgsql, the query's plan is prepared once per connection and
-- reused. Same signature, same answer.
CREATE OR REPLACE FUNCTION case_answer_json(p_case bigint) RETURNS jsonb AS $$
BEGIN
  RETURN (
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
          ORDER BY a.due_on, a.id)
        FROM (SELECT * FROM action
              WHERE case_id = c.id AND status = 'OPEN' ORDER BY due_on, id LIMIT 50) a
        JOIN staff o ON o.id = a.owner_id JOIN staff cb ON cb.id = a.created_by), '[]'::jsonb),
      'open_action_count', (SELECT count(*) FROM action WHERE case_id = c.id AND status = 'OPEN'))
    FROM cases c JOIN staff s ON s.id = c.caseworker_id JOIN org_unit u ON u.id = c.team_id
    WHERE c.id = p_case
  );
END;
$$ LANGUAGE plpgsql STABLE;
