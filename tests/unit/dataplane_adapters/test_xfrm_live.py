"""Live kernel XFRM: install a Child SA (two SAs, ESP-in-UDP, three policies), read it back,
delete it. Runs in a private network namespace (``unshare --net``) and only where the kernel
can install ESP SAs; elsewhere it is skipped with the probe's reason (the one allowed skip).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

HELPER = r'''
import json
from ikeeap.dataplane.interface import ChildSaUp, Lifetimes
from ikeeap.dataplane.kernel import KernelPlan
from ikeeap.dataplane.netlink import NLMSG_ERROR, parse_error
from ikeeap.dataplane.xfrm import XFRM_MSG_NEWSA, getsa, parse_sa
from ikeeap.server.xfrm_kernel import XfrmSocket, probe_kernel
from ikeeap.wire.constants import EncrId, IntegId

probe = probe_kernel()
if not probe.usable:
    print(json.dumps({"skip": f"{probe.support}: {probe.detail}"}))
    raise SystemExit(0)
gcm = "rfc4106(gcm(aes))" in probe.algorithms
child = ChildSaUp(
    sa_id="live", unique_id=1, reqid=4242, spi_in=bytes.fromhex("c1000001"),
    spi_out=bytes.fromhex("c2000002"),
    encr=EncrId.AES_GCM_16 if gcm else EncrId.AES_CBC, encr_key_bits=128,
    integ=IntegId.NONE if gcm else IntegId.HMAC_SHA2_256_128,
    keymat=bytes(range(40)) if gcm else bytes(range(96)),
    local=("192.0.2.1", 4500), remote=("198.51.100.9", 4500), ts_local=("0.0.0.0/0",),
    ts_remote=("10.3.0.7/32",), udp_encap=True, lifetimes=Lifetimes(60, 90))
plan, sock = KernelPlan(), XfrmSocket()

def run(requests):
    out = []
    for req in requests:
        for m in sock.transact(req.data):
            if m.type == NLMSG_ERROR:
                err = parse_error(m)
                if not err.ack and err.errno not in req.ignore:
                    out.append(f"{req.what}: {err.describe()}")
            elif m.type == XFRM_MSG_NEWSA:
                plan.absorb(parse_sa(m))
    return out

result = {"install": run(plan.up(child))}
states = []
for req in plan.read_requests():
    for m in sock.transact(req.data):
        if m.type == XFRM_MSG_NEWSA:
            s = parse_sa(m)
            states.append([s.spi.hex(), s.dst, s.src, s.reqid, s.mode])
result["states"] = sorted(states)
result["delete"] = run(plan.down(child.spi_in))
gone = []
for dst, spi in (("192.0.2.1", child.spi_in), ("198.51.100.9", child.spi_out)):
    for m in sock.transact(getsa(99, dst, spi)):
        if m.type == NLMSG_ERROR:
            gone.append(parse_error(m).errno)
result["gone"] = gone
print(json.dumps(result))
'''


def _run_in_private_netns() -> dict:
    if os.geteuid() != 0:
        pytest.skip("live XFRM test needs root (CAP_NET_ADMIN) for a private network namespace")
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("live XFRM test needs util-linux unshare for a private network namespace")
    proc = subprocess.run([unshare, "--net", sys.executable, "-c", HELPER], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0 and "unshare failed" in proc.stderr:
        pytest.skip(f"no private network namespace: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_child_sa_installed_read_back_and_removed_in_the_kernel():
    result = _run_in_private_netns()
    if "skip" in result:
        pytest.skip(f"this kernel cannot install ESP SAs ({result['skip']})")
    assert result["install"] == []
    assert result["states"] == [["c1000001", "192.0.2.1", "198.51.100.9", 4242, 1],
                                ["c2000002", "198.51.100.9", "192.0.2.1", 4242, 1]]
    assert result["delete"] == []
    assert result["gone"] == [3, 3]  # ESRCH: both SAs are gone
