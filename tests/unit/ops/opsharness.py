"""Helpers for the operations tests: ``ikeeap serve`` as a subprocess on loopback, and
logins over real UDP with the sans-I/O initiator (no root, no namespaces)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ikeeap.control.client import call
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.initiator import Initiator

USERS = {"alice": "alice-pw-Zq81", "bob": "bob-pw-Yx42"}
HOST = "127.0.0.1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def write_config(directory: Path, users: dict[str, str] | None = None,
                 extra: str = "", pool: str = "10.77.0.0/24") -> Path:
    users = USERS if users is None else users
    lines = [
        "[server]", 'identity = "vpn.ops.test"', f'state_dir = "{directory / "state"}"',
        'log_level = "debug"',
        "[certificates]", 'key_type = "ecdsa"',
        "[control]", f'socket = "{directory / "ctl.sock"}"',
        "[[connections]]", 'name = "rw"', 'auth = "eap"',
        'eap_methods = ["mschapv2", "md5"]', f'pool = "{pool}"',
        "[users]", *[f'{u} = {{ password = "{p}" }}' for u, p in users.items()],
        extra,
    ]
    path = directory / "ikeeap.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class ServerProcess:
    def __init__(self, directory: Path, config: Path, log_format: str = "text") -> None:
        self.directory, self.config = directory, config
        self.port, self.nat_port = free_udp_port(), free_udp_port()
        self.socket = str(directory / "ctl.sock")
        self.log_path = directory / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ikeeap", "serve", "--config", str(config),
             "--listen", HOST, "--port", str(self.port), "--nat-port", str(self.nat_port)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log()}")
            try:
                call(self.socket, "status", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"serve not ready: {self.log()}")

    def ctl(self, cmd: str, **args: Any) -> Any:
        return call(self.socket, cmd, **args)

    def cli(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ikeeap", *argv, "--socket", self.socket],
                              capture_output=True, text=True, timeout=30, check=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


class UdpPeer:
    """One sans-I/O initiator on a real UDP socket (blocking, single-threaded)."""

    def __init__(self, server: ServerProcess, user: str, password: str,
                 method: str = "mschapv2") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.server = server
        config = InitiatorConfig(identity=user, eap_identity=user, password=password,
                                 eap_methods=(method,), remote_identity="vpn.ops.test")
        self.ini = Initiator(config, self.sock.getsockname(), (HOST, server.port))

    def _send(self, datagrams: list) -> None:
        for d in datagrams:
            self.sock.sendto(d.data, d.remote)

    def pump(self, until: Any, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            timer = self.ini.get_timer()
            wait = 0.2 if timer is None else max(0.0, min(0.2, timer - time.monotonic()))
            self.sock.settimeout(wait or 0.001)
            try:
                data, _ = self.sock.recvfrom(65535)
                self._send(self.ini.receive_datagram(data, time.monotonic()))
            except TimeoutError:
                self._send(self.ini.handle_timer(time.monotonic()))

    def login(self, timeout: float = 15.0) -> Initiator:
        self._send(self.ini.start(time.monotonic()))
        self.pump(lambda: self.ini.finished, timeout)
        return self.ini

    def close(self) -> None:
        self.sock.close()


def metrics_text(address: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as reply:
        return reply.read().decode()


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)


__all__ = [
    "USERS",
    "ServerProcess",
    "UdpPeer",
    "dump",
    "free_udp_port",
    "metrics_text",
    "os",
    "write_config",
]
