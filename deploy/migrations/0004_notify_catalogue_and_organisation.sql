-- The forecast service maps catalogue codes, staff and teams into its models, so a change to any
-- of them must reach it at once, not at the next case change. A notice without a case_id on
-- 'case_changed' makes the forecast service re-read the job centre whole. PostgreSQL delivers
-- identical payloads once per transaction, so a bulk staff import sends one notice per centre.
CREATE FUNCTION notify_centre_reference_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('case_changed', json_build_object(
    'job_centre_id', COALESCE(NEW.job_centre_id, OLD.job_centre_id),
    'kind', 'REFERENCE_DATA', 'table', TG_TABLE_NAME)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalogue_entry_notify AFTER INSERT OR UPDATE OR DELETE ON catalogue_entry
  FOR EACH ROW EXECUTE FUNCTION notify_centre_reference_change();
CREATE TRIGGER case_field_notify AFTER INSERT OR UPDATE OR DELETE ON case_field
  FOR EACH ROW EXECUTE FUNCTION notify_centre_reference_change();
CREATE TRIGGER staff_notify AFTER INSERT OR UPDATE OR DELETE ON staff
  FOR EACH ROW EXECUTE FUNCTION notify_centre_reference_change();
CREATE TRIGGER org_unit_notify AFTER INSERT OR UPDATE OR DELETE ON org_unit
  FOR EACH ROW EXECUTE FUNCTION notify_centre_reference_change();
