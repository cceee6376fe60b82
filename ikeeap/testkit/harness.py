"""Run an EAP method through full in-memory IKEv2 logins: a few lines of pytest.

    from ikeeap.testkit import MethodKit

    def test_my_method_logs_in():
        kit = MethodKit(MyMethod, config={"prompt": "PIN"}, users={"alice": "secret"})
        login = kit.login(identity="alice", password="secret", peer=peer_with(MyPeer))
        assert login.established and login.method == "my-method"

The method goes through the same start-up checks as under ``ikeeap serve`` (``requires``,
``[methods.<name>]`` config, EAP type), then through IKE_SA_INIT, the certificate round,
every EAP round, the MSK-keyed AUTH and the Child SA against the real sans-I/O responder.
EAP steps run on an asyncio event loop (``async def`` methods, already-fired Deferreds and
asyncio-based fakes of injected executors work); a step running longer than
``step_timeout`` real seconds fails its login exactly as the server's ``eap_step_timeout``
does.  Methods whose Deferreds need a running reactor are tested with
:class:`ikeeap.server.testkit.ServiceLoopback` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikeeap.eap.credentials import LocalUserStore, Providers, UserCredential
from ikeeap.eap.plugin_checks import check_methods
from ikeeap.eap.registry import Factory, MethodRegistry
from ikeeap.initiator.config import EAP_METHOD_TYPES, InitiatorConfig
from ikeeap.initiator.loopback import LoginResult, Loopback
from ikeeap.initiator.testing import eap_factory, make_pki, make_settings
from ikeeap.wire.constants import NotifyType

BUILTIN_PEERS = {eap_type: name for name, eap_type in EAP_METHOD_TYPES.items()}


@dataclass
class KitLogin:
    """One login as both sides saw it (``raw`` has everything else)."""

    raw: LoginResult

    @property
    def established(self) -> bool:
        """IKE SA up on both sides and the Child SA keys agree."""
        return self.raw.established and self.raw.keymat_match

    @property
    def method(self) -> str | None:
        """The EAP method the responder says authenticated the peer."""
        sa = self.raw.responder_sa
        return sa.method if sa else None

    @property
    def msk(self) -> bytes | None:
        """The MSK the peer side derived (AUTH was keyed with it when established)."""
        return self.raw.result.msk

    @property
    def failure(self) -> str | None:
        """The responder's reason for refusing the login (its AuthenticationFailed)."""
        failed = self.raw.auth_failure
        return failed.reason if failed else None

    @property
    def refused(self) -> bool:
        """The peer was told AUTHENTICATION_FAILED and nothing was established."""
        return (not self.raw.established
                and self.raw.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED)


class _TimedLoopback(Loopback):
    """Runs each EAP step on a fresh asyncio loop, bounded like the server's step timeout."""

    def __init__(self, settings: Any, step_timeout: float) -> None:
        super().__init__(settings)
        self.step_timeout = step_timeout

    def _run(self, step: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(_await(step), self.step_timeout)

        return asyncio.run(bounded())  # TimeoutError -> Loopback reports the step as failed


async def _await(step: Awaitable[Any]) -> Any:
    return await step


class MethodKit:
    """One in-memory responder offering one EAP method; ``login()`` as often as needed.

    ``method``: a factory (usually the method class), or the name of a method found among
    the built-ins and ``plugins_dir``.  ``users`` fill the local password store (lookups and
    verification); ``providers`` replaces it; ``extra_providers`` adds named providers.
    Start-up problems raise :class:`ikeeap.eap.registry.RegistryError` from the constructor.
    """

    def __init__(
        self,
        method: Factory | str,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        users: Mapping[str, str] | None = None,
        providers: Providers | None = None,
        extra_providers: Mapping[str, Any] | None = None,
        plugins_dir: str | Path | None = None,
        step_timeout: float = 5.0,
        eap_identity_round: bool = True,
    ) -> None:
        self.registry, self.name = _registry_for(method, name, plugins_dir)
        self.config = dict(config or {})
        users = {"alice": "secret"} if users is None else dict(users)
        self.providers = _providers(users, providers, extra_providers)
        check_methods(self.registry, [self.name], {self.name: self.config}, self.providers)
        self.pki = make_pki()
        self.settings = make_settings(
            users, (self.name,), pki=self.pki, registry=self.registry,
            eap_identity_round=eap_identity_round, eap_step_timeout=step_timeout,
        )
        self.settings.eap_factory = eap_factory(self.registry, self.providers,
                                                {self.name: self.config})
        self.loop = _TimedLoopback(self.settings, step_timeout)

    @property
    def eap_type(self) -> int | None:
        return getattr(self.registry.get(self.name), "eap_type", None)

    def login(
        self,
        identity: str = "alice",
        password: str = "",
        peer: Callable[[bytes, str], Any] | None = None,
        **initiator_options: Any,
    ) -> KitLogin:
        """One full login.  ``peer``: an ``InitiatorConfig.eap_peer`` (e.g.
        ``peer_with(MyPeer)``); without it the built-in peer for the method's EAP type
        (MD5, GTC, MSCHAPv2) answers with ``password``."""
        options = dict(initiator_options)
        if peer is None and "eap_methods" not in options:
            builtin = BUILTIN_PEERS.get(self.eap_type or -1)
            if builtin is None:
                raise ValueError(f"no built-in peer for EAP type {self.eap_type}: pass peer=")
            options["eap_methods"] = (builtin,)
        config = InitiatorConfig(identity=identity, password=password, eap_peer=peer,
                                 ca_certificate=self.pki.ca.der, **options)
        return KitLogin(self.loop.login(config))


def _registry_for(
    method: Factory | str, name: str | None, plugins_dir: str | Path | None
) -> tuple[MethodRegistry, str]:
    if isinstance(method, str):
        return MethodRegistry.discover(plugins_dir=plugins_dir, entry_points=False), method
    registry = MethodRegistry()
    name = name or getattr(method, "name", None)
    if not isinstance(name, str):
        raise TypeError("the method has no 'name': pass name=")
    registry.register(name, method, f"testkit {getattr(method, '__qualname__', method)!s}")
    return registry, name


def _providers(
    users: Mapping[str, str], providers: Providers | None, extra: Mapping[str, Any] | None
) -> Providers:
    if providers is None:
        store = LocalUserStore({u: UserCredential(password=p) for u, p in users.items()})
        providers = Providers.from_store(store)
    if extra:
        providers = Providers(providers.passwords, providers.verifier,
                              {**providers.extra, **extra})
    return providers
