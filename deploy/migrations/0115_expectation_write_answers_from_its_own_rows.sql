-- Issue 10: the expectation write answers from the rows it has read and written.
--
-- Measured in one backend (1,500 writes in a rolled-back transaction, no commit, no network), the
-- write of 0085 took about 400-440 us, of which the answer (case_answer_json) about 140 us: 35 us
-- to read the case, its codes and the new expectation again, and 85 us for the open actions'
-- list with its follow-ups, which an expectation never changes.
--
-- 1. The document's shape lives in one place: case_answer_document and
--    case_expectation_document, plain SQL expressions that PostgreSQL inlines into the caller
--    (STABLE, as to_char is; an IMMUTABLE one is not inlined and is planned on every call).
-- 2. case_open_actions keeps each case's open actions as the answer lists them (the first 50 by
--    due day, with follow-ups) and how many are open. Statement triggers on action and
--    action_follow_up refresh the cases a statement touched, so bulk loads refresh each case
--    once. A refresh first locks the case row (every action write in the service has already
--    bumped its version, so this waits for nobody there), so that two transactions can never
--    store their own view of the same case's actions one over the other.
--    Staff codes in the document never change: no writer updates staff.code.
-- 3. case_record_expectation reads the case, its caseworker's, team's and writer's codes and its
--    open actions in its first lookup, and builds the expectation from its own arguments and the
--    inserted row's id and time. case_answer_json has no caller left and goes.
-- 4. The idempotency key is a plain insert. A key already stored raises unique_violation, which
--    the service takes, like the other refusals, to the general path (that replays it). The
--    speculative insertion of ON CONFLICT cost a second heap record per write.
-- 5. idempotency_key no longer refers to job_centre: every write share-locked the centre's one
--    row, and concurrent writers made a MultiXact for it on almost every write. The key's centre
--    is part of its primary key, and only the case service writes the table.
-- The answer is the same document, key for key (case_store_test compares it with GetCase).
--
-- This migration also replaces 0105, which made case_answer_json plpgsql; 0105 is gone from the
-- tree (a database that ran it keeps its record, and this migration drops the function).
ALTER TABLE idempotency_key DROP CONSTRAINT IF EXISTS idempotency_key_job_centre_id_fkey;

CREATE OR REPLACE FUNCTION case_expectation_document(
    p_id bigint, p_outcome text, p_month date, p_risk text, p_agreed boolean, p_dialogue bigint,
    p_note text, p_recorded_by text, p_recorded_at timestamptz)
