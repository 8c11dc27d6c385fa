#!/bin/sh
# Run by the postgres image once, when it creates the database (/docker-entrypoint-initdb.d/):
# the owner is POSTGRES_USER, who runs the migrations; the application connects as constancia_app.
# On a database created before this file existed, run it by hand once:
#   docker-compose exec postgres sh /docker-entrypoint-initdb.d/10-app-role.sh
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_role=constancia_app -v app_password="$POSTGRES_APP_PASSWORD" -v owner="$POSTGRES_USER" \
    -f /etc/constancia/app-role.sql
