# Sourced by the other scripts: make .venv with ikeeap installed (editable) and its extras.
# Usage: ensure_venv [extra]   e.g. ensure_venv test
ensure_venv() {
    local extra="${1:-}"
    if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
        echo "ikeeap needs Python 3.11 or newer as python3" >&2
        return 1
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv .venv 2>/dev/null; then
            # Debian ships venv separately; we are root in the documented setup.
            rm -rf .venv
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            python3 -m venv .venv
        fi
    fi
    local spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
}
