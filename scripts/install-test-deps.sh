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
    procps                    # sysctl: IP forwarding in a middle namespace (libreswan NAT-T test)
    freeradius                # FreeRADIUS 3.2: the RADIUS backend's real server, rlm_eap_*
    freeradius-config         # /etc/freeradius/3.0, copied and rewritten per test
    freeradius-utils          # radclient, radtest
    slapd                     # OpenLDAP: the LDAP backend's real directory, back_mdb, schemas
    ldap-utils                # ldapwhoami, ldapsearch
    eapoltest                 # wpa_supplicant's eapol_test: a real EAP peer over RADIUS
    # libreswan's pluto as a second IKEv2 peer: the libreswan package conflicts with
    # strongswan-charon, so it is unpacked below (LIBRESWAN_PREFIX); these are its Depends
    # that pluto, whack and addconn load (ldd), plus what the tests drive it with.
    libnss3-tools             # certutil/pk12util: pluto's private NSS database per test
    libnss3                   # pluto: libnss3, libssl3, libsmime3, libnssutil3
    libnspr4                  # pluto: libnspr4
    libunbound8               # pluto, addconn: libunbound
    libldns3                  # pluto: libldns
    libevent-core-2.1-7       # pluto: libevent_core
    libevent-pthreads-2.1-7   # pluto: libevent_pthreads
    libcap-ng0                # pluto: libcap-ng
    libcurl3-nss              # pluto: libcurl-nss (CRL/OCSP fetching, unused here)
    libldap-2.5-0             # pluto: libldap, liblber
    libaudit1                 # pluto: libaudit
    libpam0g                  # pluto: libpam (XAUTH, unused here)
    libselinux1               # pluto: libselinux
    libsystemd0               # pluto: libsystemd
    libcrypt1                 # pluto: libcrypt
    nftables                  # nft: masquerade in a middle namespace (libreswan NAT-T test)
    iputils-ping              # ping through a libipsec Child SA (Charon.ping, tests/interop)
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
# libreswan (tests/interop/libreswan.py): installing the package would remove strongswan-charon
# (they conflict), so the .deb of the apt candidate is unpacked into LIBRESWAN_PREFIX (the
# path tests/interop/system_deps.py checks); .version names what is there.  Again only when
# it is missing or the candidate changed (or IKEEAP_APT_FORCE=1).
LIBRESWAN_PREFIX=/opt/ikeeap-libreswan
libreswan_candidate() {
    apt-cache policy libreswan 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'
}
want=$(libreswan_candidate)
if [ -z "$want" ] || [ "$want" = "(none)" ]; then
    "${SUDO[@]}" apt-get update
    want=$(libreswan_candidate)
fi
have=$(cat "$LIBRESWAN_PREFIX/.version" 2>/dev/null || true)
if [ "${IKEEAP_APT_FORCE:-0}" = 1 ] || [ "$have" != "$want" ] \
        || [ ! -x "$LIBRESWAN_PREFIX/usr/libexec/ipsec/pluto" ]; then
    if [ -z "$want" ] || [ "$want" = "(none)" ]; then
        echo "install-test-deps.sh: apt knows no libreswan package" >&2
        exit 1
    fi
    work=$(mktemp -d)
    # apt-get download drops to user _apt, which must be able to write there
    chmod 755 "$work"
    "${SUDO[@]}" chown _apt "$work" 2>/dev/null || true
    if ! (cd "$work" && "${SUDO[@]}" apt-get download "libreswan=$want"); then
        "${SUDO[@]}" apt-get update
        (cd "$work" && "${SUDO[@]}" apt-get download "libreswan=$want")
    fi
    "${SUDO[@]}" dpkg-deb -x "$work"/libreswan_*.deb "$work/root"
    echo "$want" | "${SUDO[@]}" tee "$work/root/.version" >/dev/null
    "${SUDO[@]}" rm -rf "$LIBRESWAN_PREFIX.new"
    "${SUDO[@]}" mkdir -p "$(dirname "$LIBRESWAN_PREFIX")"
    "${SUDO[@]}" mv "$work/root" "$LIBRESWAN_PREFIX.new"
    "${SUDO[@]}" rm -rf "$LIBRESWAN_PREFIX"
    "${SUDO[@]}" mv "$LIBRESWAN_PREFIX.new" "$LIBRESWAN_PREFIX"
    "${SUDO[@]}" rm -rf "$work"
    echo "install-test-deps.sh: libreswan $want unpacked into $LIBRESWAN_PREFIX"
else
    echo "install-test-deps.sh: libreswan $have already unpacked in $LIBRESWAN_PREFIX"
fi
if ldd "$LIBRESWAN_PREFIX/usr/libexec/ipsec/pluto" | grep 'not found' >&2; then
    echo "install-test-deps.sh: pluto lacks the libraries above (add their packages)" >&2
    exit 1
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
