-- One database role per service, each with the least privilege it needs (grants follow in the
-- migrations that create or own each table). Roles are cluster-wide, so they are created only
-- when missing; their passwords (scram-sha-256) are set at deployment, never in a migration.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_case_service') THEN
    CREATE ROLE forecast_case_service LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_forecast_service') THEN
    CREATE ROLE forecast_forecast_service LOGIN;
  END IF;
END
$$;
