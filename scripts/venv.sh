# Sourced by the other scripts: make .venv with ikeeap installed (editable) and its extras.
# Usage: ensure_venv [extra]   e.g. ensure_venv test
# On a bare Debian/Ubuntu (root) it installs python3 and python3-venv first.

_apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "ikeeap: needs $* (apt-get install $*), run as root" >&2
        return 1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_venv() {
    local extra="${1:-}"
    if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
        _apt_install python3 python3-venv || return 1
        if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
            echo "ikeeap needs Python 3.11 or newer as python3" >&2
            return 1
        fi
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv .venv 2>/dev/null; then
            rm -rf .venv  # Debian ships venv (ensurepip) separately
            _apt_install python3-venv || return 1
            python3 -m venv .venv
        fi
    fi
    local spec="." stamp
    [ -n "$extra" ] && spec=".[$extra]"
    # pip runs again only when the requirements changed (it needs PyPI even when nothing is new)
    stamp="$spec $(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
    if [ "$(cat .venv/.ikeeap-installed 2>/dev/null)" != "$stamp" ]; then
        .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
        echo "$stamp" > .venv/.ikeeap-installed
    fi
    # Checked after installing: every requirement resolved and importable.
    .venv/bin/python -m pip check --disable-pip-version-check >/dev/null || {
        .venv/bin/python -m pip check --disable-pip-version-check >&2
        echo "ikeeap: .venv has broken Python dependencies (above)" >&2
        return 1
    }
    .venv/bin/python - "$extra" <<'EOF' || return 1
import importlib, sys
modules = ["twisted", "cryptography", "pyrad", "ldap3", "OpenSSL", "prometheus_client", "ikeeap"]
if sys.argv[1] == "test":
    modules += ["pytest", "hypothesis", "pytest_twisted"]
for name in modules:
    try:
        importlib.import_module(name)
    except Exception as exc:
        sys.exit(f"ikeeap: Python module {name} does not import in .venv: {exc}")
EOF
}
