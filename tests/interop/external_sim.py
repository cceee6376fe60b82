"""wpa_supplicant's external-SIM control interface, answered from a SIM given as a callable
(RAND -> (SRES, Kc)), for ``eapol_test -W`` with ``external_sim=1`` (../shared/interop.md).

    sim = ExternalSimPeer(workdir, gsm_auth)
    result = sim.run(front, identity, extra_args=("-r", "2"))
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .eapol import _network_block

_REQ = re.compile(r"CTRL-REQ-SIM-(\d+):GSM-AUTH:([0-9a-fA-F:]+) needed")
_MPPE = re.compile(r"MPPE keys OK: (\d+)\s+mismatch: (\d+)")


@dataclass
class ExternalSimResult:
    returncode: int
    output: str
    gsm_auth_requests: list[list[str]] = field(default_factory=list)  # RANDs (hex) per request

    @property
    def success(self) -> bool:
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return self.returncode == 0 and bool(lines) and lines[-1] == "SUCCESS"

    @property
    def mppe(self) -> tuple[int, int] | None:
        """(keys OK, mismatches) over all authentications of the run."""
        match = _MPPE.search(self.output)
        return None if match is None else (int(match.group(1)), int(match.group(2)))


class ExternalSimPeer:
    """Runs eapol_test with eap=SIM and plays its SIM card over the control socket."""

    def __init__(self, gsm_auth: Callable[[bytes], tuple[bytes, bytes]]) -> None:
        self.gsm_auth = gsm_auth
        self.dir = Path(tempfile.mkdtemp(prefix="ikeeap-xsim-"))  # short: unix socket paths

    def run(self, front: Any, identity: str, extra_args: tuple[str, ...] = (),
            timeout: float = 30.0) -> ExternalSimResult:
        ctrl = self.dir / "ctrl"
        conf = self.dir / f"sim-{time.monotonic_ns()}.conf"
        conf.write_text(f"ctrl_interface={ctrl}\nexternal_sim=1\n"
                        + _network_block({"eap": "SIM", "identity": identity}) + "\n")
        argv = ["eapol_test", "-c", str(conf), "-a", front.host, "-p", str(front.port),
                "-s", front.secret, "-t", "15", "-W", *extra_args]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True)
        requests: list[list[str]] = []
        try:
            with self._attach(ctrl / "test", proc, timeout) as sock:
                self._serve(sock, proc, requests, time.monotonic() + timeout)
            output = proc.communicate(timeout=timeout)[0]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return ExternalSimResult(proc.returncode, output, requests)

    def _attach(self, path: Path, proc: subprocess.Popen[str], timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("eapol_test did not open its control interface")
            time.sleep(0.02)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(self.dir / f"client-{time.monotonic_ns()}"))
        sock.connect(str(path))
        sock.settimeout(5.0)
        sock.send(b"ATTACH")
        if sock.recv(4096).strip() != b"OK":
            raise RuntimeError("ATTACH refused")
        sock.settimeout(0.2)
        return sock

    def _serve(self, sock: socket.socket, proc: subprocess.Popen[str],
               requests: list[list[str]], deadline: float) -> None:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                message = sock.recv(4096).decode(errors="replace")
            except TimeoutError:
                continue
            except OSError:
                return  # eapol_test exited and removed its socket
            match = _REQ.search(message)
            if match is None:
                continue
            rands = match.group(2).split(":")
            requests.append(rands)
            answer = []
            for rand in rands:
                sres, kc = self.gsm_auth(bytes.fromhex(rand))
                answer += [kc.hex(), sres.hex()]
            sock.send(f"CTRL-RSP-SIM-{match.group(1)}:GSM-AUTH:{':'.join(answer)}".encode())
