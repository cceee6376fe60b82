"""Readable tables for the control commands (``--json`` prints the raw result instead)."""

from __future__ import annotations

from typing import Any


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [header, *rows]]
    return "\n".join(lines)


def render_status(status: dict[str, Any]) -> str:
    sas = status.get("sas", {})
    lines = [
        (f"ikeeap {status.get('version', '?')}, up {_age(status.get('uptime'))}, "
         f"config {status.get('config')}"),
        f"  listening : {', '.join(status.get('listening', [])) or '-'}",
        (f"  IKE SAs   : {sas.get('established', 0)} established, {sas.get('half-open', 0)}"
         f" half-open, {sas.get('authenticating', 0)} authenticating"),
        (f"  logins    : {status.get('logins', {}).get('success', 0)} ok, "
         f"{status.get('logins', {}).get('failure', 0)} failed"),
        f"  reloads   : {status.get('reloads', 0)}"
        + (f" (last {_age(status.get('last_reload_age'))} ago)"
           if status.get("last_reload_age") is not None else ""),
    ]
    if status.get("metrics"):
        lines.append(f"  metrics   : http://{status['metrics']}/metrics")
    return "\n".join(lines)


def render_sas(sas: list[dict[str, Any]]) -> str:
    if not sas:
        return "no IKE SAs"
    rows = []
    for v in sas:
        rows.append([
            v["short_id"], f"{v['peer']['address']}:{v['peer']['port']}",
            v["eap_identity"] or v["ike_identity"] or "-", v["method"] or "-",
            v["backend"] or "-", v["virtual_ip"] or "-", v["state"], _age(v["age"]),
            _age(v["reauth_due"]),
        ])
    out = [table(rows, ["ID", "PEER", "USER", "METHOD", "BACKEND", "VIRTUAL IP", "STATE",
                        "AGE", "REAUTH"])]
    for v in sas:
        for c in v["children"]:
            out.append(f"  {v['short_id']} child {c['spi_in']}_i {c['spi_out']}_o  "
                       f"{', '.join(c['ts_local']) or '?'} === {', '.join(c['ts_remote']) or '?'}")
    return "\n".join(out)


def render_terminated(result: dict[str, Any]) -> str:
    ids = result.get("terminated", [])
    if not ids:
        return "no IKE SA matched"
    return "\n".join(f"terminated {i[:8]} ({i})" for i in ids)


def render_reload(result: dict[str, Any]) -> str:
    lines = [(f"reloaded {result.get('config')}: {result.get('connections')} connections, "
              f"{result.get('users')} local users; {result.get('kept_sas', 0)} IKE SAs kept")]
    lines += [f"  note: {n}" for n in result.get("notes", [])]
    return "\n".join(lines)
