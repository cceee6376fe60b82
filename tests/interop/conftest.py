"""Fixtures for interop tests against real strongSwan (and later FreeRADIUS, slapd, ...).

Every test here gets the ``interop`` marker automatically.  Fixtures that need root/charon skip
the test (with the reason) when those are missing; in CI they are present and the tests run.

    def test_login(topology, charon_initiator, spawn, test_pki):
        srv = spawn(topology.responder_ns, [sys.executable, "-m", "ikeeap", "serve",
                                            "--config", str(cfg)], name="ikeeap")
        wait_udp_bound(topology.responder_ns, 500, topology.responder_addr, proc=srv)
        ini = charon_initiator(topology, eap_secret="pw", cacerts=[test_pki.ca_cert_path],
                               remote_id=SERVER_ID)
        ini.initiate()
        assert ini.ike_established() and ini.child_sa_negotiated()
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .charon import (
    CharonInitiator,
    CharonResponder,
    Topology,
    cleanup_stale,
    interop_unavailable_reason,
    netns_pair,
    root_link,
    run_in_netns,
    stop_process,
)
from .ikeeap_server import IkeeapServer
from .testpki import CertFiles, TestPki

SERVER_ID = "vpn.example.test"  # IDr / SAN of the test server certificate
CLIENT_ID = "alice@example.test"  # SAN of the test client certificate (EAP-TLS)

_HERE = Path(__file__).resolve().parent
_seq = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.interop)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)  # lets fixtures see whether the test failed
    return rep


def _failed(request: pytest.FixtureRequest) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


@pytest.fixture(scope="session")
def interop_env() -> None:
    """Skip unless root + charon + swanctl + ip/unshare/nsenter; tidy namespaces of dead runs.

    With IKEEAP_REQUIRE_INTEROP=1 (set it in CI) a missing prerequisite fails instead.
    """
    reason = interop_unavailable_reason()
    if reason:
        if os.environ.get("IKEEAP_REQUIRE_INTEROP") == "1":
            pytest.fail(f"IKEEAP_REQUIRE_INTEROP=1 but {reason}")
        pytest.skip(reason)
    cleanup_stale()


@pytest.fixture
def interop_name(request: pytest.FixtureRequest) -> str:
    """Short unique name for this test (namespaces get it after our pid)."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:24]
    return f"{os.getpid()}-{next(_seq)}-{base}"


@pytest.fixture
def topology_factory(interop_env, interop_name) -> Callable[..., Topology]:
    """``make(root=False, ipv6=False)`` -> Topology; all are deleted after the test."""
    made: list[Topology] = []

    def make(root: bool = False, ipv6: bool = False) -> Topology:
        tag = f"{interop_name}-{len(made)}" if made else interop_name
        topo = root_link(tag, ipv6=ipv6) if root else netns_pair(tag, ipv6=ipv6)
        made.append(topo)
        return topo

    yield make
    for topo in reversed(made):
        topo.close()


@pytest.fixture
def topology(topology_factory) -> Topology:
    """Two fresh namespaces: responder 198.51.100.1 (``.responder_ns``), initiator
    198.51.100.2 (``.initiator_ns``).  Run the responder with ``spawn(topology.responder_ns,
    argv)`` or ``topology.run_responder(argv)``."""
    return topology_factory()


