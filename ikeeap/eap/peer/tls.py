"""Peer (client) side of EAP-TLS (RFC 5216 / RFC 9190) for the test initiator and unit tests.

A pyOpenSSL client in memory BIOs plus the EAP-TLS framing (L/M/S flags, fragments of
``fragment_size`` octets each ACKed by the server, ACKs for the server's fragments).  The
method is ``done`` when TLS 1.2's handshake completed, or after TLS 1.3's commitment message
(RFC 9190 §2.1.1: one octet 0x00 of application data).  Use it with the method-author kit::

    peer_with(lambda identity, _pw: TlsPeer(cert_pem, key_pem, ca_pem))
"""

from __future__ import annotations

import struct

from cryptography import x509
from OpenSSL import SSL, crypto

from ikeeap.crypto.certs import load_private_key_bytes
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer.methods import PeerError
from ikeeap.eap.tls.context import TLS_VERSIONS
from ikeeap.eap.tls.engine import FLAG_LENGTH, FLAG_MORE, FLAG_START, drain_bio

TLS12_LABEL = b"client EAP encryption"
TLS13_LABEL = b"EXPORTER_EAP_TLS_Key_Material"
COMMITMENT = b"\x00"


class TlsPeer:
    """EAP-TLS client; ``cert``/``key``/``ca`` are PEM octets (``ca`` None: no server check)."""

    eap_type = EapType.TLS

    def __init__(self, cert: bytes | None, key: bytes | None, ca: bytes | None = None,
                 max_version: str = "1.3", fragment_size: int = 1024) -> None:
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_min_proto_version(TLS_VERSIONS["1.2"])
        ctx.set_max_proto_version(TLS_VERSIONS[max_version])
        if cert is not None and key is not None:
            ctx.use_certificate(x509.load_pem_x509_certificate(cert))
            ctx.use_privatekey(load_private_key_bytes(key))  # type: ignore[arg-type]
        if ca is not None:
            store = ctx.get_cert_store()
            for one in x509.load_pem_x509_certificates(ca):
                store.add_cert(crypto.X509.from_cryptography(one))  # type: ignore[union-attr]
            ctx.set_verify(SSL.VERIFY_PEER, lambda *args: bool(args[-1]))
        self.tls = SSL.Connection(ctx, None)
        self.tls.set_connect_state()
        self.mutual = ca is not None  # RFC 5998: only a verified server certificate counts
        self.fragment_size = fragment_size
        self.done = False
        self.requests = 0  # EAP-TLS requests answered (tests count round trips)
        self.app_data = b""
        self.error: str | None = None  # a TLS error (e.g. the server's alert)
        self._handshake_done = False
        self._incoming = b""
        self._outgoing = b""
        self._sending = False  # inside a fragmented message of ours

    def process(self, type_data: bytes, identifier: int) -> bytes:
        self.requests += 1
        if not type_data:
            raise PeerError("EAP-TLS request without flags")
        flags, body = type_data[0], type_data[1:]
        if flags & FLAG_START:
            self._pump()
            return self._frame()
        if self._outgoing:  # the server ACKed one of our fragments
            if body:
                raise PeerError("EAP-TLS server sent data while our fragments were pending")
            return self._frame()
        if flags & FLAG_LENGTH:
            if len(body) < 4:
                raise PeerError("truncated TLS Message Length")
            body = body[4:]
        self._incoming += body
        if flags & FLAG_MORE:
            return bytes([0])  # ACK
        if not self._incoming:  # an ACK we did not ask for (bio_write would raise)
            raise PeerError("EAP-TLS request without TLS data")
        self.tls.bio_write(self._incoming)
        self._incoming = b""
        self._pump()
        return self._frame() if self._outgoing else bytes([0])

    def msk(self) -> bytes | None:
        keys = self.key_material()
        return keys[:64] if keys else None

    def key_material(self) -> bytes | None:
        if not self.done:
            return None
        if self.tls.get_protocol_version_name() == "TLSv1.3":
            return bytes(self.tls.export_keying_material(TLS13_LABEL, 128, bytes([EapType.TLS])))
        return bytes(self.tls.export_keying_material(TLS12_LABEL, 128))

    def _pump(self) -> None:
        try:
            self.tls.do_handshake()
            self._handshake_done = True
            while True:
                self.app_data += self.tls.recv(65536)
        except (SSL.WantReadError, SSL.ZeroReturnError):
            pass
        except SSL.Error as exc:  # like real peers: send our alert or ACK, await Failure
            self.error = str(exc)
        self._outgoing += drain_bio(self.tls)
        v13 = self.tls.get_protocol_version_name() == "TLSv1.3"
        self.done = (self._handshake_done and not self.error
                     and (not v13 or self.app_data.startswith(COMMITMENT)))

    def _frame(self) -> bytes:
        """Flags ‖ [Length] ‖ the next fragment of our pending message (no Type octet)."""
        chunk, self._outgoing = (self._outgoing[: self.fragment_size],
                                 self._outgoing[self.fragment_size:])
        flags, head = 0, b""
        if not self._sending:
            flags, head = FLAG_LENGTH, struct.pack("!I", len(chunk) + len(self._outgoing))
        if self._outgoing:
            flags |= FLAG_MORE
        self._sending = bool(self._outgoing)
        return bytes([flags]) + head + chunk