RETURNS jsonb AS $$
  SELECT jsonb_build_object(
    'id', p_id, 'expected_outcome', p_outcome, 'expected_month', to_char(p_month, 'YYYY-MM'),
    'risk', p_risk, 'agreed_in_dialogue', p_agreed, 'dialogue_id', coalesce(p_dialogue, 0),
    'note', p_note, 'recorded_by', p_recorded_by,
    'recorded_at', to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION case_answer_document(
    p_case_ref text, p_case_type text, p_opened_on date, p_caseworker text, p_team text,
    p_status text, p_closed_on date, p_closure_outcome text, p_version bigint, p_fields jsonb,
    p_updated_at timestamptz, p_expectation jsonb, p_open_actions jsonb, p_open_count bigint)
RETURNS jsonb AS $$
  SELECT jsonb_build_object(
    'case_ref', p_case_ref, 'case_type', p_case_type, 'opened_on', p_opened_on::text,
    'caseworker', p_caseworker, 'team', p_team, 'status', p_status,
    'closed_on', coalesce(p_closed_on::text, ''), 'closure_outcome', coalesce(p_closure_outcome, ''),
    'version', p_version, 'fields', p_fields,
    'updated_at', to_char(p_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'expectation', p_expectation, 'open_actions', p_open_actions, 'open_action_count', p_open_count)
$$ LANGUAGE sql STABLE;

-- The case's open actions (the first 50 by due day) with their follow-ups, and how many are open.
-- plpgsql, so that its queries are planned once per connection (a LANGUAGE sql function that
-- PostgreSQL cannot inline is planned again on every call), and the list's query runs only for
-- a case with open actions.
CREATE OR REPLACE FUNCTION case_open_actions_json(p_case bigint, OUT open_count bigint,
                                                  OUT open_actions jsonb) AS $$
BEGIN
  open_actions := '[]'::jsonb;
  SELECT count(*) INTO open_count FROM action WHERE case_id = p_case AND status = 'OPEN';
  IF open_count = 0 THEN
    RETURN;
  END IF;
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
END;
$$ LANGUAGE plpgsql STABLE;

CREATE TABLE case_open_actions (
  case_id bigint PRIMARY KEY REFERENCES cases (id),
  open_count bigint NOT NULL,
  open_actions jsonb NOT NULL
);
ALTER TABLE case_open_actions ALTER COLUMN open_actions SET STATISTICS 0;
GRANT SELECT, INSERT, UPDATE ON case_open_actions TO forecast_case_service;

-- Stores the open actions of `p_cases` as they stand, after locking their rows.
CREATE FUNCTION case_open_actions_refresh(p_cases bigint[]) RETURNS void AS $$
BEGIN
  PERFORM 1 FROM cases WHERE id = ANY (p_cases) ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO case_open_actions (case_id, open_count, open_actions)
    SELECT x.id, a.open_count, a.open_actions
      FROM (SELECT DISTINCT unnest(p_cases) AS id) x, case_open_actions_json(x.id) a
    ON CONFLICT (case_id) DO UPDATE
      SET open_count = EXCLUDED.open_count, open_actions = EXCLUDED.open_actions;
END;
$$ LANGUAGE plpgsql;

-- The statement triggers of action and action_follow_up (both carry case_id); `changed` is the
-- statement's new rows, or its old ones for a delete.
CREATE FUNCTION case_open_actions_after_change() RETURNS trigger AS $$
BEGIN
  PERFORM case_open_actions_refresh(ARRAY(SELECT DISTINCT case_id FROM changed));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER action_inserted AFTER INSERT ON action REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();
CREATE TRIGGER action_updated AFTER UPDATE ON action REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();
CREATE TRIGGER action_deleted AFTER DELETE ON action REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();
CREATE TRIGGER action_follow_up_inserted AFTER INSERT ON action_follow_up
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();
CREATE TRIGGER action_follow_up_updated AFTER UPDATE ON action_follow_up
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();
CREATE TRIGGER action_follow_up_deleted AFTER DELETE ON action_follow_up
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION case_open_actions_after_change();

SELECT case_open_actions_refresh(ARRAY(SELECT DISTINCT case_id FROM action WHERE status = 'OPEN'));

DROP FUNCTION case_answer_json(bigint);

-- As 0085, but answering from its own rows (3) and with the plain key insert (4). Same signature,
-- so its grant holds.
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
  recorded timestamptz;
  new_version bigint;
  updated timestamptz;
  answer jsonb;
BEGIN
  -- The open actions as of this snapshot: any action write moves the version, which the
  -- UPDATE below checks again.
  SELECT k.id, k.version, k.status, k.opened_on, k.team_id, k.caseworker_id, k.case_type,
         k.fields, s.code AS caseworker, u.code AS team,
         (SELECT w.code FROM staff w WHERE w.id = p_actor) AS writer,
         coalesce(o.open_count, 0) AS open_count,
         coalesce(o.open_actions, '[]'::jsonb) AS open_actions
    INTO target
    FROM cases k JOIN staff s ON s.id = k.caseworker_id JOIN org_unit u ON u.id = k.team_id
    LEFT JOIN case_open_actions o ON o.case_id = k.id
    WHERE k.job_centre_id = p_centre AND k.case_ref = p_case_ref;
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
    RETURNING id, recorded_at INTO new_expectation, recorded;
  -- The insert's foreign key check holds the dialogue row until commit; a finalisation that
  -- committed before it is visible to this later statement.
  IF p_dialogue <> 0 AND (SELECT d.state FROM dialogue d WHERE d.id = p_dialogue) <> 'DRAFT' THEN
    RAISE EXCEPTION 'fallback: the dialogue was finalised meanwhile';
  END IF;
  -- The version condition again: a concurrent writer may have committed since the read above.
  UPDATE cases SET version = version + 1, updated_at = now(),
                   current_expectation_id = new_expectation
    WHERE id = target.id AND version = p_base_version AND status = 'OPEN'
    RETURNING version, updated_at INTO new_version, updated;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'fallback: the case moved on concurrently';
  END IF;
  INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, effective_on, summary)
    VALUES (p_centre, target.id, new_version, 'EXPECTATION', p_actor, p_effective_on,
            jsonb_build_object('expected_outcome', p_outcome,
                               'expected_month', to_char(p_month, 'YYYY-MM'), 'risk', p_risk,
                               'agreed_in_dialogue', p_agreed, 'dialogue_id', p_dialogue));
  answer := case_answer_document(
    p_case_ref, target.case_type, target.opened_on, target.caseworker, target.team, 'OPEN', NULL,
    NULL, new_version, target.fields, updated,
    case_expectation_document(new_expectation, p_outcome, p_month, p_risk, p_agreed, p_dialogue,
                              p_note, target.writer, recorded),
    target.open_actions, target.open_count);
  IF p_key <> '' THEN
    -- Last, with the answer: a concurrent first attempt with the key makes this wait for its
    -- commit; a key already stored raises unique_violation and rolls everything back.
    INSERT INTO idempotency_key (job_centre_id, key, method, request_hash, response, response_json)
      VALUES (p_centre, p_actor::text || ':' || p_key, p_method, p_hash, ''::bytea, answer);
  END IF;
  -- The case's id too, for the service's change notice (not part of the stored answer).
  RETURN answer || jsonb_build_object('case_id', target.id);
END;
$$ LANGUAGE plpgsql;
