-- The application's database role: it reads and writes rows, and owns nothing (psql script).
--
--   psql -v ON_ERROR_STOP=1 -v app_role=constancia_app -v app_password=... -v owner=constancia \
--        -d constancia -f app-role.sql
--
-- Run it as a superuser or as the owner, on the application's database. It is idempotent: run
-- it again to change the password or after restoring a dump. docker-compose.yml runs it once, when
-- the database is created (10-app-role.sh).
--
-- Why: a table's owner (and any superuser) can DISABLE TRIGGER, DROP TRIGGER and TRUNCATE, which
-- would silence the ledger's append-only guards (consents/db_guards.py). The web, worker and beat
-- processes connect as this role instead; only `manage.py migrate` runs as the owner. This role
-- has no TRUNCATE privilege, owns no table (so it can neither drop nor disable a trigger) and
-- cannot create tables.

SELECT format('CREATE ROLE %I LOGIN', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role') \gexec

ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

-- Databases created before PostgreSQL 15 let everyone create tables in public; nobody but the
-- owner should.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";

-- Rows only: SELECT, INSERT, UPDATE, DELETE (the triggers still refuse UPDATE and DELETE of the
-- ledger and of published texts), never TRUNCATE, REFERENCES or TRIGGER.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The same on every table and sequence the owner's later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
