"""Run libreswan's pluto as a second real IKEv2 initiator against ikeeap (interop tests).

No pytest in here.  Everything needs root.

Where pluto comes from
----------------------
Debian 12's ``libreswan`` package conflicts with ``strongswan-charon``, so
``scripts/install-test-deps.sh`` does not install it: it unpacks the .deb of the apt candidate
into :data:`PREFIX` (``/opt/ikeeap-libreswan``, see ``system_deps.LIBRESWAN_PREFIX``) and
installs pluto's shared libraries as ordinary packages.

Isolation
---------
Each pluto runs as ``ip netns exec NS unshare --mount --propagation private sh -c '...'``: a
tmpfs on /run (its pid file and control socket /run/pluto/pluto.ctl), and the unpacked
``usr/libexec`` bind-mounted over /usr/libexec, because pluto insists on running
``/usr/libexec/ipsec/addconn`` (at start-up it loads the ``auto=add`` connections with it).
Configuration, secrets and the NSS database (an empty one made with ``certutil -N``, what
``ipsec initnss`` does) live in the work directory and are named on pluto's command line, so
neither /etc/ipsec.* (strongSwan's starter owns those) nor /var/lib/ipsec is used.  ``whack``
is run with ``nsenter -t <pluto pid> -m -n -r`` (``-r``: inside a chroot, the same root).  The connections' updown script is
``%disabled``: nothing ever runs strongSwan's /usr/sbin/ipsec.

Child SAs
---------
pluto 4.10 on Linux has one kernel interface, XFRM (``protostack=`` knows only ``xfrm`` and
``netkey``, anything else is "ignored, using protostack=xfrm"), and no userland ESP like
charon's kernel-libipsec.  This kernel has XFRM but no ESP/AH/IPComp, so
installing a negotiated Child SA fails ("netlink response for Add SA esp.SPI@PEER: Function
not implemented") and pluto 4.10 treats that as fatal for the *IKE SA* too: it deletes it
without telling the peer and schedules a revival (a new IKE SA a moment later).
Two ways around that, both used by the tests:

* ``childless=True`` sets pluto's test impairment ``omit-v2-ike-auth-child``: IKE_AUTH carries
  no SA/TSi/TSr (an RFC 6023 style childless IKE SA, which ikeeap accepts), so nothing is
  installed and the IKE SA stays up: rekeys, liveness checks, NAT-T run on it.
* a Child SA negotiation is judged like charon's (charon.py): :func:`child_sa_outcome`
  accepts pluto's "Add SA esp.SPI" failure, which pluto only reaches after it accepted
  ikeeap's SA and TS payloads and derived the keys, or a real "established Child SA".
  ``revival=False`` (impairment ``revival``) stops the re-initiation afterwards.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .charon import NS_PREFIX, CharonError, Netns, Topology, _run, stop_process
from .system_deps import LIBRESWAN_PREFIX

__all__ = [
    "PREFIX",
    "LibreswanError",
    "Pluto",
    "PlutoState",
    "child_sa_outcome",
    "libreswan_unavailable_reason",
    "nat_topology",
    "parse_showstates",
]

PREFIX = Path(os.environ.get("IKEEAP_LIBRESWAN_PREFIX", LIBRESWAN_PREFIX))
LIBEXEC = PREFIX / "usr" / "libexec"
PLUTO = LIBEXEC / "ipsec" / "pluto"
WHACK = LIBEXEC / "ipsec" / "whack"
ADDCONN = LIBEXEC / "ipsec" / "addconn"
RUNDIR = "/run/pluto"  # inside pluto's mount namespace (a tmpfs /run)


class LibreswanError(CharonError):
    """pluto or whack failed; the message carries the log tail."""


def libreswan_unavailable_reason() -> str | None:
    """None if pluto can run here, else why not."""
    if os.geteuid() != 0:
        return "libreswan interop tests need root (network and mount namespaces)"
    for path in (PLUTO, WHACK, ADDCONN):
        if not os.access(path, os.X_OK):
            return (f"{path} missing: libreswan is not unpacked into {PREFIX} "
                    "(scripts/install-test-deps.sh)")
    for tool in ("certutil", "ip", "unshare", "nsenter", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not found (scripts/install-test-deps.sh)"
    ldd = _run(["ldd", str(PLUTO)], check=False).stdout
    missing = [line.split()[0] for line in ldd.splitlines() if "not found" in line]
    if missing:
        return f"pluto lacks libraries {', '.join(missing)} (scripts/install-test-deps.sh)"
    return None


# --------------------------------------------------------------------------------------------
# pluto's output


@dataclass(frozen=True)
class PlutoState:
    """One line of ``whack --showstates``: ``#1: "psk":500 STATE_V2_ESTABLISHED_IKE_SA ...``."""

    serial: int
    conn: str
    port: int  # the peer's port: 4500 after a NAT-T float
    state: str
    line: str

    @property
    def ike_established(self) -> bool:
        return self.state == "STATE_V2_ESTABLISHED_IKE_SA"

    @property
    def child_established(self) -> bool:
        return self.state == "STATE_V2_ESTABLISHED_CHILD_SA"


