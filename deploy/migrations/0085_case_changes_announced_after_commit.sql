-- Issue 10: writes commit in parallel.
--
-- PostgreSQL serialises the commits of every transaction that sent a NOTIFY on one
-- database-wide lock, held through the commit's WAL flush (async.c, PreCommit_Notify). With the
-- case_event trigger notifying inside every write, no two writes could share a WAL flush (group
-- commit), and throughput was one fsync per write at best: 6-18% of pgbench -N.
--
-- 1. case_event no longer notifies. The case service announces its committed changes itself, in
--    batches, on a connection with synchronous_commit off (services/case/change_announcer.h),
--    with the same channel and the payload of services/common/case_change_notice.h.
-- 2. Reference data (catalogue, fields, staff, organisation) notifies on a channel of its own,
--    'reference_changed', so the case service's cache no longer reads every case notice.
-- 3. case_record_expectation returns the case's id beside the answer (for the notice).
--    Otherwise as 0070; same signature, so its grant holds.
DROP TRIGGER case_event_notify ON case_event;
DROP FUNCTION notify_case_events();

CREATE OR REPLACE FUNCTION notify_centre_reference_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('reference_changed', json_build_object(
    'job_centre_id', COALESCE(NEW.job_centre_id, OLD.job_centre_id),
    'kind', 'REFERENCE_DATA', 'table', TG_TABLE_NAME)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

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
  -- The case's id too, for the service's change notice (not part of the stored answer).
  RETURN answer || jsonb_build_object('case_id', target.id);
END;
$$ LANGUAGE plpgsql;
