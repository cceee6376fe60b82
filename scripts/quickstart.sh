#!/usr/bin/env bash
# First README command: install ikeeap into .venv and start the responder on conf/ as shipped.
# On first start it generates a CA and a server certificate into state/ and prints how a
# client connects. Binding UDP 500/4500 needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv
exec .venv/bin/ikeeap serve --config conf/ikeeap.toml "$@"
