#!/bin/sh
# Stand-in for the official postgres image's entry point (tests only): initialise PGDATA from POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB on first start, then run the server as the postgres user.
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:?}" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres initdb --pgdata="$PGDATA" --username="${POSTGRES_USER:-postgres}" --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent --options="-c listen_addresses=''" start
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != "${POSTGRES_USER:-postgres}" ]; then
    as_postgres createdb --username="${POSTGRES_USER:-postgres}" "$POSTGRES_DB"
  fi
  as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent stop
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
