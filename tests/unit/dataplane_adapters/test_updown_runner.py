"""The updown hook with real scripts in a tmp dir: variables as strongSwan passes them,
exit 3 with stderr logged, a hanging script killed by the timeout, no secret in argv or env,
down never overtaking up, and a rekey running nothing."""

from __future__ import annotations

import logging
import os
import queue
import time

import pytest

from ikeeap.dataplane.interface import ChildSaDown, ChildSaUp, NoDataPlane
from ikeeap.server.blocking import BlockingPool
from ikeeap.server.updown import UpdownHook, WithUpdown, run_script
from ikeeap.wire.constants import EncrId, IntegId


class QueueReactor:
    def __init__(self) -> None:
        self.calls: queue.Queue = queue.Queue()

    def callFromThread(self, fn, *args, **kw):  # noqa: N802
        self.calls.put((fn, args, kw))

    def addSystemEventTrigger(self, *args):  # noqa: N802
        return None

    def run_until(self, d, timeout: float = 10.0):
        results: list = []
        d.addBoth(results.append)
        deadline = time.monotonic() + timeout
        while not results:
            fn, args, kw = self.calls.get(timeout=max(0.1, deadline - time.monotonic()))
            fn(*args, **kw)
        return results[0]


def _script(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _child(**kw):
    base = dict(sa_id="sa1", unique_id=2, reqid=7, spi_in=b"\x11" * 4, spi_out=b"\x22" * 4,
                encr=EncrId.AES_GCM_16, encr_key_bits=128, integ=IntegId.NONE,
                keymat=bytes.fromhex("5ec2e7" * 13) + b"\x01", local=("192.0.2.1", 4500),
                remote=("198.51.100.9", 4500), ts_local=("0.0.0.0/0",),
                ts_remote=("10.3.0.7/32",), udp_encap=True, virtual_ip="10.3.0.7",
                connection="rw", local_id="vpn.example.org", remote_id="laptop",
                username="demo")
    base.update(kw)
    return ChildSaUp(**base)


@pytest.fixture
def env():
    reactor = QueueReactor()
    pool = BlockingPool(reactor, "updown-test", threads=2)
    yield reactor, pool
    pool.stop()


def test_variables_reach_the_script_and_nothing_else(env, tmp_path, monkeypatch):
    reactor, pool = env
    monkeypatch.setenv("IKEEAP_RADIUS_FRONT_SECRET", "s3cret-value")
    out = tmp_path / "env.txt"
    script = _script(tmp_path, "updown.sh", f'echo "argc=$#" > {out}\nenv >> {out}\n'
                                            f'echo hello from updown\n')
    hook = UpdownHook(reactor, script, timeout=5, pool=pool, interface="eth0")
    (result,) = reactor.run_until(hook.child_up(_child()))
    assert result.ok and result.stdout == "hello from updown\n"
    lines = out.read_text().splitlines()
    assert lines[0] == "argc=0"
    seen = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert seen["PLUTO_VERB"] == "up-client" and seen["PLUTO_VERSION"] == "1.1"
    assert seen["PLUTO_PEER_CLIENT"] == "10.3.0.7/32" and seen["PLUTO_MY_CLIENT"] == "0.0.0.0/0"
    assert seen["PLUTO_PEER_SOURCEIP"] == "10.3.0.7" and seen["PLUTO_UNIQUEID"] == "2"
    assert seen["PLUTO_USERNAME"] == "demo" and seen["PLUTO_INTERFACE"] == "eth0"
    assert (seen["PLUTO_REQID"], seen["PLUTO_UDP_ENC"], seen["PLUTO_PROTO"]) == ("7", "4500",
                                                                                "esp")
    # only PATH and PLUTO_* (sh adds PWD/SHLVL/_ itself); no secret from our environment
    assert {k for k in seen if not k.startswith("PLUTO_")} <= {"PATH", "PWD", "SHLVL", "_",
                                                                "OLDPWD"}
    text = out.read_text()
    assert "s3cret-value" not in text and "5ec2e7" not in text


def test_exit_3_is_logged_with_its_stderr(env, tmp_path, caplog):
    reactor, pool = env
    script = _script(tmp_path, "fail.sh", 'echo "iptables: No chain" >&2\nexit 3\n')
    hook = UpdownHook(reactor, script, timeout=5, pool=pool)
    with caplog.at_level(logging.INFO, logger="ikeeap.dataplane"):
        (result,) = reactor.run_until(hook.child_up(_child()))
    assert (result.returncode, result.ok) == (3, False)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (f"updown {script} up-client (reqid 7, Child SA 11111111) "
                                    f"failed with exit status 3; stderr: iptables: No chain")


def test_a_hanging_script_is_killed_by_the_timeout(env, tmp_path, caplog):
    reactor, pool = env
    script = _script(tmp_path, "hang.sh", 'echo starting >&2\nsleep 30\n')
    hook = UpdownHook(reactor, script, timeout=0.5, pool=pool)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ikeeap.dataplane"):
        (result,) = reactor.run_until(hook.child_up(_child()))
    assert time.monotonic() - started < 5  # the sleep (its process group) died with it
    assert result.timed_out and result.returncode is None
    assert caplog.records[-1].getMessage().endswith(
        "killed after 0.5 s (timeout); stderr: starting")


def test_a_missing_script_is_logged_not_raised(tmp_path, caplog):
    result = run_script(str(tmp_path / "nope.sh"), {"PATH": "/bin"}, 1)
    assert not result.ok and "No such file" in result.error


def test_down_never_overtakes_up_and_a_rekey_runs_nothing(env, tmp_path):
    reactor, pool = env
    log_file = tmp_path / "order.txt"
    script = _script(tmp_path, "order.sh", f'case "$PLUTO_VERB" in up*) sleep 0.4;; esac\n'
                                           f'echo "$PLUTO_VERB $PLUTO_REQID" >> {log_file}\n')
    hook = UpdownHook(reactor, script, timeout=5, pool=pool)
    up = hook.child_up(_child())
    rekey = hook.child_up(_child(spi_in=b"\x33" * 4, spi_out=b"\x44" * 4))  # same reqid
    old_gone = hook.child_down(ChildSaDown("sa1", b"\x11" * 4, b"\x22" * 4))
    assert rekey.called and old_gone.called  # nothing to run for either
    last = hook.child_down(ChildSaDown("sa1", b"\x33" * 4, b"\x44" * 4))
    reactor.run_until(last)
    assert up.called
    assert log_file.read_text().splitlines() == ["up-client 7", "down-client 7"]


def test_ike_gone_runs_down_for_each_reqid_and_the_wrapper(env, tmp_path):
    reactor, pool = env
    log_file = tmp_path / "gone.txt"
    script = _script(tmp_path, "gone.sh", f'echo "$PLUTO_VERB $PLUTO_REQID" >> {log_file}\n')
    hook = UpdownHook(reactor, script, timeout=5, pool=pool)
    plane = WithUpdown(NoDataPlane(), hook)
    plane.child_up(_child())
    plane.child_up(_child(reqid=8, spi_in=b"\x55" * 4, ts_remote=("10.3.0.8/32",)))
    plane.ike_rekeyed("sa1", "sa1b")
    reactor.run_until(hook.ike_gone("sa1b"))
    assert sorted(log_file.read_text().splitlines()) == [
        "down-client 7", "down-client 8", "up-client 7", "up-client 8"]
    assert plane.name == "none" and plane.counters("sa1b").bytes_in == 0
    plane.close()
    assert os.path.exists(script)