_RE_STATE = re.compile(r'#(\d+): "([^"]+)"(?:\[\d+\])?(?: [^:]*)?:(\d+) (STATE_\w+)')


def parse_showstates(text: str) -> list[PlutoState]:
    states = []
    for line in text.splitlines():
        m = _RE_STATE.search(line)
        if m:
            states.append(PlutoState(int(m.group(1)), m.group(2), int(m.group(3)),
                                     m.group(4), line))
    return states


def child_sa_outcome(log: str, spi: str | None = None) -> str | None:
    """"installed" (pluto logged an established Child SA), "negotiated" (it accepted the
    responder's Child SA and only the kernel refused the ESP SA towards the responder's inbound
    ``spi``, hex), or None.  ``spi`` None: any.  (pluto drops leading zeros: esp.c17ac86.)"""
    if re.search(r"(?:initiator )?established Child SA", log):
        return "installed"
    refused = re.findall(r"netlink response for Add SA esp\.([0-9a-f]+)@\S+: ", log)
    if any(spi is None or int(s, 16) == int(spi, 16) for s in refused):
        return "negotiated"
    return None


# --------------------------------------------------------------------------------------------
# ipsec.conf


def _conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_.:/@%+,=*-]+", text):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def ipsec_conf_text(setup: Mapping[str, Any], conns: Mapping[str, Mapping[str, Any]]) -> str:
    """``config setup`` + one ``conn`` section per entry (None values left out)."""
    lines = ["config setup"]
    lines += [f"\t{k}={_conf_value(v)}" for k, v in setup.items() if v is not None]
    for name, conn in conns.items():
        lines += ["", f"conn {name}"]
        lines += [f"\t{k}={_conf_value(v)}" for k, v in conn.items() if v is not None]
    return "\n".join(lines) + "\n"


def psk_conn(*, left: str, right: str, leftid: str, rightid: str,
             **extra: Any) -> dict[str, Any]:
    """A PSK connection that pluto only adds (the test initiates it with whack)."""
    conn: dict[str, Any] = {
        "ikev2": "insist", "authby": "secret",
        "left": left, "leftid": f"@{leftid}", "right": right, "rightid": f"@{rightid}",
        "leftupdown": "%disabled", "auto": "add",
        # short retransmits: a test that fails should fail in seconds
        "retransmit-timeout": "10s", "retransmit-interval": 500,
    }
    conn.update(extra)
    return conn


# --------------------------------------------------------------------------------------------
# pluto


