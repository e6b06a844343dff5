#!/usr/bin/env bash
# Make sure a local PostgreSQL with PostGIS answers on 127.0.0.1:5432, for the PostGIS test leg
# and the benchmarks. Installs Debian's packages when they are missing (needs root) and starts the
# cluster when it is down. Set CIVICLOOP_TEST_POSTGRES_URL to use another server instead.
set -euo pipefail

if [ -n "${CIVICLOOP_TEST_POSTGRES_URL:-}" ]; then
  exit 0
fi

PG_VERSION="${PG_VERSION:-15}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "ensure-postgis: installing PostgreSQL $PG_VERSION"
  apt_install "postgresql-$PG_VERSION"
fi
if [ ! -f "/usr/share/postgresql/$PG_VERSION/extension/postgis.control" ]; then
  echo "ensure-postgis: installing PostGIS (postgresql-$PG_VERSION-postgis-3)"
  apt_install "postgresql-$PG_VERSION-postgis-3"
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $4 == "online" { found = 1 } END { exit !found }'; then
  echo "ensure-postgis: starting PostgreSQL $PG_VERSION"
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
fi
for _ in $(seq 1 30); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
  sleep 1
done
echo "ensure-postgis: PostgreSQL does not answer on 127.0.0.1:5432" >&2
exit 1
