#!/usr/bin/env bash
# Make sure what the suite calls besides the databases is there: docker-compose validates
# docker-compose.yml in tests/platform (no Docker engine is needed), Chromium and Thai fonts for
# tests/browser, and Redis answers on
# 127.0.0.1:6379 (shared rate limits). Installs Debian's packages when they are missing (needs
# root, or sudo) and starts Redis when it is down. Set CIVICLOOP_TEST_REDIS_URL to use another.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "ensure-tools: installing docker-compose"
  apt_install docker-compose
fi

# tests/browser drive Debian's Chromium through Playwright (no browser download); Thai text in
# their screenshots needs Thai fonts.
if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-thai-tlwg >/dev/null 2>&1; then
  echo "ensure-tools: installing Chromium and Thai fonts (chromium fonts-thai-tlwg)"
  apt_install chromium fonts-thai-tlwg
fi

if [ -n "${CIVICLOOP_TEST_REDIS_URL:-}" ]; then
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-tools: installing Redis (redis-server)"
  apt_install redis-server
fi
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if ! redis_up; then
  echo "ensure-tools: starting Redis on 127.0.0.1:6379"
  # No systemd in containers and CI runners: run it as a daemon of its own, data in memory only.
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >/dev/null
fi
for _ in $(seq 1 30); do
  if redis_up; then exit 0; fi
  sleep 1
done
echo "ensure-tools: Redis does not answer on 127.0.0.1:6379" >&2
exit 1