@pytest.fixture
def root_topology(topology_factory) -> Topology:
    """Initiator namespace linked to the root namespace (``responder_ns`` is None)."""
    return topology_factory(root=True)


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A CA (``.ca_cert_path``) shared by the session; ``.issue(cn, sans=[...])`` for more."""
    return TestPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def server_cert(test_pki: TestPki) -> CertFiles:
    """RSA server certificate for SERVER_ID (SANs: SERVER_ID, 198.51.100.1)."""
    return test_pki.issue(SERVER_ID, sans=[SERVER_ID, "198.51.100.1"], filename="server")


@pytest.fixture(scope="session")
def client_cert(test_pki: TestPki) -> CertFiles:
    """RSA client certificate for CLIENT_ID (EAP-TLS / pubkey initiators)."""
    return test_pki.issue(CLIENT_ID, sans=[CLIENT_ID], filename="client")


def _dump(title: str, text: str, lines: int = 150) -> None:
    tail = "\n".join(text.splitlines()[-lines:])
    print(f"\n===== {title} (last {lines} lines) =====\n{tail}")


@pytest.fixture
def charon_initiator(interop_env, tmp_path, request) -> Callable[..., CharonInitiator]:
    """``make(topology=None, start=True, **kw)`` -> started CharonInitiator.

    ``kw`` are CharonInitiator/InitiatorConfig keywords.  Without a topology it makes its own
    root link (responder side in the root namespace, address ``ini.peer_addr``).  Always
    stopped after the test; on failure its charon log is printed.
    """
    made: list[CharonInitiator] = []

    def make(topology: Topology | None = None, *, start: bool = True,
             **kw: Any) -> CharonInitiator:
        n = len(made) + 1
        kw.setdefault("workdir", tmp_path / f"charon-initiator-{n}")
        name = kw.pop("name", f"i{n}-{request.node.name}"[:40])
        ini = CharonInitiator(name, topology=topology, **kw)
        made.append(ini)
        if start:
            ini.start()
        return ini

    yield make
    for ini in reversed(made):
        if _failed(request):
            _dump(f"charon initiator {ini.name} log {ini.log_path}", ini.log_text())
        ini.stop()


@pytest.fixture
def charon_responder(interop_env, tmp_path, request, server_cert
                     ) -> Callable[..., CharonResponder]:
    """``make(topology, start=True, **kw)`` -> started strongSwan responder (test-only; the
    harness self-check).  Defaults: the session server certificate, IDr SERVER_ID,
    EAP-MSCHAPv2, kernel-libipsec (so initiators need ``encap=True``)."""
    made: list[CharonResponder] = []

    def make(topology: Topology | None = None, *, start: bool = True,
             **kw: Any) -> CharonResponder:
        n = len(made) + 1
        kw.setdefault("workdir", tmp_path / f"charon-responder-{n}")
        kw.setdefault("cert", server_cert.cert)
        kw.setdefault("key", server_cert.key)
        kw.setdefault("local_id", SERVER_ID)
        name = kw.pop("name", f"r{n}-{request.node.name}"[:40])
        resp = CharonResponder(name, topology=topology, **kw)
        made.append(resp)
        if start:
            resp.start()
        return resp

    yield make
    for resp in reversed(made):
        if _failed(request):
            _dump(f"charon responder {resp.name} log {resp.log_path}", resp.log_text())
        resp.stop()


@pytest.fixture
def ikeeap(spawn, topology, tmp_path) -> Callable[..., IkeeapServer]:
    """``ikeeap(**config)`` -> :class:`IkeeapServer` (``ikeeap serve`` on an
    :class:`IkeeapConfig` with these fields) in the topology's responder namespace."""

    def start(**config: Any) -> IkeeapServer:
        return IkeeapServer(spawn, topology, tmp_path / "ikeeap", **config)

    return start


@pytest.fixture
def spawn(tmp_path, request) -> Callable[..., subprocess.Popen]:
    """``spawn(ns, argv, name="proc", env=None, cwd=None)`` -> Popen running ``argv`` in
    namespace ``ns`` (None = root namespace), stdout+stderr to ``tmp_path/<name>.log``
    (``proc.log_path``).  Stopped (SIGTERM, then SIGKILL) after the test; log printed on
    failure."""
    procs: list[tuple[subprocess.Popen, Path, Any]] = []

    def start(ns, argv, *, name: str = "proc", env: dict | None = None,
              cwd: str | os.PathLike | None = None) -> subprocess.Popen:
        log_path = tmp_path / f"{name}-{len(procs) + 1}.log"
        f = open(log_path, "wb")  # noqa: SIM115 (closed at teardown)
        proc = run_in_netns(ns, [str(a) for a in argv], stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                            start_new_session=True)
        proc.log_path = log_path  # type: ignore[attr-defined]
        procs.append((proc, log_path, f))
        return proc

    yield start
    for proc, log_path, f in reversed(procs):
        stop_process(proc, timeout=5)
        f.close()
        if _failed(request):
            _dump(f"{log_path.name}", log_path.read_text(errors="replace"))
