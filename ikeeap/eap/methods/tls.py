"""EAP-TLS, server side (RFC 5216 with TLS 1.2, RFC 9190 with TLS 1.3), on the engine of
:mod:`ikeeap.eap.tls.engine`.

The peer must present a client certificate that chains to ``ca_file`` (OpenSSL verifies the
chain, validity and the clientAuth purpose); the certificate must then name the EAP identity
(:mod:`.tls_identity`, ``identity_check``).  Mutual: the server is authenticated by its
certificate, so the method qualifies for RFC 5998 EAP-only logins.

End of the conversation:

- TLS 1.2 (RFC 5216 §2.1.1): the peer's Finished is answered by our ChangeCipherSpec +
  Finished; the peer ACKs it with an empty response; then EAP-Success.
- TLS 1.3 (RFC 9190 §2.1.1): after the peer's Finished we send any NewSessionTicket and the
  commitment message (one octet 0x00 of application data) in one request; the peer ACKs
  (or sends close_notify); then EAP-Success.

Keys: TLS 1.2: Key_Material = TLS-Exporter("client EAP encryption", no context, 128)
(RFC 5216 §2.3, the TLS-PRF of the master secret over client.random ‖ server.random);
TLS 1.3: TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", context 0x0D, 128) (RFC 9190 §2.3).
MSK = Key_Material[0:64], EMSK = Key_Material[64:128].

Config (``[methods.tls]``): ``ca_file`` (required: PEM CA certificate(s) that issue client
certificates; absolute or relative to the working directory), ``identity_check`` (``"san"``
default, ``"cn"``, ``"none"``), ``certificate``/``private_key`` (default: the IKE server
certificate via the ``tls_server`` provider), ``tls_min_version``/``tls_max_version``
(``"1.2"``/``"1.3"``; defaults ``"1.2"``/``"1.2"``), ``max_fragment_size`` (1024).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, EapStep
from ikeeap.eap.methods.tls_identity import IDENTITY_RULES, certificate_names, identity_problem
from ikeeap.eap.packet import EapType
from ikeeap.eap.tls.context import (
    TLS_VERSIONS,
    TlsConfigError,
    TlsServerFiles,
    server_context,
)
from ikeeap.eap.tls.engine import DEFAULT_MAX_FRAGMENT, TlsEngine
from ikeeap.eap.tls.method import TlsBasedMethod

TLS12_LABEL = b"client EAP encryption"  # RFC 5216 §2.3
TLS13_LABEL = b"EXPORTER_EAP_TLS_Key_Material"  # RFC 9190 §2.3
TLS13_CONTEXT = bytes([EapType.TLS])  # the Type-Code 0x0D
COMMITMENT = b"\x00"  # RFC 9190 §2.1.1: no more handshake messages from the server
KEY_MATERIAL_LENGTH = 128
_KEYS = {"ca_file", "identity_check", "certificate", "private_key", "tls_min_version",
         "tls_max_version", "max_fragment_size"}


@dataclass(frozen=True)
class TlsSettings:
    """The validated ``[methods.tls]`` table."""

    ca_file: Path
    identity_check: str = "san"
    certificate: Path | None = None
    private_key: Path | None = None
    min_version: str = "1.2"
    max_version: str = "1.2"
    max_fragment_size: int = DEFAULT_MAX_FRAGMENT

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TlsSettings:
        """Raises ValueError naming the bad key (check-config and start-up report it)."""
        unknown = sorted(set(config) - _KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}")
        ca_file = _string(config, "ca_file")
        if not ca_file:
            raise ValueError("ca_file is required (the CA that issues client certificates)")
        _check_ca_file(Path(ca_file))
        rule = config.get("identity_check", "san")
        if rule not in IDENTITY_RULES:
            raise ValueError(f"identity_check must be one of {', '.join(IDENTITY_RULES)}")
        cert, key = _string(config, "certificate"), _string(config, "private_key")
        if bool(cert) != bool(key):
            raise ValueError("certificate and private_key must be given together")
        versions = (str(config.get("tls_min_version", "1.2")),
                    str(config.get("tls_max_version", "1.2")))
        if not all(v in TLS_VERSIONS for v in versions) or versions[0] > versions[1]:
            raise ValueError(f"tls_min_version/tls_max_version must be among "
                             f"{sorted(TLS_VERSIONS)}, min <= max")
        frag = config.get("max_fragment_size", DEFAULT_MAX_FRAGMENT)
        if not isinstance(frag, int) or isinstance(frag, bool) or not 64 <= frag <= 65536:
            raise ValueError("max_fragment_size must be an integer 64..65536")
        return cls(Path(ca_file), rule, Path(cert) if cert else None,
                   Path(key) if key else None, versions[0], versions[1], frag)

    def server_files(self, default: TlsServerFiles | None) -> TlsServerFiles:
        """Our certificate (own or the IKE one), with ``ca_file`` as the client CA."""
        if self.certificate is not None and self.private_key is not None:
            return TlsServerFiles(self.certificate, self.private_key, self.ca_file)
        if default is None:
            raise TlsConfigError("no server certificate: set certificate and private_key")
        return replace(default, ca_certificates=self.ca_file)  # never the IKE CA


def _string(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _check_ca_file(path: Path) -> None:
    try:
        _load_ca(path, path.stat().st_mtime_ns)
    except OSError as exc:
        raise ValueError(f"ca_file {path}: {exc.strerror}") from None


@functools.lru_cache(maxsize=8)
def _load_ca(path: Path, mtime_ns: int) -> int:
    """Certificates in the CA file (cached per mtime: the factory runs once per login)."""
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError:
        certs = []
    if not certs:
        raise ValueError(f"ca_file {path}: no PEM certificate in it")
    return len(certs)


def _commitment(engine: TlsEngine) -> bytes:
    return COMMITMENT if engine.protocol_version == "TLSv1.3" else b""


class TlsMethod(TlsBasedMethod):
    name = "tls"
    eap_type = EapType.TLS
    label = "EAP-TLS"

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self.settings = TlsSettings.from_config(self.config)

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        engine = self._engine
        if engine is None or self._keys is not None:
            return EapStep.failure("EAP-TLS response out of sequence")
        was_complete = engine.handshake_complete
        step = engine.receive(response)
        if step.failure:
            return self._tls_failure(ctx, step)
        if step.app_data:  # EAP-TLS carries no application data from the peer
            return EapStep.failure("EAP-TLS: unexpected application data from the peer")
        if step.handshake_complete and not was_complete:
            problem = self._check_peer(ctx, engine)
            if problem:  # our Finished / commitment is never sent
                return EapStep.failure(f"EAP-TLS: {problem}")
        if step.reply:
            return EapStep.continue_(step.reply)
        if not was_complete:  # success only after the peer ACKed our last flight
            return EapStep.failure("EAP-TLS: TLS handshake stalled")
        return self._succeed(ctx, engine)

    def _new_engine(self, ctx: EapContext) -> TlsEngine:
        s = self.settings
        files = s.server_files(self._providers(ctx).get("tls_server"))
        context = server_context(files, s.min_version, s.max_version,
                                 require_client_certificate=True)
        return TlsEngine(EapType.TLS, context, version=0, max_fragment_size=s.max_fragment_size,
                         after_handshake=_commitment)

    def _check_peer(self, ctx: EapContext, engine: TlsEngine) -> str | None:
        cert = engine.peer_certificate()
        if cert is None:  # VERIFY_FAIL_IF_NO_PEER_CERT makes this unreachable
            return "no client certificate"
        problem = identity_problem(cert, ctx.identity, self.settings.identity_check)
        if problem:
            ctx.info("EAP-TLS: client certificate (%s) refused: %s",
                     certificate_names(cert), problem)
            return f"client certificate does not match the identity ({problem})"
        ctx.info("EAP-TLS: client certificate accepted (%s, %s)", certificate_names(cert),
                 engine.protocol_version)
        return None

    def _succeed(self, ctx: EapContext, engine: TlsEngine) -> EapStep:
        try:
            if engine.protocol_version == "TLSv1.3":
                keys = engine.export_key(TLS13_LABEL, KEY_MATERIAL_LENGTH, TLS13_CONTEXT)
            else:
                keys = engine.export_key(TLS12_LABEL, KEY_MATERIAL_LENGTH)
        except Exception as exc:  # noqa: BLE001 - OpenSSL errors end the login, not the SA
            return EapStep.failure(f"EAP-TLS: key export failed ({exc})")
        self._keys = keys
        return EapStep.success()
