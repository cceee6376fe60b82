#!/usr/bin/env bash
# Second README command: install what the tests need and run them all, interop included.
#   scripts/test.sh                 # everything (what CI runs)
#   scripts/test.sh -m "not interop" tests/unit   # a quick local loop; CI never skips
set -euo pipefail
cd "$(dirname "$0")/.."
IKEEAP_SKIP_PIP=1 scripts/install-test-deps.sh
. scripts/venv.sh
ensure_venv test
export IKEEAP_REQUIRE_INTEROP=1   # a missing peer fails the run instead of skipping
exec .venv/bin/python -m pytest -q -p no:cacheprovider "${@:-tests}"
