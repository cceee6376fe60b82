"""The parent of ``serve --workers N`` answers for all of them: each control command goes to
every worker's own control socket (``control.sock.w<i>``) and the answers are merged; the
one metrics endpoint sums the workers' figures.

Workers are asked from threads (``ikeeap.control.client`` is a blocking client), so a slow
worker never stalls the parent's reactor.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, threads
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from ..bootstrap import load_checked
from ..control import protocol as cp
from ..control.client import ControlError, call

log = logging.getLogger("ikeeap.workers")

_SUMMED_STATUS = ("cookies_sent", "false_retransmits", "reassembly_octets")
# Gauges where a sum would lie: a RADIUS server is up if any worker reaches it.
_MAX_SAMPLES = ("ikeeap_radius_server_up",)


class WorkerFanout:
    """A control-socket dispatcher (:func:`ikeeap.server.control.listen_control`) that asks
    every worker and merges what they say."""

    def __init__(self, config_path: str, worker_sockets: list[Path], reactor: Any,
                 metrics_address: str | None = None, timeout: float = 30.0) -> None:
        self.config_path = config_path
        self.sockets = worker_sockets
        self.reactor = reactor
        self.metrics_address = metrics_address
        self.timeout = timeout

    def ask_all(self, cmd: str, **args: Any) -> defer.Deferred:
        """Every worker's result, in worker order; fails with the first worker's error."""
        asks = [threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), call,
                                          str(path), cmd, self.timeout, **args)
                for path in self.sockets]
        d = defer.gatherResults(asks, consumeErrors=True)
        d.addErrback(_first_error)
        return d

    def __call__(self, _target: Any, request: cp.Request) -> defer.Deferred:
        args = {k: v for k, v in request.args.items() if v is not None}
        if request.cmd == "reload":
            # Checked once here, so a bad file is refused before any worker swaps anything.
            d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(),
                                          load_checked, self.config_path)
            d.addCallback(lambda _: self.ask_all("reload"))
            return d.addCallback(merge_reloads)
        d = self.ask_all(request.cmd, **args)
        if request.cmd == "status":
            return d.addCallback(merge_status, self.metrics_address)
        if request.cmd == "list-sas":
            return d.addCallback(merge_sas)
        if request.cmd == "terminate":
            return d.addCallback(lambda results: {"terminated": [
                sa_id for result in results for sa_id in result["terminated"]]})
        return d.addCallback(lambda results: {"text": merge_metrics(r["text"] for r in results)})


def _first_error(failure: Any) -> Any:
    inner = getattr(failure.value, "subFailure", None)
    exc = inner.value if inner is not None else failure.value
    if isinstance(exc, OSError):
        raise ControlError(f"a worker does not answer: {exc}")
    raise exc


def merge_status(results: list[dict[str, Any]], metrics_address: str | None) -> dict[str, Any]:
    merged = dict(results[0])
    merged["sas"] = _sum_dicts(r["sas"] for r in results)
    merged["logins"] = _sum_dicts(r["logins"] for r in results)
    for key in _SUMMED_STATUS:
        merged[key] = sum(r.get(key) or 0 for r in results)
    merged["reloads"] = min(r["reloads"] for r in results)
    merged["workers"] = len(results)
    merged["metrics"] = metrics_address
    return merged


def merge_sas(results: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = [dict(row, worker=i) for i, result in enumerate(results) for row in result]
    return sorted(rows, key=lambda row: row.get("age") or 0, reverse=True)


def merge_reloads(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(results[0])
    merged["kept_sas"] = sum(r["kept_sas"] for r in results)
    merged["notes"] = list(dict.fromkeys(n for r in results for n in r["notes"]))
    return merged


def _sum_dicts(dicts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for key, value in d.items():
            out[key] = out.get(key, 0) + value
    return out


def merge_metrics(texts: Iterable[str]) -> str:
    """One Prometheus text from several: samples with the same name and labels are summed
    (a creation time takes the earliest, RADIUS health the best)."""
    families: dict[str, tuple[str, str, dict[tuple[str, tuple], float]]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            _, _, samples = families.setdefault(
                family.name, (family.type, family.documentation, {}))
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in samples:
                    samples[key] = sample.value
                elif sample.name.endswith("_created"):
                    samples[key] = min(samples[key], sample.value)
                elif family.name in _MAX_SAMPLES:
                    samples[key] = max(samples[key], sample.value)
                else:
                    samples[key] += sample.value
    lines = []
    for name, (kind, doc, samples) in families.items():
        lines += [f"# HELP {name} {_escape(doc, help_text=True)}", f"# TYPE {name} {kind}"]
        for (sample_name, labels), value in samples.items():
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{sample_name}{{{label_text}}} {_number(value)}" if labels
                         else f"{sample_name} {_number(value)}")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape(text: str, help_text: bool = False) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text if help_text else text.replace('"', '\\"')


class MergedMetricsResource(Resource):
    """``GET /metrics`` on the parent: every worker's metrics, summed."""

    isLeaf = True

    def __init__(self, fanout: WorkerFanout) -> None:
        super().__init__()
        self._fanout = fanout

    def render_GET(self, request: Any) -> Any:
        d = self._fanout.ask_all("metrics")
        d.addCallback(lambda results: merge_metrics(r["text"] for r in results))

        def answer(text: str) -> None:
            request.setHeader(b"Content-Type", b"text/plain; version=0.0.4; charset=utf-8")
            request.write(text.encode())
            request.finish()

        def failed(failure: Any) -> None:
            log.warning("metrics from the workers: %s", failure.getErrorMessage())
            request.setResponseCode(503)
            request.write(b"a worker did not answer\n")
            request.finish()

        d.addCallbacks(answer, failed)
        return NOT_DONE_YET
