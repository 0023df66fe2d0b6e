-- Issue 10: concurrent expectation writes share one statement and one commit (group commit).
--
-- At 8 writers, PostgreSQL spent about five times the write's own execution on what every
-- transaction pays whatever it does: the round trip, the commit and its WAL flush, waking the
-- writer. The case service now gathers the writes that arrive while earlier ones are being
-- written (services/case/expectation_batcher.h) and sends them as one call of this function.
--
-- Each write runs in a subtransaction of its own (the EXCEPTION block), so one write's refusal
-- rolls back that write alone; its row says why ('fallback: ...', a unique violation of its
-- idempotency key, a deadlock), and the service takes that write to the general path. The
-- service sends at most 32 writes per call: PostgreSQL keeps 64 subtransaction ids per backend
-- in shared memory, and more would make every snapshot look them up on disk.
CREATE FUNCTION case_record_expectations(p_writes jsonb)
RETURNS TABLE (i int, answer text, refusal text) AS $$
DECLARE
  w record;
BEGIN
  FOR w IN
    SELECT * FROM jsonb_to_recordset(p_writes) AS x(
        i int, centre bigint, case_ref text, base_version bigint, actor bigint, all_cases boolean,
        team bigint, staff bigint, key text, method text, hash text, outcome text, month date,
        risk text, agreed boolean, dialogue bigint, note text, effective_on date)
  LOOP
    i := w.i;
    BEGIN
      answer := case_record_expectation(
          w.centre, w.case_ref, w.base_version, w.actor, w.all_cases, w.team, w.staff, w.key,
          w.method, w.hash, w.outcome, w.month, w.risk, w.agreed, w.dialogue, w.note,
          w.effective_on)::text;
      refusal := NULL;
    EXCEPTION WHEN OTHERS THEN
      answer := NULL;
      refusal := SQLSTATE || ' ' || SQLERRM;
    END;
    RETURN NEXT;
  END LOOP;
END;
$$ LANGUAGE plpgsql;

REVOKE ALL ON FUNCTION case_record_expectations(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION case_record_expectations(jsonb) TO forecast_case_service;
