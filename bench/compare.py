"""ikeeap vs strongSwan as EAP responders, same box, same generator.

    python bench/compare.py [--total 3000] [--concurrency 100] [--method mschapv2]
                            [--only ikeeap|strongswan] [--workers N] [--child]

Each responder runs alone in a network namespace (``tests/interop/charon.py`` netns_pair),
pinned to CPU 1; the generator (``python -m ikeeap.loadgen``) runs in the peer namespace,
pinned to CPU 0.  Same ECDSA P-256 server certificate, same users, same proposals
(common.IKE_PROPOSAL), childless IKE SAs by default (a kernel-netlink charon cannot install
a Child SA here, interop.md) with a virtual IP each.  Per responder: a peak run (SAs kept
up, rate unlimited) gives logins/s, CPU seconds per login (/proc utime+stime) and RSS per
established SA; a run at 50% of that rate gives the p99 login latency.  Needs root.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import ROOT, proc_sample, run_loadgen

sys.path.insert(0, str(ROOT / "tests"))
from interop.charon import CharonResponder, netns_pair, stop_process, wait_udp_bound

RESPONDER_CPU = "1"
GENERATOR_CPU = 0
CHARON_QUIET = {k: 0 for k in ("default", "ike", "cfg", "enc", "tls", "knl", "net", "lib",
                               "asn", "mgr", "job", "dmn", "chd", "esp", "imc", "tnc")}


def generator_args(topo, args, total: int, rate: float, keep: bool, ca: Path) -> list[str]:
    out = ["--host", topo.responder_addr, "--bind", topo.initiator_addr,
           "--cpu", str(GENERATOR_CPU), "--total", str(total),
           "--concurrency", str(args.concurrency), "--rate", str(rate),
           "--duration", str(args.duration), "--method", args.method,
           "--ike-proposal", common.IKE_PROPOSAL, "--esp-proposal", common.ESP_PROPOSAL,
           "--remote-id", common.SERVER_ID, "--ca", str(ca), "--progress", "5",
           "--sockets", "16", *common.loadgen_user_args()]
    if not args.child:
        out.append("--no-child")
    if keep:
        out.append("--keep")
    return out


def measure(name: str, pid_of, topo, args, ca: Path) -> dict:
    """Warm-up, a peak run with SAs kept, then a run at half the peak rate."""
    run_loadgen(generator_args(topo, args, 50, 0, False, ca), topo.initiator_ns.name)
    pids = pid_of()
    before = [proc_sample(p) for p in pids]
    t0 = time.monotonic()
    peak, out = run_loadgen(generator_args(topo, args, args.total, 0, True, ca),
                            topo.initiator_ns.name)
    wall = time.monotonic() - t0
    after = [proc_sample(p) for p in pids]
    print(f"--- {name} peak run\n{out[-1500:]}", flush=True)
    ok = max(peak.get("established", 0), 1)
    cpu = sum(a.cpu_seconds - b.cpu_seconds for a, b in zip(after, before))
    rss = sum(a.rss_bytes - b.rss_bytes for a, b in zip(after, before))
    half_rate = args.half_rate or max(peak.get("rate", 1.0) * 0.5, 1.0)
    half_total = int(max(half_rate * args.half_seconds, 50))
    half, out = run_loadgen(generator_args(topo, args, half_total, half_rate, False, ca),
                            topo.initiator_ns.name)
    print(f"--- {name} run at 50% of peak ({half_rate:.0f}/s)\n{out[-1200:]}", flush=True)
    return {"logins_s": peak.get("rate", 0.0), "cpu_per_login": cpu / ok,
            "rss_per_sa": rss / ok, "p99_peak": peak.get("login_p99", float("nan")),
            "p99_half": half.get("login_p99", float("nan")), "failed": peak.get("failed", 0),
            "established": peak.get("established", 0), "wall": wall,
            "cpu_share": cpu / wall if wall else 0.0}


def run_ikeeap(args, workdir: Path) -> dict:
    with netns_pair("bench-ikeeap") as topo:
        config = common.write_ikeeap_config(workdir / "ikeeap", topo.responder_addr,
                                            log_level="info")
        log = open(workdir / "ikeeap.log", "wb")  # noqa: SIM115
        argv = ["taskset", "-c", RESPONDER_CPU, sys.executable, "-m", "ikeeap", "serve",
                "--config", str(config)]
        if args.workers > 1:
            argv[2] = "0,1"
            argv += ["--workers", str(args.workers)]
        proc = topo.run_responder(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_udp_bound(topo.responder_ns, 4500, topo.responder_addr, proc=proc, timeout=30)
            time.sleep(0.5 if args.workers <= 1 else 2.0)
            return measure("ikeeap", lambda: _family(proc.pid), topo, args,
                           workdir / "ikeeap" / "state" / "ca.pem")
        finally:
            stop_process(proc)
            log.close()


def _family(pid: int) -> list[int]:
    """The process and its children (worker processes)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                          check=False).stdout
    return [pid, *(int(k) for k in kids.split())]


