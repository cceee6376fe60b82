"""Shared pieces of the benchmarks: users, proposals, an ikeeap config without DoS limits,
and CPU/RSS readings of a process from /proc.  Loopback or namespaces we create only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER_ID = "vpn.bench.test"
IKE_PROPOSAL = "aes256gcm16-prfsha256-ecp256"
ESP_PROPOSAL = "aes256gcm16"
USER_COUNT = 200
POOL = "10.64.0.0/16"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def users(count: int = USER_COUNT) -> dict[str, str]:
    return {f"user{n}": f"pw{n}-bench" for n in range(1, count + 1)}


def loadgen_user_args(count: int = USER_COUNT) -> list[str]:
    return ["--users", "user{n}:pw{n}-bench", "--user-count", str(count)]


# DoS limits off or far away: one generator address opens thousands of SAs a second.
NO_LIMITS = {
    "cookie_threshold": 10_000_000, "cookie_threshold_per_ip": 10_000_000,
    "max_half_open": 10_000_000, "max_half_open_per_ip": 10_000_000,
    "max_ike_sas": 10_000_000, "block_threshold": 0,
}


def write_ikeeap_config(directory: Path, listen: str, key_type: str = "ecdsa",
                        log_level: str = "warning", user_count: int = USER_COUNT) -> Path:
    """ikeeap.toml + users for the benchmark; certificates generated on first start."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "[server]", f'listen = ["{listen}"]', f'identity = "{SERVER_ID}"',
        f'state_dir = "{directory / "state"}"', f'log_level = "{log_level}"', "",
        "[certificates]", f'key_type = "{key_type}"', "",
        "[proposals]", f'ike = ["{IKE_PROPOSAL}"]', f'esp = ["{ESP_PROPOSAL}"]', "",
        "[[connections]]", 'name = "rw-eap"', 'auth = "eap"',
        'eap_methods = ["mschapv2", "md5", "gtc"]', f'pool = "{POOL}"', 'dns = ["10.64.0.1"]',
        "", "[hardening]", *(f"{k} = {v}" for k, v in NO_LIMITS.items()), "", "[users]",
        *(f'{u} = {{ password = "{p}" }}' for u, p in users(user_count).items()),
    ]
    path = directory / "ikeeap.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class ProcSample:
    cpu_seconds: float  # user + system, the process and its threads
    rss_bytes: int


def proc_sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    with open(f"/proc/{pid}/statm") as f:
        rss_pages = int(f.read().split()[1])
    return ProcSample((utime + stime) / CLK_TCK, rss_pages * PAGE)


def run_loadgen(args: list[str], netns: str | None = None, timeout: float = 600
                ) -> tuple[dict, str]:
    """Run the generator as a subprocess (optionally in ``netns``); (summary, output)."""
    import json
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [sys.executable, "-m", "ikeeap.loadgen", *args, "--json", out.name]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            summary = json.loads(Path(out.name).read_text() or "{}")
        except ValueError:
            summary = {}
    return summary, proc.stdout + proc.stderr


def wait_file(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)
