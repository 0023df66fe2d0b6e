-- The one-statement write path (0013) keeps the authorisation rules of issue 8, in this order:
--   1. authorisation: the case is in the caller's job centre and the caller's write filter
--      covers it, before anything else is looked at (in particular no idempotency key);
--   2. the case takes the write (base version, open, expected month not before the opening);
--   3. a dialogue_id names a dialogue of the job centre held with the case's caseworker;
--   4. only a team leader (or a manager) marks an expectation agreed in dialogue without naming
--      the dialogue (services/case/case_rules.cc, CheckAgreedInDialogue; the role is the staff
--      member's own, read here);
--   5. idempotency keys are kept per caller: the key stored is '<staff id>:<client key>', as the
--      general path's keys (services/case/case_keeper.cc, Ticket), so a key another caller used
--      is simply another key and its existence never shows.
-- Any refusal raises 'fallback: ...' and writes nothing; the service's general path then finds
-- and words the precise error in the same order. Same signature as 0013: its grant still holds.
CREATE OR REPLACE FUNCTION case_record_expectation(
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
  IF NOT FOUND OR NOT (p_all OR target.team_id = p_team OR target.caseworker_id = p_staff) THEN
    RAISE EXCEPTION 'fallback: not a case this caller may write';
  END IF;
  IF target.version <> p_base_version OR target.status <> 'OPEN'
     OR p_month < date_trunc('month', target.opened_on)::date THEN
    RAISE EXCEPTION 'fallback: the case does not take this write as it stands';
  END IF;
  IF p_dialogue <> 0 AND NOT EXISTS (
       SELECT 1 FROM dialogue d WHERE d.id = p_dialogue AND d.job_centre_id = p_centre
         AND d.caseworker_id = target.caseworker_id) THEN
    RAISE EXCEPTION 'fallback: no such dialogue with the case''s caseworker';
  END IF;
  IF p_agreed AND p_dialogue = 0 AND NOT EXISTS (
       SELECT 1 FROM staff s WHERE s.id = p_actor AND s.job_centre_id = p_centre
         AND s.role IN ('TEAM_LEADER', 'MANAGER')) THEN
    RAISE EXCEPTION 'fallback: only a team leader marks an expectation agreed in dialogue';
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
      VALUES (p_centre, p_actor::text || ':' || p_key, p_method, p_hash, ''::bytea, answer)
      ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'fallback: idempotency key already used';
    END IF;
  END IF;
  RETURN answer;
END;
$$ LANGUAGE plpgsql;
