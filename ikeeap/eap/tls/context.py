"""Server TLS contexts (pyOpenSSL) for EAP methods built on :mod:`ikeeap.eap.tls.engine`.

Files are named by :class:`TlsServerFiles`; the runtime offers the IKE server certificate
as the default (``providers.get("tls_server")``), a method's own config may name others.
Contexts are cached per (files, versions, client-certificate policy): loading keys per
login would be slow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from OpenSSL import SSL

from ...crypto.key_files import KeyFileError, check_private_file

TLS_VERSIONS = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}


class TlsConfigError(ValueError):
    """The TLS files or versions cannot be used; the message says which."""


@dataclass(frozen=True)
class TlsServerFiles:
    certificate: Path  # PEM: server certificate (then any intermediates)
    private_key: Path  # PEM
    ca_certificates: Path | None = None  # PEM: CAs that issue client certificates (EAP-TLS)


def files_from_config(config: dict[str, Any], default: TlsServerFiles | None) -> TlsServerFiles:
    """``certificate``/``private_key``/``ca_certificate`` keys of a method config, else
    ``default``; raises TlsConfigError when neither names a certificate and key."""
    cert, key = config.get("certificate"), config.get("private_key")
    if cert is None and key is None:
        if default is None:
            raise TlsConfigError("no server certificate: set certificate and private_key")
        return default
    if not cert or not key:
        raise TlsConfigError("certificate and private_key must be given together")
    ca = config.get("ca_certificate")
    return TlsServerFiles(Path(cert), Path(key), Path(ca) if ca else None)


def server_context(files: TlsServerFiles, min_version: str = "1.2", max_version: str = "1.2",
                   require_client_certificate: bool = False) -> SSL.Context:
    """A cached server Context; raises TlsConfigError for unreadable files or versions."""
    try:
        return _server_context(files, min_version, max_version, require_client_certificate)
    except SSL.Error as exc:
        raise TlsConfigError(f"TLS context for {files.certificate}: {exc}") from None
    except OSError as exc:
        raise TlsConfigError(f"TLS files: {exc}") from None


@functools.lru_cache(maxsize=16)
def _server_context(files: TlsServerFiles, min_version: str, max_version: str,
                    require_client_certificate: bool) -> SSL.Context:
    if min_version not in TLS_VERSIONS or max_version not in TLS_VERSIONS:
        raise TlsConfigError(f"TLS versions must be among {sorted(TLS_VERSIONS)}")
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_min_proto_version(TLS_VERSIONS[min_version])
    ctx.set_max_proto_version(TLS_VERSIONS[max_version])
    # One full handshake per EAP conversation: no resumption state to keep or leak.
    ctx.set_options(SSL.OP_NO_TICKET | SSL.OP_NO_COMPRESSION | SSL.OP_NO_RENEGOTIATION)
    ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    ctx.use_certificate_chain_file(str(files.certificate))
    try:
        check_private_file(files.private_key)
    except KeyFileError as exc:
        raise TlsConfigError(str(exc)) from None
    ctx.use_privatekey_file(str(files.private_key))
    ctx.check_privatekey()
    if files.ca_certificates is not None:
        ctx.load_verify_locations(str(files.ca_certificates))
    if require_client_certificate:
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _keep_verdict)
    else:
        ctx.set_verify(SSL.VERIFY_NONE, _keep_verdict)
    return ctx


def _keep_verdict(conn: Any, cert: Any, errno: int, depth: int, ok: int) -> bool:
    return bool(ok)  # OpenSSL's own chain verdict
