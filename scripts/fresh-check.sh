#!/usr/bin/env bash
# Both README commands on a machine that has nothing installed: a minimal Debian 12 root
# (debootstrap --variant=minbase: no python3, no git, no strongSwan), a clean clone of the
# committed HEAD inside it, then scripts/quickstart.sh (until it prints the client hint) and
# scripts/test.sh (the whole suite, interop included), each timed. See docs/testing.md.
#   scripts/fresh-check.sh            # needs root, debootstrap and the Debian mirror
#   FRESH_ROOT=/var/tmp/x KEEP_ROOT=1 scripts/fresh-check.sh
# Only the host's network settings go in: resolv.conf, apt sources and the CA bundle a
# TLS-inspecting proxy may need (pip otherwise trusts only its own bundle).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="${FRESH_ROOT:-/var/tmp/ikeeap-fresh}"
LOG="${FRESH_LOG:-$REPO/fresh-check.log}"
MIRROR="${FRESH_MIRROR:-http://deb.debian.org/debian}"

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (debootstrap, chroot)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

say() { echo "fresh-check: $*" | tee -a "$LOG"; }
: > "$LOG"

stop_root_processes() {  # daemons the install started (freeradius, slapd) live in the root
    local pid
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${pid#/proc/}" 2>/dev/null
    done
    return 0
}
cleanup() {
    stop_root_processes
    if [ -z "${KEEP_ROOT:-}" ]; then rm -rf --one-file-system "$ROOT"; fi
}
trap cleanup EXIT

stop_root_processes
rm -rf --one-file-system "$ROOT"
say "debootstrap minbase bookworm into $ROOT"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >>"$LOG" 2>&1
if [ -f /etc/apt/sources.list.d/debian.sources ]; then  # updates and security, as installed
    cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
    rm -f "$ROOT/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
host_ca=""
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/host-ca-bundle.crt"
    host_ca=/etc/host-ca-bundle.crt
fi
say "base root ready in $(( $(date +%s) - start )) s; $(chroot "$ROOT" dpkg -l | grep -c '^ii') packages, python3: $(chroot "$ROOT" sh -c 'command -v python3 || echo none')"

git clone -q --no-hardlinks "$REPO" "$ROOT/root/ikeeap"
say "clean clone of $(git -C "$REPO" rev-parse --short HEAD) (committed work only)"

# The chroot's own mounts in a private mount namespace; it shares the host's network (a new
# machine's apt and pip need the mirror), as a fresh VM would.
run_in_root() {
    unshare --mount --fork -- bash -c '
        set -e
        root=$1; shift
        mount --make-rprivate /
        mount --bind "$root" "$root"   # / a mount point, as ip netns exec expects
        mount -t proc proc "$root/proc"
        mount -t sysfs sys "$root/sys"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs tmpfs "$root/run"
        mount -t tmpfs tmpfs "$root/tmp"
        exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 TERM=dumb ${PIP_CERT_ENV:+PIP_CERT=$PIP_CERT_ENV} \
            ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
            bash -c "cd /root/ikeeap && $*"' run_in_root "$ROOT" "$@"
}
export PIP_CERT_ENV="$host_ca"

say "README command 1: scripts/quickstart.sh (stopped once it prints the client hint)"
start=$(date +%s)
run_in_root "timeout 900 scripts/quickstart.sh" > "$REPO/fresh-quickstart.log" 2>&1 &
qs_pid=$!
quickstart_ok=""
for _ in $(seq 900); do
    if grep -q "strongSwan client (swanctl.conf)" "$REPO/fresh-quickstart.log"; then
        quickstart_ok=1; break
    fi
    kill -0 "$qs_pid" 2>/dev/null || break
    sleep 1
done
stop_root_processes
wait "$qs_pid" 2>/dev/null || true
if [ -n "$quickstart_ok" ]; then
    say "command 1 OK in $(( $(date +%s) - start )) s: $(grep -m1 'is listening' "$REPO/fresh-quickstart.log")"
else
    say "command 1 FAILED after $(( $(date +%s) - start )) s; its output:"
    tail -20 "$REPO/fresh-quickstart.log" | tee -a "$LOG"
fi
rm -rf "$ROOT/root/ikeeap/state"

say "README command 2: scripts/test.sh"
start=$(date +%s)
set +e
run_in_root "scripts/test.sh" > "$REPO/fresh-test.log" 2>&1
test_rc=$?
set -e
stop_root_processes
say "command 2 exit $test_rc in $(( $(date +%s) - start )) s: $(grep -E '(passed|failed|error)' "$REPO/fresh-test.log" | tail -1)"
if grep -qE '[0-9]+ skipped' "$REPO/fresh-test.log"; then
    say "command 2 skipped tests: $(grep -oE '[0-9]+ skipped' "$REPO/fresh-test.log" | tail -1)"
fi
[ -n "$quickstart_ok" ] && [ "$test_rc" -eq 0 ]
