#!/usr/bin/env bash
# Make sure the command-line tools the suite calls are installed: docker-compose validates
# docker-compose.yml in tests/platform (no Docker engine is needed). Installs Debian's package
# when it is missing (needs root, or sudo).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "ensure-tools: installing docker-compose"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker-compose >/dev/null
fi
