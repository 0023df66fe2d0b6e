-- The case-read access log (issue 8, GDPR): every read of a case, by whom, when, through which
-- call. Written by both services (services/common/audit), insert only: neither role can read,
-- change or delete a row. Admins query it through case_reads() (IdentityService.ListCaseReads)
-- and old rows go through purge_case_reads(), both SECURITY DEFINER functions owned by the
-- migration owner, which only the case service may call.
CREATE TABLE case_read (
  id             bigserial PRIMARY KEY,
  job_centre_id  bigint NOT NULL REFERENCES job_centre(id),
  read_at        timestamptz NOT NULL DEFAULT now(),
  staff_id       bigint NOT NULL REFERENCES staff(id),
  case_id        bigint NOT NULL REFERENCES cases(id),
  call           text NOT NULL CHECK (length(call) BETWEEN 1 AND 200)
);
CREATE INDEX case_read_by_case ON case_read (case_id, id);
CREATE INDEX case_read_by_staff ON case_read (staff_id, id);
CREATE INDEX case_read_by_time ON case_read (read_at);

GRANT INSERT ON case_read TO forecast_case_service, forecast_forecast_service;
GRANT USAGE ON SEQUENCE case_read_id_seq TO forecast_case_service, forecast_forecast_service;

-- Newest first; NULL filters match everything; p_before pages by id.
CREATE FUNCTION case_reads(p_centre bigint, p_case text, p_staff text, p_since timestamptz,
                           p_until timestamptz, p_before bigint, p_limit int)
RETURNS TABLE (id bigint, read_at timestamptz, staff text, case_ref text, call text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  the_case bigint;
  the_staff bigint;
BEGIN
  IF p_case IS NOT NULL THEN
    SELECT c.id INTO the_case FROM cases c WHERE c.job_centre_id = p_centre AND c.case_ref = p_case;
    IF the_case IS NULL THEN RETURN; END IF;
  END IF;
  IF p_staff IS NOT NULL THEN
    SELECT s.id INTO the_staff FROM staff s WHERE s.job_centre_id = p_centre AND s.code = p_staff;
    IF the_staff IS NULL THEN RETURN; END IF;
  END IF;
  RETURN QUERY
    SELECT r.id, r.read_at, s.code, c.case_ref, r.call
    FROM case_read r
    JOIN staff s ON s.id = r.staff_id
    JOIN cases c ON c.id = r.case_id
    WHERE r.job_centre_id = p_centre
      AND (the_case IS NULL OR r.case_id = the_case)
      AND (the_staff IS NULL OR r.staff_id = the_staff)
      AND (p_since IS NULL OR r.read_at >= p_since)
      AND (p_until IS NULL OR r.read_at < p_until)
      AND (p_before IS NULL OR r.id < p_before)
    ORDER BY r.id DESC
    LIMIT p_limit;
END
$$;

-- Deletes rows older than `keep` (at least one day, so a slip cannot wipe the log).
CREATE FUNCTION purge_case_reads(keep interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  IF keep < interval '1 day' THEN
    RAISE EXCEPTION 'case-read retention must be at least one day, not %', keep;
  END IF;
  DELETE FROM case_read WHERE read_at < now() - keep;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

REVOKE ALL ON FUNCTION case_reads(bigint, text, text, timestamptz, timestamptz, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION purge_case_reads(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION case_reads(bigint, text, text, timestamptz, timestamptz, bigint, int)
  TO forecast_case_service;
GRANT EXECUTE ON FUNCTION purge_case_reads(interval) TO forecast_case_service;
