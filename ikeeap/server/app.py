"""The running server: config, responder, sockets, RADIUS, control socket, metrics, logs.

Used by ``ikeeap serve``, each worker of ``serve --workers N`` (with a :class:`WorkerSlot`:
its share of the pools and SPIs, routed sockets, a control socket the parent fans out to)
and the ``twistd ikeeap`` plugin::

    app = ServeApp(ServeOptions("conf/ikeeap.toml"), reactor)
    bound = app.start()            # UDP sockets bound, control socket and metrics listening
    reactor.addSystemEventTrigger("before", "shutdown", app.stop)
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

from prometheus_client import generate_latest
from twisted.internet import defer

from ..audit import AuditListener
from ..bootstrap import Checked, ServeOptions, load_checked
from ..config import Config, ConfigError
from ..config_warnings import config_warnings
from ..control.views import sa_view
from ..eap.registry import MethodRegistry
from ..ike.events import ChildSaEstablished
from ..ike.responder import Responder
from ..ike.sa import SaState
from ..ike.settings import ResponderSettings
from ..logs import configure_logging
from ..metrics import Metrics
from ..ops_config import control_socket_path
from ..runtime import build_settings, ensure_certificates
from .blocking import BlockingPools
from .control import control_socket_answers, listen_control
from .metrics_http import listen_metrics
from .radius_client import RadiusRuntime, start_radius
from .reload import apply_settings, carry_over, restart_notes
from .service import ResponderService
from .worker_routing import Router, WorkerSlot, inbox_reader, owned_random, split_pools

log = logging.getLogger("ikeeap.server")

VERSION = "0.1.0"


class ServeApp:
    def __init__(self, options: ServeOptions, reactor: Any, worker: WorkerSlot | None = None,
                 checked: Checked | None = None) -> None:
        self.options = options
        self.config_path = options.config_path
        self.reactor = reactor
        self.worker = worker
        checked = checked or load_checked(self.config_path)
        self.config, self._registry = checked.config, checked.registry
        if worker is None or worker.index == 0:  # said once, not once per worker
            for warning in config_warnings(self.config):
                log.warning("%s", warning)
        self.credentials: Any = None
        self.bound: list[tuple[str, int]] = []
        self.started = time.time()
        self.reloads = 0
        self.last_reload: float | None = None
        self._selectors: dict[bytes, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._established: dict[str, float] = {}
        self._logins = {"success": 0, "failure": 0}
        self._ports: list[Any] = []
        self.metrics: Any = None
        self.metrics_address: str | None = None

    @property
    def registry(self) -> MethodRegistry:
        return self._registry

    # ---- start / stop ---------------------------------------------------------------------

    def start(self) -> list[tuple[str, int]]:
        opts = self.options
        if self.worker is None:  # the parent of workers checked before forking
            refuse_a_second_server(self.config)
        self._configure_logging(self.config)
        if self.config.certificates is not None:
            self.credentials = ensure_certificates(self.config.certificates,
                                                   self.config.server.identity)
        self.radius: RadiusRuntime = start_radius(self.config, self.reactor)
        self.blocking = BlockingPools(self.reactor)  # LDAP binds off the reactor
        settings = self._settings(self.config, self._registry, self.credentials, self.radius)
        worker = self.worker
        random = owned_random(worker.index, worker.count) if worker else os.urandom
        self.responder = Responder(settings, random=random)
        self.service = ResponderService(self.responder, self.reactor,
                                        listeners=[*self.radius.listeners, self._observe,
                                                   AuditListener(self.responder.get_sa)])
        port = self.config.server.port if opts.port is None else opts.port
        hosts = list(opts.listen or self.config.server.listen)
        if worker is None:
            for host in hosts:
                self.bound.append(self.service.listen(host, port))
                self.bound.append(self.service.listen(host, settings.nat_port))
        else:
            self.router = Router(worker.index, worker.count, self.service,
                                 list(worker.outboxes), settings.nat_port)
            for host in hosts:
                self.bound.append(self.router.listen(self.reactor, host, port))
                self.bound.append(self.router.listen(self.reactor, host, settings.nat_port))
            self.reactor.addReader(inbox_reader(worker.inboxes[worker.index],
                                                self.router.from_worker))
            log.info("worker %d of %d started", worker.index, worker.count)
        self._start_metrics()
        self._start_control()
        self._install_sighup()
        return self.bound

    def _settings(self, config: Config, registry: MethodRegistry, credentials: Any,
                  radius: RadiusRuntime) -> ResponderSettings:
        """The responder's settings from a checked config; a worker gets its pool slices."""
        settings = build_settings(config, registry, credentials, blocking_pools=self.blocking,
                                  extra_providers=radius.providers)
        nat_port = self.options.nat_port
        settings.nat_port = config.server.nat_port if nat_port is None else nat_port
        if self.worker is not None:
            split_pools(settings, self.worker.index, self.worker.count)
        return settings

    def stop(self) -> defer.Deferred:
        """DELETE to every peer, RADIUS Stop/Accounting-Off, then close every socket."""
        d = self.service.stop()
        d.addBoth(lambda _: self.radius.stop())
        for listening in self._ports:
            d.addBoth(_then_stop, listening)
        d.addBoth(lambda _: self.blocking.stop())
        return d

    def _configure_logging(self, config: Config) -> None:
        level = self.options.log_level or config.server.log_level
        configure_logging(level, config.sections.get("logging"))

    def _start_control(self) -> None:
        control = self.config.sections.get("control")
        if control is not None and not control.enabled:
            return
        path = control_socket_path(self.config)
        mode = control.mode if control is not None else 0o600
        if self.worker is not None:  # the parent listens on the configured path
            path, mode = path.with_name(path.name + self.worker.control_suffix()), 0o600
        try:
            self._ports.append(listen_control(self.reactor, path, mode, self))
        except Exception as exc:  # noqa: BLE001 - serving VPN users matters more
            log.error("control socket %s not available: %s", path, exc)

    def _start_metrics(self) -> None:
        wanted = self.config.sections.get("metrics")
        if wanted is None:
            return
        self.metrics = Metrics(self.responder.get_sa, clock=self.reactor.seconds)
        self.metrics.watch(self.responder, self._radius_transports())
        self.service.listeners.append(self.metrics)
        self.service.on_exchange = self.metrics.observe_exchange
        self.service.on_eap_step = self.metrics.observe_eap_step
        if self.worker is not None:
            return  # the parent serves one endpoint with every worker's figures summed
        listening = listen_metrics(self.reactor, self.metrics.registry, wanted.listen,
                                   wanted.port)
        self._ports.append(listening)
        self.metrics_address = f"{wanted.listen}:{listening.getHost().port}"

    def metrics_text(self) -> str:
        """This process's metrics in the Prometheus text format ("" when they are off)."""
        return generate_latest(self.metrics.registry).decode() if self.metrics else ""

    def _radius_transports(self) -> list[tuple[str, Any]]:
        roles = ("auth", "accounting")
        return [(roles[min(i, 1)], t) for i, t in enumerate(self.radius.transports)]

    def _install_sighup(self) -> None:
        def on_hup(*_: Any) -> None:
            self.reactor.callFromThread(self._reload_logged)
        try:
            signal.signal(signal.SIGHUP, on_hup)
        except ValueError:  # not the main thread (tests): control-socket reload only
            pass

    def _reload_logged(self) -> None:
        try:
            self.reload()
        except ConfigError as exc:
            log.error("reload refused, configuration unchanged:\n  %s",
                      "\n  ".join(exc.problems))
        except Exception as exc:  # noqa: BLE001
            log.error("reload refused, configuration unchanged: %s", exc)

    # ---- what the control socket asks ----------------------------------------------------

    def _observe(self, event: Any) -> None:
        """Keeps what list-sas shows but the core does not keep (selectors, times)."""
        name = type(event).__name__
        if isinstance(event, ChildSaEstablished):
            self._selectors[event.spi_in] = (event.ts_i, event.ts_r)
        elif name == "IkeSaEstablished":
            self._established[event.sa_id] = self.reactor.seconds()
            self._logins["success"] += 1
        elif name == "AuthenticationFailed":
            self._logins["failure"] += 1
        elif name == "IkeSaRekeyed":
            self._established[event.new_sa_id] = self._established.pop(
                event.sa_id, self.reactor.seconds())
        elif name == "IkeSaDeleted":
            self._established.pop(event.sa_id, None)

    def list_sas(self) -> list[dict[str, Any]]:
        now = self.reactor.seconds()
        reauth = self.responder.settings.hardening.reauth_time
        live = self.responder.sas()
        spis = {c.spi_in for sa in live for c in sa.children}
        for spi in [s for s in self._selectors if s not in spis]:
            del self._selectors[spi]  # Child SA gone
        return [sa_view(sa, now, reauth, self._selectors, self._established.get(sa.id))
                for sa in sorted(live, key=lambda s: s.created)]

    def status(self) -> dict[str, Any]:
        r = self.responder
        return {
            "version": VERSION, "uptime": round(time.time() - self.started, 1),
            "config": self.config_path,
            "listening": [f"{h}:{p}/udp" for h, p in self.bound],
            "sas": {s.value: r.count(s) for s in (SaState.HALF_OPEN, SaState.AUTHENTICATING,
                                                  SaState.ESTABLISHED)},
            "logins": dict(self._logins), "cookies_sent": r.cookies_sent,
            "false_retransmits": r.false_retransmits, "reassembly_octets": r.reassembly.in_use,
            "reloads": self.reloads,
            "last_reload_age": (round(time.time() - self.last_reload, 1)
                                if self.last_reload else None),
            "metrics": self.metrics_address,
        }

    def terminate(self, sa_ids: list[str], reason: str) -> list[str]:
        return self.service.terminate(sa_ids, reason)

    def reload(self) -> dict[str, Any]:
        """Re-read the config file; raises ConfigError (nothing changed) if it is bad."""
        checked = load_checked(self.config_path)
        config, registry = checked.config, checked.registry
        credentials = self.credentials
        if config.certificates is not None:
            credentials = ensure_certificates(config.certificates, config.server.identity)
        radius = self.radius
        if config.sections.get("radius") != self.config.sections.get("radius"):
            radius = start_radius(config, self.reactor)
        try:
            settings = self._settings(config, registry, credentials, radius)
        except Exception as exc:
            if radius is not self.radius:
                radius.stop()
            raise ConfigError([f"{config.path}: {exc}"]) from exc
        notes = restart_notes(self.config, config)
        notes += carry_over(self.responder.settings, settings, self.responder.sas())
        apply_settings(self.responder, settings)
        if radius is not self.radius:
            self._swap_radius(radius)
        self.config, self._registry, self.credentials = config, registry, credentials
        self._configure_logging(config)
        self.reloads, self.last_reload = self.reloads + 1, time.time()
        log.info("configuration reloaded from %s (%d IKE SAs kept)", config.path,
                 len(self.responder.sas()))
        return {"config": str(config.path), "connections": len(config.connections),
                "users": len(config.users), "kept_sas": len(self.responder.sas()),
                "notes": notes}

    def _swap_radius(self, radius: RadiusRuntime) -> None:
        old = self.radius
        listeners = [x for x in self.service.listeners if x not in old.listeners]
        self.service.listeners[:] = [*radius.listeners, *listeners]
        self.radius = radius
        if self.metrics is not None:
            self.metrics.watch(self.responder, self._radius_transports())
        old.stop()  # its Accounting-Off ends the old server's sessions


def _then_stop(_: Any, listening: Any) -> Any:
    return listening.stopListening()


def refuse_a_second_server(config: Config) -> None:
    """Two servers on one state_dir would share keys and pseudonym stores, and the second
    would run without a control socket: refuse before binding anything."""
    control = config.sections.get("control")
    path = control_socket_path(config)
    if (control is None or control.enabled) and control_socket_answers(path):
        raise OSError(f"another ikeeap is running with this state (its control socket "
                      f"{path} answers): stop it, or give {config.path} its own state_dir")


def serve_forever(options: ServeOptions, checked: Checked,
                  on_started: Callable[[ServeApp, list[tuple[str, int]]], None]) -> int:
    """``ikeeap serve`` in the foreground on the global reactor until it stops."""
    from twisted.internet import reactor  # the global reactor only when serving for real

    app = ServeApp(options, reactor, checked=checked)
    on_started(app, app.start())
    reactor.addSystemEventTrigger("before", "shutdown", app.stop)
    reactor.run()
    return 0
