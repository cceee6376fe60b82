"""What the TLS-based server methods (EAP-TLS, EAP-TTLS) share on top of :class:`TlsEngine`.

A subclass builds its engine in :meth:`TlsBasedMethod._new_engine`, runs its conversation
in ``process`` and stores the 128 octets of exported key material (MSK ‖ EMSK) in
``_keys`` once it succeeds.  The server is authenticated by its certificate: once keys
exist the login is mutual.
"""

from __future__ import annotations

from typing import Any

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.tls.context import TlsConfigError
from ikeeap.eap.tls.engine import TlsEngine, TlsStep


class TlsBasedMethod(BaseMethod):
    generates_msk = True
    mutual = True
    label: str  # the method's name in log lines and failure reasons ("EAP-TLS")

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self._engine: TlsEngine | None = None
        self._alert_sent = False
        self._keys: bytes | None = None

    async def start(self, ctx: EapContext) -> EapStep:
        try:
            self._engine = self._new_engine(ctx)
        except (TlsConfigError, ValueError) as exc:
            ctx.warning(f"{self.label} cannot start: %s", exc)
            return EapStep.failure(f"{self.label} misconfigured: {exc}")
        return EapStep.continue_(self._engine.start_request())

    def msk(self) -> bytes | None:
        return self._keys[:64] if self._keys else None

    def emsk(self) -> bytes | None:
        return self._keys[64:] if self._keys else None

    def is_mutual(self) -> bool:
        return self._keys is not None

    def abort(self) -> None:
        self._engine = None

    def _new_engine(self, ctx: EapContext) -> TlsEngine:
        """The engine for one conversation; TlsConfigError/ValueError: misconfigured."""
        raise NotImplementedError

    def _tls_failure(self, ctx: EapContext, step: TlsStep) -> EapStep:
        ctx.info(f"{self.label}: %s", step.failure)
        if step.reply and not self._alert_sent:  # let the peer see our alert, then fail
            self._alert_sent = True
            return EapStep.continue_(step.reply)
        return EapStep.failure(f"{self.label}: {step.failure}")
