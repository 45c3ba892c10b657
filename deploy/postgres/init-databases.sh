#!/bin/bash
# One role and one database per service: each service owns its data and cannot reach another's.
# Runs from /docker-entrypoint-initdb.d on an empty data directory (docker-compose and the k8s
# dev overlay, which carries a byte-identical copy), or by hand against any server with psql.
# Passwords come from INTAKE_DB_PASSWORD, MEDIA_DB_PASSWORD, REVIEW_DB_PASSWORD, PUBLISH_DB_PASSWORD,
# CONSOLE_DB_PASSWORD.
# Idempotent: existing roles and databases are left alone (passwords are not reset).
set -euo pipefail

services="${GONGYI_DB_SERVICES:-intake media review publish console}"
admin="${POSTGRES_USER:-postgres}"

for svc in $services; do
  var="${svc^^}_DB_PASSWORD"
  password="${!var:?$var must be set}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$admin" --dbname postgres \
       -v svc="$svc" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'svc', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'svc')\gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'svc', :'svc', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'svc')\gexec
-- Without this every role may connect to every database.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'svc')\gexec
SQL
done
