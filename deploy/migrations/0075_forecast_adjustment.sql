-- Owned by the forecast service (issue 11 section 4, adjustments): a team leader (own team) or a
-- manager sets an adjusted figure for a team's closures in a month and outcome ('ALL' or an
-- outcome code, as the projection groups them), with a reason. It is shown beside the model's
-- figure; case expectations are never touched.
--
-- Append-only audit: every edit is a new row (who, when, the figure before, the new figure, the
-- reason). The latest row of (team, month, outcome) is in force; clearing is a row with figure
-- NULL. `version` numbers the rows of one (team, month, outcome) from 1: an edit names the
-- version it replaces, and the unique index refuses a second row at the same version (the
-- service answers ABORTED "ADJUSTMENT_CHANGED"). An idempotency key per edit makes a retry
-- answer the stored row.
CREATE TABLE forecast_adjustment (
  id               bigserial PRIMARY KEY,
  job_centre_id    bigint NOT NULL REFERENCES job_centre(id),
  team_id          bigint NOT NULL REFERENCES org_unit(id),
  month            date NOT NULL CHECK (month = date_trunc('month', month)::date),
  outcome          text NOT NULL CHECK (outcome ~ '^[A-Za-z0-9_.-]{1,32}$'),
  version          int NOT NULL CHECK (version >= 1),
  figure           double precision CHECK (figure >= 0 AND figure <= 1000000),  -- NULL: cleared
  previous_figure  double precision,  -- the figure in force before this row; NULL: none
  reason           text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 4000),
  idempotency_key  text NOT NULL,
  set_by           bigint NOT NULL REFERENCES staff(id),
  set_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_centre_id, team_id, month, outcome, version),
  UNIQUE (job_centre_id, idempotency_key)
);

-- The forecast service's listeners read the small tables again (as for targets and dialogues).
CREATE TRIGGER forecast_adjustment_notify AFTER INSERT ON forecast_adjustment
  FOR EACH ROW EXECUTE FUNCTION notify_forecast_change();

-- Insert and read only: rows are never changed or deleted.
GRANT SELECT, INSERT ON forecast_adjustment TO forecast_forecast_service;
GRANT USAGE ON SEQUENCE forecast_adjustment_id_seq TO forecast_forecast_service;
