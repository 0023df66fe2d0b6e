-- Owned by the forecast service (issue 11): a dialogue exists from the moment the team leader
-- opens it (a DRAFT), its notes are edited in versions (each a row of dialogue_notes_version,
-- with its own idempotency key; the dialogue row holds the latest), and the leader finalises it
-- (FINAL, locked, with a timestamp). Concurrent edits are refused by the version
-- (ABORTED on a stale base version). Dialogues recorded before this migration are FINAL at
-- version 1.
ALTER TABLE dialogue
  ADD COLUMN state        text NOT NULL DEFAULT 'FINAL' CHECK (state IN ('DRAFT', 'FINAL')),
  ADD COLUMN version      int NOT NULL DEFAULT 1 CHECK (version >= 0),
  ADD COLUMN finalised_at timestamptz,
  ADD COLUMN finalised_by bigint REFERENCES staff(id);
UPDATE dialogue SET finalised_at = recorded_at, finalised_by = team_leader_id WHERE state = 'FINAL';
ALTER TABLE dialogue ADD CONSTRAINT dialogue_final_has_time
  CHECK (state = 'DRAFT' OR finalised_at IS NOT NULL);
-- At most one open draft per caseworker: opening the dialogue again returns it.
CREATE UNIQUE INDEX dialogue_one_draft ON dialogue (job_centre_id, caseworker_id)
  WHERE state = 'DRAFT';

-- Append-only: every version of a dialogue's notes.
CREATE TABLE dialogue_notes_version (
  dialogue_id      bigint NOT NULL REFERENCES dialogue(id),
  version          int NOT NULL CHECK (version >= 1),
  job_centre_id    bigint NOT NULL REFERENCES job_centre(id),
  held_on          date NOT NULL,
  notes_status     text NOT NULL DEFAULT '',
  notes_knowledge  text NOT NULL DEFAULT '',
  notes_learning   text NOT NULL DEFAULT '',
  notes_adjustment text NOT NULL DEFAULT '',
  idempotency_key  text,
  recorded_by      bigint NOT NULL REFERENCES staff(id),
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dialogue_id, version)
);
CREATE UNIQUE INDEX dialogue_notes_version_idempotency
  ON dialogue_notes_version (job_centre_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

INSERT INTO dialogue_notes_version (dialogue_id, version, job_centre_id, held_on, notes_status,
                                    notes_knowledge, notes_learning, notes_adjustment,
                                    recorded_by, recorded_at)
  SELECT id, 1, job_centre_id, held_on, notes_status, notes_knowledge, notes_learning,
         notes_adjustment, team_leader_id, recorded_at
  FROM dialogue;

-- Edits and finalisation change what the forecast service shows: tell its listeners.
CREATE TRIGGER dialogue_update_notify AFTER UPDATE ON dialogue
  FOR EACH ROW EXECUTE FUNCTION notify_forecast_change();

GRANT SELECT, INSERT, UPDATE ON dialogue TO forecast_forecast_service;
GRANT SELECT, INSERT ON dialogue_case TO forecast_forecast_service;
GRANT SELECT, INSERT ON dialogue_notes_version TO forecast_forecast_service;
GRANT SELECT ON dialogue_notes_version TO forecast_case_service;