def run_strongswan(args, workdir: Path) -> dict:
    state = workdir / "ikeeap" / "state"  # the same CA and server certificate as ikeeap's
    with netns_pair("bench-swan") as topo:
        charon = CharonResponder(
            "bench", workdir / "charon", topology=topo, kernel="netlink",
            log_levels=CHARON_QUIET, cert=state / "server.pem", key=state / "server.key",
            local_id=common.SERVER_ID, remote_auth=f"eap-{args.method}",
            users=common.users(), ike_proposals=(common.IKE_PROPOSAL,),
            esp_proposals=(common.ESP_PROPOSAL,), pool=common.POOL,
            conn_extra={"dpd_delay": 0, "reauth_time": 0},
            # its DoS guards off too, as in ikeeap's config (one generator address)
            strongswan_extra={"charon": {"cookie_threshold": 10_000_000,
                                         "cookie_threshold_ip": 10_000_000,
                                         "block_threshold": 10_000_000,
                                         "init_limit_half_open": 0,
                                         "init_limit_job_load": 0}})
        charon.start()
        try:
            subprocess.run(["taskset", "-a", "-pc", RESPONDER_CPU, str(charon.proc.pid)],
                           capture_output=True, check=True)
            wait_udp_bound(topo.responder_ns, 500, topo.responder_addr, timeout=10)
            return measure("strongSwan", lambda: [charon.proc.pid], topo, args,
                           state / "ca.pem")
        finally:
            charon.stop()


def ensure_certificates(workdir: Path) -> None:
    """Let ikeeap generate its ECDSA CA and server certificate once (both use them)."""
    from ikeeap.config import load_config
    from ikeeap.runtime import ensure_certificates as ensure

    path = common.write_ikeeap_config(workdir / "ikeeap", "127.0.0.1")
    config = load_config(path)
    ensure(config.certificates, config.server.identity)


def table(results: dict[str, dict]) -> str:
    rows = [("logins/s (achieved)", "logins_s", "{:.0f}", 1),
            ("CPU ms per login", "cpu_per_login", "{:.2f}", 1000),
            ("logins/s per core (1/CPU)", "cpu_per_login", "{:.0f}", -1),
            ("RSS KiB per established SA", "rss_per_sa", "{:.1f}", 1 / 1024),
            ("p99 login ms at peak", "p99_peak", "{:.1f}", 1000),
            ("p99 login ms at 50% of peak", "p99_half", "{:.1f}", 1000)]
    names = list(results)
    out = ["| metric | " + " | ".join(names) + (" | ratio ikeeap/strongSwan |"
                                                   if len(names) == 2 else " |"),
           "|---" * (len(names) + 1 + (len(names) == 2)) + "|"]
    for label, key, fmt, scale in rows:
        vals = [results[n][key] for n in names]
        vals = [(1 / v if v else 0.0) if scale == -1 else v * scale for v in vals]
        cells = [fmt.format(v) for v in vals]
        if len(vals) == 2:
            cells.append(f"{vals[0] / vals[1]:.2f}" if vals[1] else "n/a")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--total", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--duration", type=float, default=120.0)
    p.add_argument("--half-seconds", type=float, default=10.0)
    p.add_argument("--half-rate", type=float, default=0.0, help="rate of the latency run "
                   "(default: half of each responder's own peak)")
    p.add_argument("--method", choices=("mschapv2", "md5", "gtc"), default="mschapv2")
    p.add_argument("--only", choices=("ikeeap", "strongswan"))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--child", action="store_true", help="negotiate the first Child SA too")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ikeeap-bench-") as tmp:
        workdir = Path(tmp)
        ensure_certificates(workdir)
        results: dict[str, dict] = {}
        if args.only != "strongswan":
            results["ikeeap"] = run_ikeeap(args, workdir)
        if args.only != "ikeeap":
            results["strongSwan"] = run_strongswan(args, workdir)
    for name, r in results.items():
        print(f"{name}: {r}")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