class Pluto:
    """One pluto daemon in network namespace ``netns`` with a private mount namespace.

    >>> p = Pluto("ini", ns, workdir, conns={"psk": psk_conn(...)},
    ...           secrets=['@dev1.psk.test @vpn.example.test : PSK "..."'], childless=True)
    >>> p.start(); p.initiate("psk"); p.ike_sas()
    """

    def __init__(self, name: str, netns: Netns | str, workdir: Path, *,
                 conns: Mapping[str, Mapping[str, Any]], secrets: Sequence[str] = (),
                 childless: bool = False, revival: bool = True,
                 impairs: Sequence[str] = (), debug: str | None = None,
                 setup: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.netns = str(netns)
        self.workdir = Path(workdir)
        self.conns = dict(conns)
        self.secrets = list(secrets)
        self.impairs = [*(["omit-v2-ike-auth-child"] if childless else []),
                        *([] if revival else ["revival"]), *impairs]
        self.setup = {"plutodebug": debug or "none", "uniqueids": "no", **(setup or {})}
        self.conf_path = self.workdir / "ipsec.conf"
        self.secrets_path = self.workdir / "ipsec.secrets"
        self.nss_dir = self.workdir / "nss"
        self.log_path = self.workdir / "pluto.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life cycle ---------------------------------------------------------------------------

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(ipsec_conf_text(self.setup, self.conns))
        self.secrets_path.write_text("".join(f"{s}\n" for s in self.secrets))
        self.secrets_path.chmod(0o600)
        if not (self.nss_dir / "cert9.db").exists():
            self.nss_dir.mkdir(exist_ok=True)
            _run(["certutil", "-N", "-d", f"sql:{self.nss_dir}", "--empty-password"])

    def argv(self) -> list[str]:
        pluto = [str(PLUTO), "--nofork", "--stderrlog", "--config", str(self.conf_path),
                 "--secretsfile", str(self.secrets_path), "--nssdir", str(self.nss_dir),
                 "--ipsecdir", str(self.workdir), "--rundir", RUNDIR, "--no-dnssec"]
        ipsec_script = PREFIX / "usr" / "sbin" / "ipsec"
        script = " && ".join([
            "mount -t tmpfs -o mode=0755 tmpfs /run",
            f"mkdir -p {RUNDIR}",
            f"mount --bind {shlex.quote(str(LIBEXEC))} /usr/libexec",
            # strongswan-starter's /usr/sbin/ipsec would be the wrong one, should anything ask
            f"{{ [ ! -e /usr/sbin/ipsec ] || mount --bind {shlex.quote(str(ipsec_script))} "
            "/usr/sbin/ipsec; }",
            "exec " + shlex.join(pluto),
        ])
        return ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation",
                "private", "sh", "-c", script]

    def start(self, timeout: float = 10.0) -> Pluto:
        self.write_config()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        # ip netns exec, unshare and sh all exec: proc.pid is pluto's pid
        self.proc = subprocess.Popen(self.argv(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        wanted = [f'"{name}": added IKEv2 connection' for name in self.conns]
        while True:
            log = self.log_text()
            if self.proc.poll() is not None:
                raise LibreswanError(f"pluto {self.name} exited ({self.proc.returncode}) "
                                     f"while starting:\n{self.log_tail()}")
            if "loading secrets from" in log and all(w in log for w in wanted):
                break
            if time.monotonic() > deadline:
                raise LibreswanError(f"pluto {self.name} not ready after {timeout}s:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.05)
        for impair in self.impairs:
            self.whack("--impair", impair)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Pluto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- whack ----------------------------------------------------------------------------

    def whack(self, *args: str, timeout: float = 20.0, check: bool = True
              ) -> subprocess.CompletedProcess:
        if self.proc is None or self.proc.poll() is not None:
            raise LibreswanError(f"pluto {self.name} is not running:\n{self.log_tail()}")
        argv = ["nsenter", "-t", str(self.proc.pid), "-m", "-n", "-r", str(WHACK),
                "--rundir", RUNDIR, *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise LibreswanError(f"whack {' '.join(args)}: no answer in {timeout}s:\n"
                                 f"{self.log_tail()}") from exc
        if check and proc.returncode != 0:
            raise LibreswanError(f"whack {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}\n{self.log_tail()}")
        return proc

    def initiate(self, conn: str, timeout: float = 20.0, check: bool = False) -> str:
        """``whack --name conn --initiate``; it returns once the exchanges are done.  Its
        output (pluto's log lines for them)."""
        out = self.whack("--name", conn, "--initiate", timeout=timeout, check=check)
        return out.stdout + out.stderr

    def states(self) -> list[PlutoState]:
        return parse_showstates(self.whack("--showstates").stdout)

    def ike_sas(self, conn: str | None = None) -> list[PlutoState]:
        return [s for s in self.states()
                if s.ike_established and (conn is None or s.conn == conn)]

    def wait_ike_sas(self, count: int, conn: str | None = None, timeout: float = 10.0,
                     predicate=None) -> list[PlutoState]:
        """Wait until exactly ``count`` IKE SAs (of ``conn``) are established and satisfy
        ``predicate(list)`` if given."""
        deadline = time.monotonic() + timeout
        while True:
            sas = self.ike_sas(conn)
            if len(sas) == count and (predicate is None or predicate(sas)):
                return sas
            if time.monotonic() > deadline:
                raise LibreswanError(f"pluto {self.name}: wanted {count} IKE SAs, have "
                                     f"{[s.line for s in sas]}\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_log(self, pattern: str, timeout: float = 10.0, count: int = 1) -> list[str]:
        """Wait until pluto's log matches ``pattern`` (a regexp) ``count`` times."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log_text())
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise LibreswanError(f"pluto {self.name}: {pattern!r} not logged "
                                     f"{count}x in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    # -- logs -----------------------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of pluto's log without its algorithm table."""
        kept = [line for line in self.log_text().splitlines()
                if not re.match(r"^\S+ +\S+ +\S+:   ", line)]
        return "\n".join(kept[-lines:])


# --------------------------------------------------------------------------------------------
# a NAT between the initiator and ikeeap


@dataclass
class NatTopology(Topology):
    """initiator 10.77.0.2 -- (10.77.0.1 NAT 198.51.100.2) -- 198.51.100.1 responder."""

    nat_ns: Netns | None = field(default=None)
    nat_public_addr: str = "198.51.100.2"


def nat_topology(tag: str) -> NatTopology:
    """Three new namespaces: ``-r`` (responder, 198.51.100.1/30), ``-n`` (forwards and
    masquerades with nftables to its 198.51.100.2) and ``-i`` (initiator, 10.77.0.2/30,
    default route via the NAT)."""
    base = f"{NS_PREFIX}{tag}"
    owned: list[Netns] = []
    try:
        for suffix in ("r", "n", "i"):
            owned.append(Netns.create(f"{base}-{suffix}"))
        rns, nns, ins = owned
        _run(["ip", "link", "add", "veth-r", "netns", rns.name, "type", "veth",
              "peer", "name", "veth-o", "netns", nns.name])
        _run(["ip", "link", "add", "veth-i", "netns", ins.name, "type", "veth",
              "peer", "name", "veth-n", "netns", nns.name])
        for ns, ifname, addr in ((rns, "veth-r", "198.51.100.1/30"),
                                 (nns, "veth-o", "198.51.100.2/30"),
                                 (nns, "veth-n", "10.77.0.1/30"),
                                 (ins, "veth-i", "10.77.0.2/30")):
            _run(["ip", "-n", ns.name, "addr", "add", addr, "dev", ifname])
            _run(["ip", "-n", ns.name, "link", "set", ifname, "up"])
        _run(["ip", "-n", ins.name, "route", "add", "default", "via", "10.77.0.1"])
        nns.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        ruleset = ("table ip ikeeap_nat {\n"
                   "  chain postrouting {\n"
                   "    type nat hook postrouting priority srcnat; policy accept;\n"
                   '    oifname "veth-o" masquerade\n'
                   "  }\n"
                   "}\n")
        _run(["ip", "netns", "exec", nns.name, "nft", "-f", "-"], input=ruleset)
        for ns, ifname in ((rns, "veth-r"), (nns, "veth-o"), (nns, "veth-n"),
                           (ins, "veth-i")):
            _wait_up(ns, ifname)
    except BaseException:
        for ns in reversed(owned):
            ns.delete()
        raise
    return NatTopology(initiator_ns=ins, responder_ns=rns, initiator_addr="10.77.0.2",
                       responder_addr="198.51.100.1", initiator_if="veth-i",
                       responder_if="veth-r", _owned=owned, nat_ns=nns)


def _wait_up(ns: Netns, ifname: str, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = _run(["ip", "-n", ns.name, "-o", "link", "show", "dev", ifname],
                   check=False).stdout
        if " state UP " in out:
            return
        if time.monotonic() > deadline:
            raise CharonError(f"{ifname} in {ns} not up after {timeout}s: {out.strip()}")
        time.sleep(0.01)

