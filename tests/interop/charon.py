"""Run the real strongSwan charon in throw-away network namespaces for interop tests.

No pytest in here, so bench/ can import it too.  Everything needs root.

Topology
--------
``netns_pair()`` makes two fresh namespaces joined by a veth pair::

    [ns ikeeap-t<pid>-<n>-r]  veth-r 198.51.100.1/30  <---->  veth-i 198.51.100.2/30  [ns ...-i]
          responder (ikeeap, or a CharonResponder)            CharonInitiator

The addresses are the same for every pair (the namespaces are isolated), so tests never
clash on addresses or on UDP 500/4500.  ``root_link()`` instead puts the responder end in the
root namespace; each root link gets its own /30 out of 198.51.100.0/24 that overlaps no route
or address already in the root namespace (``ikt<hex>`` interface in the root namespace,
responder = first host, initiator = second host).  With ``ipv6=True`` 2001:db8:0:<n>::1/64
(responder) and ::2 (initiator) are added too (no DAD).  Virtual IPs handed out by
CharonResponder come from 203.0.113.0/24.  (192.0.2.0/24 is avoided on purpose: CI/dev hosts
may really use it, this one has it on eth0.)

charon isolation
----------------
Each charon runs as ``ip netns exec NS unshare --mount --propagation private sh -c '...'``
which mounts a tmpfs on /run (pid file, VICI socket) and bind-mounts the generated
strongswan.conf, swanctl directory and an empty strongswan.d over /etc.  ``swanctl`` is run
with ``nsenter -t <charon pid> -m -n`` so it sees the same files and socket.

Child SA criterion
------------------
This kernel has XFRM but no ESP, so with the default ``kernel="netlink"`` the initiator's
last step fails with "unable to install ... IPsec SA (SAD) in kernel".  strongSwan only
reaches that line after it accepted the responder's SA payload (a proposal it offered),
accepted the traffic selectors and derived the Child SA keys, so ``child_sa_negotiated(log)``
accepts either that line or a real "CHILD_SA name{n} established with SPIs" (which appears
with ``kernel="libipsec"``, the userland ESP).  The IKE SA itself stays ESTABLISHED
(``close_ike_on_child_failure = no``); charon then sends an INFORMATIONAL deleting the ESP SA.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import itertools
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from .system_deps import missing_charon_plugins

__all__ = [
    "Charon",
    "CharonError",
    "CharonInitiator",
    "CharonResponder",
    "ChildTraffic",
    "InitiatorConfig",
    "Netns",
    "NetnsPair",
    "ResponderConfig",
    "SwanctlResult",
    "Topology",
    "child_sa_negotiated",
    "child_sa_outcome",
    "cleanup_stale",
    "find_charon",
    "ike_sa_established",
    "interop_unavailable_reason",
    "netns_pair",
    "parse_ping_output",
    "parse_swanctl_pretty",
    "root_link",
    "run_in_netns",
    "stop_process",
    "swanctl_conf_text",
    "wait_udp_bound",
]

NS_PREFIX = "ikeeap-t"
ROOT_IF_PREFIX = "ikt"
LINK_NET4 = ipaddress.ip_network("198.51.100.0/24")  # TEST-NET-2, one /30 per link
LINK_NET6_FMT = "2001:db8:0:{:x}::{:x}"  # documentation prefix, one /64 per link
DEFAULT_POOL4 = "203.0.113.0/24"  # TEST-NET-3, virtual IPs handed out by CharonResponder
LOCK_PATH = "/run/lock/ikeeap-interop.lock"

CHARON_CANDIDATES = (
    "/usr/lib/ipsec/charon",
    "/usr/libexec/ipsec/charon",
    "/usr/lib/strongswan/charon",
    "/usr/libexec/strongswan/charon",
)

_counter = itertools.count(1)


class CharonError(RuntimeError):
    """charon or a namespace operation failed; the message carries the log tail."""


# --------------------------------------------------------------------------------------------
# small process helpers


def _run(argv: Sequence[str], *, check: bool = True, timeout: float = 20,
         input: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          input=input, check=False)
    if check and proc.returncode != 0:
        raise CharonError(f"{shlex.join(argv)} failed ({proc.returncode}): "
                          f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_charon() -> str | None:
    """Path of the charon daemon binary, or None."""
    env = os.environ.get("IKEEAP_CHARON")
    if env:
        return env if os.access(env, os.X_OK) else None
    for c in CHARON_CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    return None


def find_swanctl() -> str | None:
    return shutil.which("swanctl") or (
        "/usr/sbin/swanctl" if os.access("/usr/sbin/swanctl", os.X_OK) else None)


def interop_unavailable_reason() -> str | None:
    """None if charon interop tests can run here, else a human reason to skip."""
    if os.geteuid() != 0:
        return "interop tests need root (network namespaces)"
    for tool in ("ip", "unshare", "nsenter", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    if find_charon() is None:
        return "strongSwan charon not installed (scripts/install-test-deps.sh)"
    if find_swanctl() is None:
        return "swanctl not installed (scripts/install-test-deps.sh)"
    return None


def stop_process(proc: subprocess.Popen | None, timeout: float = 3.0) -> int | None:
    """SIGTERM, wait, SIGKILL.  Returns the exit status (None if there was no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
    return proc.returncode


# --------------------------------------------------------------------------------------------
# network namespaces


class Netns:
    """A named network namespace (``ip netns``) that this process created and will delete."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Netns({self.name!r})"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def create(cls, name: str | None = None) -> Netns:
        name = name or f"{NS_PREFIX}{os.getpid()}-{next(_counter)}"
        _run(["ip", "netns", "add", name])
        ns = cls(name)
        try:
            _run(["ip", "-n", name, "link", "set", "lo", "up"])
        except BaseException:
            ns.delete()
            raise
        return ns

    def exists(self) -> bool:
        return os.path.exists(f"/run/netns/{self.name}")

    def argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], *, check: bool = True,
            timeout: float = 20) -> subprocess.CompletedProcess:
        return _run(self.argv(argv), check=check, timeout=timeout)

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        return subprocess.Popen(self.argv(argv), **kwargs)

    def pids(self) -> list[int]:
        proc = _run(["ip", "netns", "pids", self.name], check=False)
        return [int(p) for p in proc.stdout.split() if p.isdigit()]

    def kill_all(self, timeout: float = 3.0) -> None:
        pids = self.pids()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if _pid_alive(p) and not _is_zombie(p)]
                if pids:
                    time.sleep(0.02)
            if not pids:
                return

    def delete(self) -> None:
        """Kill whatever still runs inside, then delete (idempotent)."""
        if not self.exists():
            return
        self.kill_all()
        _run(["ip", "netns", "delete", self.name], check=False)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def cleanup_stale() -> list[str]:
    """Delete namespaces left behind by dead test processes (``ikeeap-t<pid>-...``)."""
    removed = []
    proc = _run(["ip", "netns", "list"], check=False)
    for line in proc.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"^{re.escape(NS_PREFIX)}(\d+)-", name)
        if m and not _pid_alive(int(m.group(1))):
            Netns(name).delete()
            removed.append(name)
    return removed


def run_in_netns(ns: Netns | str | None, argv: Sequence[str], **popen_kwargs: Any
                 ) -> subprocess.Popen:
    """Start ``argv`` inside network namespace ``ns`` (None: the current one); a Popen.

    ``ip netns exec`` execs the command, so ``Popen.pid`` is the command's pid.  Stop it with
    ``stop_process(p)``.  Example: ``run_in_netns(topo.responder_ns, [sys.executable, "-m",
    "ikeeap", "serve", "--config", cfg], stdout=f, stderr=subprocess.STDOUT)``.
    """
    if ns is None:
        return subprocess.Popen(list(argv), **popen_kwargs)
    return subprocess.Popen(["ip", "netns", "exec", str(ns), *argv], **popen_kwargs)


def wait_udp_bound(ns: Netns | str | None, port: int, addr: str | None = None,
                   timeout: float = 10.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until something listens on UDP ``port`` (on ``addr`` or a wildcard) in ``ns``.

    Raises CharonError on timeout, or early if ``proc`` exits meanwhile.
    """
    argv = ["ss", "-Hnlu"]
    if ns is not None:
        argv = ["ip", "netns", "exec", str(ns), *argv]
    wanted = {f"*:{port}", f"0.0.0.0:{port}", f"[::]:{port}"}
    if addr is not None:
        a = ipaddress.ip_address(addr)
        wanted.add(f"{a}:{port}" if a.version == 4 else f"[{a}]:{port}")
    deadline = time.monotonic() + timeout
    while True:
        out = _run(argv, check=False).stdout
        for line in out.splitlines():
            cols = line.split()
            if len(cols) >= 4:
                local = re.sub(r"%\S+(?=:\d+$)", "", cols[3])  # strip "%iface"
                if local in wanted:
                    return
        if proc is not None and proc.poll() is not None:
            raise CharonError(f"process exited ({proc.returncode}) before binding UDP {port}")
        if time.monotonic() > deadline:
            raise CharonError(f"nothing bound UDP {addr or '*'}:{port} in {ns} "
                              f"within {timeout}s")
        time.sleep(0.05)


@dataclass
class Topology:
    """A veth link between the initiator's namespace and the responder side.

    ``responder_ns`` is None when the responder end lives in the root namespace.
    """

    initiator_ns: Netns
    responder_ns: Netns | None
    initiator_addr: str
    responder_addr: str
    initiator_if: str
    responder_if: str
    prefixlen: int = 30
    initiator_addr6: str | None = None
    responder_addr6: str | None = None
    _owned: list[Netns] = field(default_factory=list, repr=False)
    _root_if: str | None = field(default=None, repr=False)

    def run_responder(self, argv: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen:
        """Popen ``argv`` on the responder side (its netns, or the root namespace)."""
        return run_in_netns(self.responder_ns, argv, **popen_kwargs)

    def run_initiator(self, argv: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen:
        return run_in_netns(self.initiator_ns, argv, **popen_kwargs)

    def close(self) -> None:
        for ns in reversed(self._owned):
            ns.delete()
        self._owned.clear()
        if self._root_if:  # normally gone with the peer's namespace already
            if os.path.exists(f"/sys/class/net/{self._root_if}"):
                _run(["ip", "link", "del", self._root_if], check=False)
            self._root_if = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _v6(index: int, host: int) -> str:
    return str(ipaddress.ip_address(LINK_NET6_FMT.format(index, host)))


def _link_addrs(index: int) -> tuple[str, str]:
    base = int(LINK_NET4.network_address) + 4 * index
    return str(ipaddress.ip_address(base + 1)), str(ipaddress.ip_address(base + 2))


def _configure_end(ns: Netns | None, ifname: str, addr: str, prefixlen: int,
                   addr6: str | None) -> None:
    ip = ["ip"] if ns is None else ["ip", "-n", ns.name]
    _run([*ip, "addr", "add", f"{addr}/{prefixlen}", "dev", ifname])
    if addr6:
        _run([*ip, "-6", "addr", "add", f"{addr6}/64", "dev", ifname, "nodad"])
    _run([*ip, "link", "set", ifname, "up"])


def _wait_oper_up(ns: Netns | None, ifname: str, timeout: float = 3.0) -> None:
    """veth reports carrier a moment after both ends are up; wait for it."""
    ip = ["ip"] if ns is None else ["ip", "-n", ns.name]
    deadline = time.monotonic() + timeout
    while True:
        out = _run([*ip, "-o", "link", "show", "dev", ifname], check=False).stdout
        if " state UP " in out:
            return
        if time.monotonic() > deadline:
            raise CharonError(f"{ifname} in {ns} not up after {timeout}s: {out.strip()}")
        time.sleep(0.01)


def _root_prefixes(version: int) -> list:
    """Every route destination and address prefix in the root namespace (not defaults)."""
    nets = []
    out = _run(["ip", f"-{version}", "route", "show", "table", "all"], check=False).stdout
    for line in out.splitlines():
        words = line.split()
        if not words:
            continue
        dst = words[1] if words[0] in ("local", "broadcast", "unicast", "anycast",
                                      "multicast", "unreachable", "blackhole",
                                      "prohibit", "throw") and len(words) > 1 else words[0]
        if dst == "default":
            continue
        with contextlib.suppress(ValueError):
            nets.append(ipaddress.ip_network(dst, strict=False))
    out = _run(["ip", "-o", f"-{version}", "addr", "show"], check=False).stdout
    for m in re.finditer(r"inet6? ([0-9a-fA-F:.]+/\d+)", out):
        with contextlib.suppress(ValueError):
            nets.append(ipaddress.ip_interface(m.group(1)).network)
    return [n for n in nets if n.prefixlen > 0]


def _free_root_index(ipv6: bool) -> int:
    """A /30 index in LINK_NET4 (and /64 in 2001:db8:0:<i>::) that the root ns doesn't use."""
    used4 = _root_prefixes(4)
    used6 = _root_prefixes(6) if ipv6 else []
    for index in range(1, 64):
        net4 = ipaddress.ip_network(f"{_link_addrs(index)[0]}/30", strict=False)
        if any(net4.overlaps(n) for n in used4):
            continue
        if ipv6:
            net6 = ipaddress.ip_network(LINK_NET6_FMT.format(index, 0) + "/64")
            if any(net6.overlaps(n) for n in used6):
                continue
        return index
    raise CharonError(f"no /30 of {LINK_NET4} is free in the root namespace")


def netns_pair(tag: str | None = None, *, ipv6: bool = False) -> Topology:
    """Two new namespaces joined by veth: responder 198.51.100.1, initiator 198.51.100.2."""
    tag = tag or f"{os.getpid()}-{next(_counter)}"
    base = f"{NS_PREFIX}{_pid_tag(tag)}"
    owned: list[Netns] = []
    try:
        rns = Netns.create(f"{base}-r")
        owned.append(rns)
        ins = Netns.create(f"{base}-i")
        owned.append(ins)
        _run(["ip", "link", "add", "veth-r", "netns", rns.name, "type", "veth",
              "peer", "name", "veth-i", "netns", ins.name])
        raddr, iaddr = _link_addrs(0)
        r6 = _v6(0, 1) if ipv6 else None
        i6 = _v6(0, 2) if ipv6 else None
        _configure_end(rns, "veth-r", raddr, 30, r6)
        _configure_end(ins, "veth-i", iaddr, 30, i6)
        _wait_oper_up(rns, "veth-r")
        _wait_oper_up(ins, "veth-i")
    except BaseException:
        for ns in reversed(owned):
            ns.delete()
        raise
    return Topology(initiator_ns=ins, responder_ns=rns, initiator_addr=iaddr,
                    responder_addr=raddr, initiator_if="veth-i", responder_if="veth-r",
                    initiator_addr6=i6, responder_addr6=r6, _owned=owned)


NetnsPair = netns_pair  # the name used in the design notes


def _pid_tag(tag: str) -> str:
    """Namespace names start with our pid so cleanup_stale() can tell dead owners."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:40]
    pid = str(os.getpid())
    return tag if tag.startswith(pid + "-") else f"{pid}-{tag}"


@contextlib.contextmanager
def _global_lock():
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    with open(LOCK_PATH, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def root_link(tag: str | None = None, *, ipv6: bool = False) -> Topology:
    """A new initiator namespace linked to the root namespace (responder end in root).

    Each link gets a /30 of 198.51.100.0/24 that no root-namespace route or address overlaps:
    responder (root) = .4n+1, initiator = .4n+2 (n >= 1).
    """
    tag = tag or f"{os.getpid()}-{next(_counter)}"
    ins = Netns.create(f"{NS_PREFIX}{_pid_tag(tag)}-i")
    root_if = f"{ROOT_IF_PREFIX}{os.urandom(4).hex()}"  # 11 chars < IFNAMSIZ
    try:
        with _global_lock():
            index = _free_root_index(ipv6)
            raddr, iaddr = _link_addrs(index)
            r6 = _v6(index, 1) if ipv6 else None
            i6 = _v6(index, 2) if ipv6 else None
            _run(["ip", "link", "add", root_if, "type", "veth", "peer", "name", "veth-i",
                  "netns", ins.name])
            _configure_end(None, root_if, raddr, 30, r6)
        _configure_end(ins, "veth-i", iaddr, 30, i6)
        _wait_oper_up(None, root_if)
        _wait_oper_up(ins, "veth-i")
    except BaseException:
        ins.delete()
        if os.path.exists(f"/sys/class/net/{root_if}"):
            _run(["ip", "link", "del", root_if], check=False)
        raise
    return Topology(initiator_ns=ins, responder_ns=None, initiator_addr=iaddr,
                    responder_addr=raddr, initiator_if="veth-i", responder_if=root_if,
                    initiator_addr6=i6, responder_addr6=r6, _owned=[ins], _root_if=root_if)


# --------------------------------------------------------------------------------------------
# strongSwan configuration syntax


_SIMPLE_VALUE = re.compile(r"^[A-Za-z0-9_.:/@%+=*-]+$")


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        v = ",".join(str(x) for x in v)
    s = str(v)
    if _SIMPLE_VALUE.match(s) or (s and all(_SIMPLE_VALUE.match(p) for p in s.split(","))):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def swanctl_conf_text(tree: Mapping[str, Any], indent: int = 0) -> str:
    """Render a nested dict in strongswan.conf / swanctl.conf syntax (None values skipped)."""
    pad = "    " * indent
    lines: list[str] = []
    for key, value in tree.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key} {{")
            lines.append(swanctl_conf_text(value, indent + 1).rstrip("\n"))
            lines.append(f"{pad}}}")
        else:
            lines.append(f"{pad}{key} = {_fmt_value(value)}")
    return "\n".join(l for l in lines if l) + "\n"


def _deep_merge(base: dict, extra: Mapping | None) -> dict:
    for k, v in (extra or {}).items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            _deep_merge(base[k], v)
        else:
            base[k] = v
    return base


# --------------------------------------------------------------------------------------------
# swanctl output


def parse_swanctl_pretty(text: str) -> list[tuple[str, Any]]:
    """Parse ``swanctl --pretty`` output into [(top-level section name, dict), ...].

    Sections become dicts, ``[ ]`` lists become lists of strings, ``k = v`` strings.  Lines
    that are not part of the structure (log lines) are ignored.
    """
    top: list[tuple[str, Any]] = []
    stack: list[Any] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith("{") and not (stack and isinstance(stack[-1], list)):
            name = line[:-1].strip()
            new: dict = {}
            if stack:
                stack[-1][name] = new
            else:
                top.append((name, new))
            stack.append(new)
        elif line.endswith("[") and stack and isinstance(stack[-1], dict):
            new_list: list = []
            stack[-1][line[:-1].strip().rstrip("=").strip()] = new_list
            stack.append(new_list)
        elif line in ("}", "]") and stack:
            stack.pop()
        elif stack and isinstance(stack[-1], list):
            stack[-1].append(line)
        elif stack and " = " in line:
            k, v = line.split(" = ", 1)
            stack[-1][k.strip()] = v
    return top


def _ike_sas_from_listing(text: str) -> list[dict]:
    sas: list[dict] = []
    for section, body in parse_swanctl_pretty(text):
        if section != "list-sa event" or not isinstance(body, dict):
            continue
        for name, ike in body.items():
            if not isinstance(ike, dict):
                continue
            d = dict(ike)
            d["name"] = name
            children = []
            for key, child in (ike.get("child-sas") or {}).items():
                if isinstance(child, dict):
                    c = dict(child)
                    c.setdefault("name", key)
                    c["key"] = key
                    children.append(c)
            d["child-sas"] = children
            d["vips"] = list(ike.get("local-vips") or [])
            sas.append(d)
    return sas


# --------------------------------------------------------------------------------------------
# log criteria

_RE_CHILD_INSTALLED = re.compile(r"CHILD_SA (\S+)\{\d+\} established with SPIs")
_RE_CHILD_SAD_FAIL = re.compile(
    r"unable to install (?:inbound )?(?:and )?(?:outbound )?IPsec SA \(SAD\) in kernel")
_RE_IKE_ESTABLISHED = re.compile(r"IKE_SA (\S+)\[\d+\] established between")


def child_sa_outcome(log: str) -> str | None:
    """"installed" (a CHILD_SA established line), "negotiated" (negotiation completed, only
    the kernel SAD install failed), or None (no Child SA was agreed)."""
    if _RE_CHILD_INSTALLED.search(log):
        return "installed"
    if _RE_CHILD_SAD_FAIL.search(log):
        return "negotiated"
    return None


def child_sa_negotiated(log: str) -> bool:
    """True when charon's log shows the Child SA was fully negotiated (see module doc)."""
    return child_sa_outcome(log) is not None


def ike_sa_established(log: str) -> bool:
    return bool(_RE_IKE_ESTABLISHED.search(log))


# --------------------------------------------------------------------------------------------
# charon


@dataclass
class SwanctlResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (f"swanctl {' '.join(self.argv)} -> {self.returncode} in {self.duration:.3f}s\n"
                f"{self.output}")


# charon's plugins (kernel-netlink / kernel-libipsec are inserted before socket-default).
# openssl does every IKE/ESP algorithm here, incl. chacha20poly1305, curve25519, and (legacy
# provider) the MD4/DES that EAP-MSCHAPv2 needs; kdf does prf+ in 5.9.8.
BASE_PLUGINS = (
    "random", "nonce", "openssl", "pem", "pkcs1", "pkcs8", "x509", "revocation", "constraints",
    "pubkey", "kdf", "socket-default", "vici", "eap-identity", "eap-md5", "eap-mschapv2",
    "eap-gtc", "eap-tls", "eap-ttls",
)

SWANCTL_PLUGINS = ("random", "openssl", "pem", "pkcs1", "pkcs8", "x509", "pubkey")

DEFAULT_LOG_LEVELS = {"default": 1, "ike": 2, "cfg": 2, "enc": 2, "tls": 2, "knl": 1,
                      "net": 1, "lib": 1, "asn": 0}


def _kernel_choice(kernel: str, libipsec: bool | None) -> str:
    """``libipsec=True`` is ``kernel="libipsec"``, False ``"netlink"``, None: ``kernel``."""
    if libipsec is None:
        return kernel
    return "libipsec" if libipsec else "netlink"


_RE_PING_STATS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def parse_ping_output(text: str) -> tuple[int, int]:
    """(sent, received) from iputils ``ping``'s statistics line; CharonError without one."""
    m = _RE_PING_STATS.search(text)
    if not m:
        raise CharonError(f"no ping statistics in output:\n{text.strip()}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class ChildTraffic:
    """ESP counters of the installed Child SAs of one name (``swanctl --list-sas``)."""

    bytes_in: int = 0
    packets_in: int = 0
    bytes_out: int = 0
    packets_out: int = 0
    children: int = 0  # how many Child SAs were summed


class Charon:
    """One charon daemon in its own network + mount namespace (base class).

    Subclasses supply ``swanctl_tree()``.  Call ``start()`` (or use ``with``), ``stop()``
    always cleans up: it kills charon, deletes namespaces this object created, and removes
    the work directory if it was a temporary one made here.
    """

    role = "charon"

    def __init__(self, name: str, workdir: str | os.PathLike | None, netns: Netns | None, *,
                 kernel: str = "netlink", log_levels: Mapping[str, int] | None = None,
                 retransmit_timeout: float = 1.0, retransmit_tries: int = 2,
                 retransmit_base: float = 1.0, plugins: Sequence[str] | None = None,
                 extra_plugins: Sequence[str] = (),
                 strongswan_extra: Mapping[str, Any] | None = None,
                 charon_path: str | None = None, libipsec: bool | None = None) -> None:
        kernel = _kernel_choice(kernel, libipsec)
        if kernel not in ("netlink", "libipsec"):
            raise ValueError("kernel must be 'netlink' or 'libipsec'")
        self.name = name
        self.netns = netns
        self.kernel = kernel
        self._owned_tmp = workdir is None
        self.workdir = Path(workdir) if workdir else Path(
            tempfile.mkdtemp(prefix=f"ikeeap-charon-{name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.etc = self.workdir / "etc"
        self.log_path = self.workdir / "charon.log"
        self.out_path = self.workdir / "charon.out"
        self.log_levels = dict(DEFAULT_LOG_LEVELS)
        self.log_levels.update(log_levels or {})
        self.retransmit = (retransmit_timeout, retransmit_tries, retransmit_base)
        self.plugins = list(plugins) if plugins else self._default_plugins()
        self.plugins += [p for p in extra_plugins if p not in self.plugins]
        self.strongswan_extra = strongswan_extra
        self.charon_path = charon_path or find_charon()
        self.swanctl_path = find_swanctl() or "swanctl"
        self.proc: subprocess.Popen | None = None
        self._out = None
        self._topology: Topology | None = None  # owned, closed by stop()

    # -- configuration ----------------------------------------------------------------------

    def _default_plugins(self) -> list[str]:
        plugins = list(BASE_PLUGINS)
        if self.kernel == "libipsec":
            plugins.insert(plugins.index("socket-default"), "kernel-libipsec")
        plugins.insert(plugins.index("socket-default"), "kernel-netlink")
        return plugins

    def strongswan_tree(self) -> dict:
        timeout, tries, base = self.retransmit
        charon: dict[str, Any] = {
            "load": " ".join(self.plugins),
            "install_routes": False,
            "install_virtual_ip": True,
            "retransmit_timeout": timeout,
            "retransmit_tries": tries,
            "retransmit_base": base,
            "retransmit_jitter": 0,
            "reuse_ikesa": False,
            "close_ike_on_child_failure": False,
            "filelog": {
                "charon": {
                    "path": str(self.log_path),
                    "time_format": "%H:%M:%S",
                    "ike_name": True,
                    "append": True,
                    "flush_line": True,
                    **{k: v for k, v in self.log_levels.items()},
                },
            },
            "syslog": {"daemon": {"default": -1}, "auth": {"default": -1}},
            "plugins": {
                "openssl": {"load_legacy": True},  # MD4 and DES for EAP-MSCHAPv2
                "vici": {"socket": "unix:///run/charon.vici"},
                "eap-ttls": {"phase2_method": "md5"},
            },
        }
        if self.kernel == "libipsec":
            # interop.md: libipsec routes the peer into its TUN device; keep IKE out of it
            charon["plugins"]["kernel-libipsec"] = {"allow_peer_ts": True}
            charon["plugins"]["socket-default"] = {"fwmark": "0x42"}
            charon["plugins"]["kernel-netlink"] = {"fwmark": "!0x42"}
        tree = {"charon": charon,
                "swanctl": {"socket": "unix:///run/charon.vici", "load": " ".join(SWANCTL_PLUGINS)}}
        return _deep_merge(tree, self.strongswan_extra)

    def swanctl_tree(self) -> dict:
        raise NotImplementedError

    def _install_file(self, src: str | os.PathLike, subdir: str) -> str:
        """Copy a PEM into etc/swanctl/<subdir>/ and return its file name."""
        src = Path(src)
        dst = self.etc / "swanctl" / subdir / src.name
        shutil.copyfile(src, dst)
        if subdir == "private":
            dst.chmod(0o600)
        return src.name

    def write_config(self) -> None:
        swd = self.etc / "swanctl"
        for sub in ("x509", "x509ca", "private", "conf.d"):
            (swd / sub).mkdir(parents=True, exist_ok=True)
        (self.etc / "strongswan.d").mkdir(parents=True, exist_ok=True)
        tree = self.swanctl_tree()  # may copy certificates into swd
        (swd / "swanctl.conf").write_text(swanctl_conf_text(tree))
        (swd / "swanctl.conf").chmod(0o600)
        (self.etc / "strongswan.conf").write_text(swanctl_conf_text(self.strongswan_tree()))

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Charon:
        if self.proc is not None:
            return self
        if not self.charon_path:
            raise CharonError("charon binary not found")
        gaps = missing_charon_plugins(self.plugins)
        if gaps:  # charon would exit at start with a log that hides which package is missing
            raise CharonError(f"{self.name}: " + "; ".join(gaps))
        self.write_config()
        self.log_path.write_text("")
        q = shlex.quote
        script = "; ".join([
            "set -e",
            "mount -t tmpfs -o mode=0755 tmpfs /run",
            f"mount --bind {q(str(self.etc / 'strongswan.conf'))} /etc/strongswan.conf",
            f"mount --bind {q(str(self.etc / 'swanctl'))} /etc/swanctl",
            f"mount --bind {q(str(self.etc / 'strongswan.d'))} /etc/strongswan.d",
            f"exec {q(self.charon_path)}",
        ])
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        self._out = open(self.out_path, "ab")  # noqa: SIM115 (closed by stop())
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGSWAN")}
        self.proc = run_in_netns(self.netns, argv, stdout=self._out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            self._wait_ready(timeout)
            res = self.swanctl("--load-all", "--noprompt")
            if not res.ok or "loaded connection" not in res.output:
                raise CharonError(f"{self.name}: swanctl --load-all failed\n{res}\n"
                                  f"{self.log_tail()}")
            self.load_result = res
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        sock = f"/proc/{self.proc.pid}/root/run/charon.vici"
        while True:
            if self.proc.poll() is not None:
                raise CharonError(f"{self.name}: charon exited ({self.proc.returncode})\n"
                                  f"{self.out_path.read_text(errors='replace')}\n"
                                  f"{self.log_tail()}")
            # only once the pid is charon itself: before that /run may still be the real one
            if self._is_charon_exe() and os.path.exists(sock):
                res = self.swanctl("--stats", timeout=5)
                if res.ok:
                    return
            if time.monotonic() > deadline:
                raise CharonError(f"{self.name}: charon not ready in {timeout}s\n"
                                  f"{self.log_tail()}")
            time.sleep(0.02)

    def _is_charon_exe(self) -> bool:
        # The same file, not the same path: from another mount namespace (a chroot, as in
        # scripts/fresh-check.sh) the kernel shows the link with the full outer path.
        try:
            exe, charon = os.stat(f"/proc/{self.proc.pid}/exe"), os.stat(self.charon_path)
        except OSError:
            return False
        return (exe.st_dev, exe.st_ino) == (charon.st_dev, charon.st_ino)

    def stop(self) -> None:
        """Kill charon, delete owned namespaces and temp files.  Safe to call repeatedly."""
        try:
            if self.proc is not None:
                stop_process(self.proc, timeout=3.0)
        finally:
            if self._out is not None:
                self._out.close()
                self._out = None
            if self._topology is not None:
                self._topology.close()
                self._topology = None
            if self._owned_tmp and self.workdir.exists():
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- control ----------------------------------------------------------------------------

    def swanctl(self, *args: str, timeout: float = 20.0) -> SwanctlResult:
        if self.proc is None:
            raise CharonError("charon not started")
        # -r: charon's root too; entering a mount namespace alone resets the root to the
        # namespace's, which leaves a chroot (scripts/fresh-check.sh runs the suite in one)
        argv = ["nsenter", "-t", str(self.proc.pid), "-m", "-n", "-r", self.swanctl_path, *args]
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL, check=False)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc = -1
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (
                e.stdout or "")
            err = f"swanctl timed out after {timeout}s"
        return SwanctlResult(list(args), rc, out, err, time.monotonic() - t0)

    def list_sas(self, ike: str | None = None) -> list[dict]:
        """IKE SAs as dicts: swanctl's keys ("state", "local-host", "remote-id", "encr-alg",
        "dh-group", ...) plus "name", "vips" (list) and "child-sas" (list of dicts with
        "name", "state", "protocol", "spi-in", ...)."""
        args = ["--list-sas", "--pretty"]
        if ike:
            args += ["--ike", ike]
        res = self.swanctl(*args)
        if not res.ok:
            raise CharonError(f"list-sas failed: {res}")
        return _ike_sas_from_listing(res.stdout)

    def established_sas(self) -> list[dict]:
        return [sa for sa in self.list_sas() if sa.get("state") == "ESTABLISHED"]

    def child_traffic(self, child: str | None = None) -> ChildTraffic:
        """Sum of bytes/packets in and out of the INSTALLED Child SAs named ``child`` (every
        Child SA when None), from ``swanctl --list-sas``.  With ``kernel="libipsec"`` these
        count what libipsec really encrypted/decrypted; kernel-netlink SAs that failed to
        install are not listed at all."""
        totals = {"bytes-in": 0, "packets-in": 0, "bytes-out": 0, "packets-out": 0}
        n = 0
        for sa in self.list_sas():
            for c in sa["child-sas"]:
                if c.get("state") != "INSTALLED" or (child and c.get("name") != child):
                    continue
                n += 1
                for k in totals:
                    totals[k] += int(c.get(k, 0) or 0)
        return ChildTraffic(totals["bytes-in"], totals["packets-in"], totals["bytes-out"],
                            totals["packets-out"], n)

    # -- traffic from charon's network namespace ---------------------------------------------

    def netns_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run in charon's network namespace (not its mount namespace, so the
        caller's files are visible); charon must be running."""
        if self.proc is None:
            raise CharonError("charon not started")
        return ["nsenter", "-t", str(self.proc.pid), "-n", *argv]

    def route_dev(self, dest: str) -> str | None:
        """Device the kernel in charon's namespace routes unmarked traffic to ``dest`` over
        (``ip route get``): ``ipsec0`` once a libipsec Child SA covers ``dest``."""
        out = _run(self.netns_argv(["ip", "-o", "route", "get", dest]), check=False).stdout
        m = re.search(r"\bdev (\S+)", out)
        return m.group(1) if m else None

    def ping(self, dest: str, count: int = 20, interval: float = 0.2, *,
             size: int | None = None, source: str | None = None, wait: float = 2.0,
             timeout: float | None = None) -> tuple[int, int]:
        """``ping -c count -i interval dest`` in charon's network namespace; (sent, received).

        Meant for ``kernel="libipsec"``: once the Child SA is up, traffic to the peer's
        tunnelled addresses goes through libipsec's TUN (``ipsec0``), sourced from the virtual
        IP.  ``size`` is ping's ``-s``, ``source`` its ``-I``, ``wait`` seconds to wait for the
        last reply.  The whole output is kept in ``self.last_ping_output``.  Raises CharonError
        when ping is missing (package iputils-ping) or printed no statistics.
        """
        exe = shutil.which("ping")
        if exe is None:
            raise CharonError("ping not found (package iputils-ping, "
                              "scripts/install-test-deps.sh)")
        argv = [exe, "-n", "-c", str(count), "-i", f"{interval:g}", "-W", f"{wait:g}",
                "-w", f"{math.ceil(count * interval + wait + 1)}"]
        if size is not None:
            argv += ["-s", str(size)]
        if source:
            argv += ["-I", source]
        argv.append(dest)
        if timeout is None:
            timeout = count * interval + wait + 10
        proc = _run(self.netns_argv(argv), check=False, timeout=timeout)
        self.last_ping_output = proc.stdout + proc.stderr
        return parse_ping_output(self.last_ping_output)

    last_ping_output = ""

    def terminate(self, ike: str | None = None, timeout: float = 5.0,
                  force: bool = False) -> SwanctlResult:
        args = ["--terminate", "--ike", ike or self.ike_name, "--timeout", str(int(timeout))]
        if force:
            args.append("--force")
        return self.swanctl(*args, timeout=timeout + 10)

    ike_name = "ikeeap"

    # -- logs -------------------------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_mark(self) -> int:
        """Current log length; pass as ``start`` to wait_for_log()/slice log_text() to look
        only at what a later step logged."""
        return len(self.log_text())

    def wait_for_log(self, pattern: str | re.Pattern, timeout: float = 10.0,
                     start: int = 0) -> re.Match | None:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text(), start)
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.02)

    def child_sa_negotiated(self) -> bool:
        return child_sa_negotiated(self.log_text())


# --------------------------------------------------------------------------------------------
# initiator


LOCAL_AUTHS = ("eap-md5", "eap-mschapv2", "eap-gtc", "eap-tls", "eap-ttls", "eap", "psk",
               "pubkey")


@dataclass
class InitiatorConfig:
    """Parameters of the connection a CharonInitiator proposes (swanctl.conf terms)."""

    local_auth: str = "eap-mschapv2"  # one of LOCAL_AUTHS
    eap_id: str | None = "alice"  # EAP identity (sent in EAP-Identity)
    eap_secret: str | None = None  # password for eap-md5/mschapv2/gtc/ttls(inner)
    local_id: str | None = None  # IDi; default: eap_id, else the local address
    remote_auth: str | None = "pubkey"  # pubkey | psk | eap-tls | eap-ttls | eap | None
    remote_id: str | None = None  # expected IDr (%any when None)
    psk: str | None = None  # IKE pre-shared key (local_auth/remote_auth psk)
    ike_proposals: Sequence[str] = ("aes128-sha256-modp2048",)
    esp_proposals: Sequence[str] = ("aes128-sha256",)
    cacerts: Sequence[str | os.PathLike] = ()  # CA certs to trust (PEM paths)
    cert: str | os.PathLike | None = None  # own certificate (pubkey / eap-tls)
    key: str | os.PathLike | None = None  # its private key (PEM)
    vips: Sequence[str] | None = ("0.0.0.0",)  # request a virtual IP; None/() for none
    mobike: bool = False
    encap: bool = False  # fake NAT detection -> IKE floats to 4500, ESP-in-UDP
    fragmentation: str = "yes"  # yes | accept | force | no
    keyingtries: int = 1
    aaa_id: str | None = None  # identity the EAP-(T)TLS server cert is checked against
    local_ts: Sequence[str] = ("dynamic",)
    remote_ts: Sequence[str] = ("0.0.0.0/0",)
    send_certreq: bool = True
    local_port: int = 500
    remote_port: int = 500
    conn_extra: Mapping[str, Any] | None = None  # merged into connections.<conn>
    child_extra: Mapping[str, Any] | None = None  # merged into ...children.<child>

    def __post_init__(self) -> None:
        if self.local_auth not in LOCAL_AUTHS:
            raise ValueError(f"local_auth must be one of {LOCAL_AUTHS}")


class CharonInitiator(Charon):
    """strongSwan as the IKEv2 initiator (a remote-access client) in its own namespace.

    ``CharonInitiator(name, workdir, topology=topo, local_auth="eap-mschapv2", eap_id="alice",
    eap_secret="pw", cacerts=[ca], remote_id="vpn.example.test")``, then ``start()``,
    ``initiate()``, ``list_sas()``, ``child_sa_negotiated()``, ``stop()``.

    Where it runs: ``topology`` (its ``initiator_ns``/addresses), or ``netns`` plus
    ``local_addr``/``peer_addr``, or neither: then a ``root_link()`` is created (and deleted
    by ``stop()``); the responder then listens on ``self.peer_addr`` in the root namespace.
    ``kernel="libipsec"`` (or ``libipsec=True``) uses userland ESP so the Child SA really
    installs: charon loads kernel-libipsec next to kernel-netlink, the connection gets
    ``encap = yes`` (libipsec only does ESP-in-UDP), and strongswan.conf gets
    ``kernel-libipsec.allow_peer_ts = yes``, ``socket-default.fwmark = 0x42`` and
    ``kernel-netlink.fwmark = !0x42`` (IKE packets carry mark 0x42 and skip routing table 220,
    where charon routes the remote traffic selectors into the TUN device ``ipsec0``).  After
    ``initiate()`` traffic from the namespace to the responder's tunnelled addresses goes
    through ESP: ``ping(dest, count, interval) -> (sent, received)``, ``route_dev(dest)``,
    ``child_traffic()``.  Other keyword arguments are ``InitiatorConfig`` fields.
    """

    role = "initiator"

    def __init__(self, name: str, workdir: str | os.PathLike | None = None, *,
                 topology: Topology | None = None, netns: Netns | None = None,
                 local_addr: str | None = None, peer_addr: str | None = None,
                 conn_name: str = "ikeeap", child_name: str | None = None,
                 kernel: str = "netlink", log_levels: Mapping[str, int] | None = None,
                 retransmit_timeout: float = 1.0, retransmit_tries: int = 2,
                 retransmit_base: float = 1.0, plugins: Sequence[str] | None = None,
                 extra_plugins: Sequence[str] = (),
                 strongswan_extra: Mapping[str, Any] | None = None,
                 libipsec: bool | None = None,
                 config: InitiatorConfig | None = None, **options: Any) -> None:
        kernel = _kernel_choice(kernel, libipsec)
        if config is not None and options:
            raise TypeError("pass either config= or keyword options, not both")
        owned_topology = None
        if topology is None and netns is None:
            owned_topology = topology = root_link(name)
        if topology is not None:
            netns = topology.initiator_ns
            local_addr = local_addr or topology.initiator_addr
            peer_addr = peer_addr or topology.responder_addr
        if not (local_addr and peer_addr):
            raise ValueError("local_addr and peer_addr are needed with netns=")
        try:
            super().__init__(name, workdir, netns, kernel=kernel, log_levels=log_levels,
                             retransmit_timeout=retransmit_timeout,
                             retransmit_tries=retransmit_tries,
                             retransmit_base=retransmit_base, plugins=plugins,
                             extra_plugins=extra_plugins, strongswan_extra=strongswan_extra)
            self.config = config or InitiatorConfig(**options)
        except BaseException:
            if owned_topology:
                owned_topology.close()
            raise
        self._topology = owned_topology
        self.topology = topology
        self.local_addr = local_addr
        self.peer_addr = peer_addr
        self.ike_name = conn_name
        self.child_name = child_name or conn_name
        if self.kernel == "libipsec":
            self.config.encap = True  # libipsec only does ESP-in-UDP

    def swanctl_tree(self) -> dict:
        c = self.config
        local: dict[str, Any] = {"auth": c.local_auth}
        local_id = c.local_id or (c.eap_id if c.local_auth.startswith("eap") else None)
        local["id"] = local_id or self.local_addr
        if c.local_auth.startswith("eap") and c.eap_id:
            local["eap_id"] = c.eap_id
        if c.aaa_id:
            local["aaa_id"] = c.aaa_id
        if c.cert:
            local["certs"] = self._install_file(c.cert, "x509")
        remote: dict[str, Any] = {"auth": c.remote_auth, "id": c.remote_id or "%any"}
        cacerts = [self._install_file(p, "x509ca") for p in c.cacerts]  # trusted anyway
        # EAP-only (remote auth eap*): the (T)TLS method checks the server certificate against
        # the trusted CAs; a remote cacerts constraint fails ("peer not authenticated by CA").
        if cacerts and c.remote_auth not in ("psk", None) and not c.remote_auth.startswith("eap"):
            remote["cacerts"] = ",".join(cacerts)  # and required as the peer's issuer
        if c.key:
            self._install_file(c.key, "private")

        child = {
            "local_ts": list(c.local_ts),
            "remote_ts": list(c.remote_ts),
            "esp_proposals": list(c.esp_proposals),
            "start_action": "none",
            "close_action": "none",
            "dpd_action": "clear",
            "rekey_time": 0,
        }
        _deep_merge(child, c.child_extra)
        conn: dict[str, Any] = {
            "version": 2,
            "local_addrs": self.local_addr,
            "remote_addrs": self.peer_addr,
            "local_port": c.local_port if c.local_port != 500 else None,
            "remote_port": c.remote_port if c.remote_port != 500 else None,
            "proposals": list(c.ike_proposals),
            "vips": list(c.vips) if c.vips else None,
            "mobike": c.mobike,
            "encap": c.encap,
            "fragmentation": c.fragmentation,
            "keyingtries": c.keyingtries,
            "send_certreq": c.send_certreq,
            "unique": "no",
            "rekey_time": 0,
            "reauth_time": 0,
            "dpd_delay": 0,
            "local": local,
            "remote": remote,
            "children": {self.child_name: child},
        }
        _deep_merge(conn, c.conn_extra)
        secrets: dict[str, Any] = {}
        if c.eap_secret is not None:
            secrets["eap-user"] = {"id": c.eap_id or local["id"], "secret": c.eap_secret}
        if c.psk is not None:
            secrets["ike-psk"] = {"secret": c.psk}
        return {"connections": {self.ike_name: conn}, "secrets": secrets}

    def initiate(self, timeout: float = 10.0, child: str | None = None,
                 ike_only: bool = False) -> SwanctlResult:
        """``swanctl --initiate --child NAME --timeout T`` (blocks; not ok when anything,
        including the kernel SAD install, failed; judge with list_sas() and the log).
        ``ike_only=True`` initiates just the IKE SA (``--ike NAME``)."""
        args = ["--initiate"]
        if ike_only:
            args += ["--ike", self.ike_name]
        else:
            args += ["--child", child or self.child_name]
        args += ["--timeout", str(max(1, round(timeout)))]
        return self.swanctl(*args, timeout=timeout + 10)

    def ike_established(self) -> bool:
        return any(sa["state"] == "ESTABLISHED" for sa in self.list_sas(self.ike_name))


# --------------------------------------------------------------------------------------------
# responder (for the harness self-check; strongSwan answering strongSwan)


@dataclass
class ResponderConfig:
    local_auth: str = "pubkey"  # pubkey | psk
    local_id: str | None = None  # IDr; default: the certificate subject / local address
    cert: str | os.PathLike | None = None
    key: str | os.PathLike | None = None
    cacerts: Sequence[str | os.PathLike] = ()  # CAs trusted for client certs (eap-tls)
    remote_auth: str = "eap-mschapv2"  # eap-md5 | eap-mschapv2 | eap-gtc | eap-tls | ...
    users: Mapping[str, str] = field(default_factory=dict)  # EAP identity -> password
    psk: str | None = None
    ike_proposals: Sequence[str] = ("aes128-sha256-modp2048", "default")
    esp_proposals: Sequence[str] = ("aes128-sha256", "default")
    pool: str | None = DEFAULT_POOL4
    local_ts: Sequence[str] = ("0.0.0.0/0",)
    fragmentation: str = "yes"
    conn_extra: Mapping[str, Any] | None = None
    child_extra: Mapping[str, Any] | None = None


class CharonResponder(Charon):
    """strongSwan as a responder, only to prove the harness works without ikeeap.

    Defaults to ``kernel="libipsec"`` because a strongSwan responder whose SAD install fails
    answers NO_PROPOSAL_CHOSEN and the initiator never sees the Child SA; so the initiator
    must use ``encap=True`` (libipsec only does ESP-in-UDP).
    """

    role = "responder"

    def __init__(self, name: str, workdir: str | os.PathLike | None = None, *,
                 topology: Topology | None = None, netns: Netns | None = None,
                 local_addr: str | None = None, conn_name: str = "rw",
                 kernel: str = "libipsec", log_levels: Mapping[str, int] | None = None,
                 strongswan_extra: Mapping[str, Any] | None = None,
                 libipsec: bool | None = None,
                 config: ResponderConfig | None = None, **options: Any) -> None:
        if topology is not None:
            netns = topology.responder_ns
            local_addr = local_addr or topology.responder_addr
        super().__init__(name, workdir, netns, kernel=kernel, log_levels=log_levels,
                         strongswan_extra=strongswan_extra, libipsec=libipsec)
        self.config = config or ResponderConfig(**options)
        self.local_addr = local_addr
        self.ike_name = conn_name

    def swanctl_tree(self) -> dict:
        c = self.config
        local: dict[str, Any] = {"auth": c.local_auth}
        if c.cert:
            local["certs"] = self._install_file(c.cert, "x509")
        if c.key:
            self._install_file(c.key, "private")
        local["id"] = c.local_id or (None if c.cert else self.local_addr)
        remote: dict[str, Any] = {"auth": c.remote_auth}
        if c.remote_auth.startswith("eap"):
            remote["eap_id"] = "%any"
        if c.cacerts:
            remote["cacerts"] = ",".join(self._install_file(p, "x509ca") for p in c.cacerts)
        child = {"local_ts": list(c.local_ts), "esp_proposals": list(c.esp_proposals),
                 "rekey_time": 0}
        _deep_merge(child, c.child_extra)
        conn: dict[str, Any] = {
            "version": 2,
            "local_addrs": self.local_addr or "%any",
            "proposals": list(c.ike_proposals),
            "pools": "pool4" if c.pool else None,
            "fragmentation": c.fragmentation,
            "unique": "no",
            "rekey_time": 0,
            "local": local,
            "remote": remote,
            "children": {"rw": child},
        }
        _deep_merge(conn, c.conn_extra)
        secrets: dict[str, Any] = {}
        for i, (user, pw) in enumerate(sorted(c.users.items())):
            secrets[f"eap-{i}"] = {"id": user, "secret": pw}
        if c.psk is not None:
            secrets["ike-psk"] = {"secret": c.psk}
        tree: dict[str, Any] = {"connections": {self.ike_name: conn}, "secrets": secrets}
        if c.pool:
            tree["pools"] = {"pool4": {"addrs": c.pool}}
        return tree
