#!/usr/bin/env bash
# Install what the test suite needs on a Debian/Ubuntu CI machine (run as root, or with sudo).
#
#   scripts/install-test-deps.sh            # apt packages + pip install -e '.[test]'
#   IKEEAP_SKIP_PIP=1 scripts/...           # only the system packages
#   IKEEAP_APT_FORCE=1 scripts/...          # run apt even if everything is installed
#   PYTHON=/path/to/python3 scripts/...     # the interpreter to install the project into
#
# Idempotent: a second run changes nothing.  apt is told not to start any daemon (policy-rc.d),
# and a system charon (strongswan-starter / ipsec.service) is stopped and disabled, because
# it would bind UDP 500/4500 in the root namespace and the interop tests run their own charons
# in private network namespaces (tests/interop/charon.py).
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-test-deps.sh: needs root (or sudo)" >&2
    exit 1
fi

# ---------------------------------------------------------------------------------------------
# System packages.  Later issues add theirs here (one per line, keep the comment with it).
APT_PACKAGES=(
    python3                   # runs tests/interop/system_deps.py and makes .venv (3.11+)
    python3-venv              # .venv for the project and its test extras
    strongswan-charon         # charon as the real IKEv2 peer (tests/interop)
    strongswan-libcharon      # charon's library: socket-default plugin
    libstrongswan             # random, nonce, pem, pkcs1/8, x509, pubkey, kdf, kernel-netlink
    libstrongswan-standard-plugins  # openssl: every IKE/ESP algorithm, MD4/DES for MSCHAPv2
    libcharon-extauth-plugins # eap-mschapv2
    libcharon-extra-plugins   # eap-identity, eap-md5, eap-gtc, eap-tls, eap-ttls, kernel-libipsec
    strongswan-swanctl        # swanctl and the vici plugin to drive charon
    strongswan-pki            # pki tool (the tests make certificates with cryptography)
    iproute2                  # ip netns / veth, ss
    util-linux                # unshare, nsenter, mount (essential, listed for clarity)
    freeradius                # FreeRADIUS 3.2: the RADIUS backend's real server, rlm_eap_*
    freeradius-config         # /etc/freeradius/3.0, copied and rewritten per test
    freeradius-utils          # radclient, radtest
    slapd                     # OpenLDAP: the LDAP backend's real directory, back_mdb, schemas
    ldap-utils                # ldapwhoami, ldapsearch
    eapoltest                 # wpa_supplicant's eapol_test: a real EAP peer over RADIUS
)
# debconf preseeds for the packages above, e.g.
#   "slapd slapd/no_configuration boolean true"
DEBCONF_PRESEED=(
    "slapd slapd/no_configuration boolean true"
)
# ---------------------------------------------------------------------------------------------

packages_missing() {
    local p status
    for p in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        if [ "$status" != "install ok installed" ]; then
            return 0
        fi
    done
    return 1
}

POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
restore_policy() {
    if [ -n "$POLICY_BACKUP" ]; then
        "${SUDO[@]}" mv -f "$POLICY_BACKUP" "$POLICY"
    elif [ -f "$POLICY.ikeeap" ]; then
        "${SUDO[@]}" rm -f "$POLICY" "$POLICY.ikeeap"
    fi
}

if [ "${IKEEAP_APT_FORCE:-0}" = 1 ] || packages_missing; then
    # Keep apt/dpkg from starting daemons while installing: policy-rc.d exit 101 = "denied".
    if [ -e "$POLICY" ]; then
        POLICY_BACKUP="$POLICY.ikeeap-saved"
        "${SUDO[@]}" cp -p "$POLICY" "$POLICY_BACKUP"
    else
        "${SUDO[@]}" touch "$POLICY.ikeeap"   # marker: we created policy-rc.d
    fi
    trap restore_policy EXIT
    printf '#!/bin/sh\n# ikeeap install-test-deps.sh: never start services\nexit 101\n' \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"

    if [ "${#DEBCONF_PRESEED[@]}" -gt 0 ]; then
        printf '%s\n' "${DEBCONF_PRESEED[@]}" | "${SUDO[@]}" debconf-set-selections
    fi
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${APT_PACKAGES[@]}"
    restore_policy
    trap - EXIT
else
    echo "install-test-deps.sh: system packages already installed"
fi

# ---------------------------------------------------------------------------------------------
# Is every part the tests use really there (each charon plugin, FreeRADIUS module, slapd schema,
# program)?  One line per missing part, naming its package, instead of 60 failing tests.
if ! python3 tests/interop/system_deps.py; then
    echo "install-test-deps.sh: the system lacks parts the tests need (lines above)" >&2
    exit 1
fi

# ---------------------------------------------------------------------------------------------
# No system charon: strongswan-charon pulls in strongswan-starter, whose service (enabled by
# its postinst) would run charon in the root namespace on UDP 500/4500.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for unit in strongswan-starter.service strongswan.service ipsec.service; do
        if systemctl cat "$unit" >/dev/null 2>&1; then
            "${SUDO[@]}" systemctl disable --now "$unit" >/dev/null 2>&1 || true
        fi
    done
fi
if [ -x /etc/init.d/ipsec ] && command -v update-rc.d >/dev/null 2>&1; then
    "${SUDO[@]}" update-rc.d ipsec disable >/dev/null 2>&1 || true
fi
# Without systemd (containers): a system starter/charon writes its pid files to the real /run
# (the test charons have a private tmpfs /run), so those pid files identify it.
for pidfile in /run/starter.charon.pid /run/charon.pid; do
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            echo "install-test-deps.sh: stopping system daemon (pid $pid from $pidfile)"
            "${SUDO[@]}" kill "$pid" || true
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.3
            done
            "${SUDO[@]}" kill -9 "$pid" 2>/dev/null || true
        fi
        "${SUDO[@]}" rm -f "$pidfile"
    fi
done

# ---------------------------------------------------------------------------------------------
# The project itself with its test extras.
if [ "${IKEEAP_SKIP_PIP:-0}" != 1 ]; then
    PY=${PYTHON:-python3}
    PIP_ARGS=()
    # A distribution's own python (PEP 668) refuses pip unless told; a venv/pyenv doesn't.
    if "$PY" - <<'EOF'
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED")
sys.exit(0 if os.path.exists(marker) and sys.prefix == sys.base_prefix else 1)
EOF
    then
        PIP_ARGS+=(--break-system-packages)
    fi
    "$PY" -m pip install "${PIP_ARGS[@]}" -e '.[test]'
fi

echo "install-test-deps.sh: done"
