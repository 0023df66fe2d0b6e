-- Issue 11, the dialogue record: an agreement is recorded only in a dialogue that is still open.
--
-- 1. expectation.dialogue_id references dialogue(id) (NOT VALID: the rows before this were
--    checked by the services). Besides naming a real dialogue, the foreign key's check locks the
--    dialogue row (FOR KEY SHARE) until the agreement commits, and FinaliseDialogue and
--    SaveDialogueNotes lock it FOR UPDATE: a finalisation is ordered before an agreement or
--    after it, never around it. The services' roles need no privilege on dialogue for this.
-- 2. case_record_expectation (the one-statement path of 0013/0035) refuses a dialogue_id naming
--    a FINAL dialogue, before writing and again after the insert has taken the lock (a
--    finalisation committed meanwhile is then visible). The refusal falls back to the general
--    path (services/case/pg_case_store.cc does the same check after its insert), which words it:
--    FAILED_PRECONDITION "DIALOGUE_FINAL". Otherwise as 0035; same signature, so its grant holds.
-- 3. dialogue_case_edit: cases taken off a draft's discussed and agreed lists (and put back),
--    written by the forecast service with a notes version (SaveDialogueNotes.remove_case_refs).
--    Append-only like the rest of the record: the latest row per dialogue and case says whether
--    the case is off the lists; agreements (expectations naming the dialogue) up to
--    up_to_expectation no longer count as agreed in it, while the case's own history keeps them.
ALTER TABLE expectation ADD CONSTRAINT expectation_dialogue_fk
  FOREIGN KEY (dialogue_id) REFERENCES dialogue(id) NOT VALID;

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
         AND d.caseworker_id = target.caseworker_id AND d.state = 'DRAFT') THEN
    RAISE EXCEPTION 'fallback: no such dialogue open with the case''s caseworker';
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
  -- The insert's foreign key check holds the dialogue row until commit; a finalisation that
  -- committed before it is visible to this later statement.
  IF p_dialogue <> 0 AND (SELECT d.state FROM dialogue d WHERE d.id = p_dialogue) <> 'DRAFT' THEN
    RAISE EXCEPTION 'fallback: the dialogue was finalised meanwhile';
  END IF;
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

CREATE TABLE dialogue_case_edit (
  id                 bigserial PRIMARY KEY,
  job_centre_id      bigint NOT NULL REFERENCES job_centre(id),
  dialogue_id        bigint NOT NULL REFERENCES dialogue(id),
  case_id            bigint NOT NULL REFERENCES cases(id),
  version            int NOT NULL,        -- the notes version saved with the edit
  removed            boolean NOT NULL,    -- true: off the lists; false: put back
  up_to_expectation  bigint NOT NULL DEFAULT 0,
  recorded_by        bigint NOT NULL REFERENCES staff(id),
  recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dialogue_case_edit_by_centre ON dialogue_case_edit (job_centre_id, dialogue_id, id);

GRANT SELECT, INSERT ON dialogue_case_edit TO forecast_forecast_service;
GRANT USAGE ON SEQUENCE dialogue_case_edit_id_seq TO forecast_forecast_service;
