"""A sans-I/O TLS server over EAP framing (RFC 5216 §3, RFC 5281 §9, RFC 9190), for
EAP-TTLS, EAP-TLS, PEAP-style methods.

TLS runs in pyOpenSSL with memory BIOs: no sockets, no threads.  The engine owns the EAP-TLS
framing: Flags (L = length included, M = more fragments, S = start, low 3 bits = method
version), the 4-octet TLS Message Length, fragmentation of our records into
``max_fragment_size`` pieces (each answered by an empty ACK from the peer) and reassembly of
the peer's fragments (each answered by our ACK).  It knows nothing about what the method
tunnels.

API (all synchronous; a method calls it from its async ``start``/``process``)::

    engine = TlsEngine(eap_type=EapType.TTLS, context=server_context(files), version=0)
    first_request = engine.start_request()           # Type ‖ Flags(S|version)
    step = engine.receive(response)                  # response = Type ‖ Type-Data
    step.reply          # Type-Data to send now (our ACK, next fragment, TLS records)
    step.failure        # str: a fatal problem (send EAP-Failure)
    step.app_data       # decrypted application data that arrived with this message
    step.handshake_complete, step.peer_ack  # peer_ack: an empty response (ACK)
    reply = engine.send_application(data)            # encrypt, frame, first fragment
    reply = engine.flush()                           # pending TLS output (or None)
    engine.export_key(label, length, context=None)   # RFC 5705 exporter (MSK/EMSK)
    engine.peer_certificate()                        # cryptography x509 (EAP-TLS), or None
    engine.protocol_version                          # "TLSv1.2" / "TLSv1.3"

``after_handshake(engine) -> bytes`` (optional) is called once when the handshake completes;
what it returns is sent as application data in the same flight as our last handshake
records (EAP-TLS 1.3's commitment message, RFC 9190 §2.1.1).  It must not raise.

``receive`` never raises: malformed framing, oversize messages and TLS errors become
``failure``.  After a TLS error an alert may still be pending: ``step.reply`` then carries
it and ``failure`` is set; the method may send it and fail on the next response.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from OpenSSL import SSL

log = logging.getLogger("ikeeap.eap.tls")

FLAG_LENGTH = 0x80
FLAG_MORE = 0x40
FLAG_START = 0x20
VERSION_MASK = 0x07
DEFAULT_MAX_FRAGMENT = 1024  # TLS octets per EAP message (strongSwan's default as well)
MAX_MESSAGE = 64 * 1024  # reassembled peer message bound (certificate chains fit easily)
_READ_CHUNK = 16384


@dataclass(frozen=True)
class TlsStep:
    """What one peer response produced (see the module docstring)."""

    reply: bytes | None = None
    app_data: bytes = b""
    handshake_complete: bool = False
    peer_ack: bool = False
    failure: str | None = None


class TlsEngine:
    """Server side of one TLS session framed in EAP (one per EAP conversation)."""

    def __init__(self, eap_type: int, context: SSL.Context, version: int = 0,
                 max_fragment_size: int = DEFAULT_MAX_FRAGMENT,
                 after_handshake: Callable[[TlsEngine], bytes] | None = None) -> None:
        if not 64 <= max_fragment_size <= 65536:
            raise ValueError("max_fragment_size must be 64..65536")
        self.eap_type = eap_type
        self.version = version & VERSION_MASK
        self.max_fragment_size = max_fragment_size
        self._conn = SSL.Connection(context, None)  # memory BIOs
        self._conn.set_accept_state()
        self._outgoing = b""  # the rest of our current message, not yet sent
        self._incoming = bytearray()  # peer fragments being reassembled
        self._expected_length: int | None = None
        self._handshake_complete = False
        self._failed: str | None = None
        self._after_handshake = after_handshake

    # -- public -------------------------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        return self._handshake_complete

    @property
    def protocol_version(self) -> str:
        return str(self._conn.get_protocol_version_name())

    def start_request(self) -> bytes:
        return bytes([self.eap_type, FLAG_START | self.version])

    def receive(self, response: bytes) -> TlsStep:
        """Process one peer Response (Type ‖ Flags ‖ [Length] ‖ data)."""
        if self._failed:
            return self._fail(self._failed)
        parsed = self._parse(response)
        if isinstance(parsed, str):
            return self._fail(parsed)
        flags, data = parsed
        if self._outgoing:  # we are sending fragments: the peer must ACK each
            if data or flags & FLAG_MORE:
                return self._fail("peer sent data while our fragments were pending")
            return TlsStep(reply=self._next_fragment(first=False),
                           handshake_complete=self._handshake_complete)
        if not data and not self._incoming and not flags & FLAG_MORE:
            return TlsStep(peer_ack=True, handshake_complete=self._handshake_complete)
        problem = self._collect(flags, data)
        if problem:
            return self._fail(problem)
        if flags & FLAG_MORE:
            return TlsStep(reply=self._ack(), handshake_complete=self._handshake_complete)
        message, self._incoming, self._expected_length = bytes(self._incoming), bytearray(), None
        return self._feed(message)

    def send_application(self, data: bytes) -> bytes | None:
        """Encrypt ``data`` and return the first fragment to send (None if nothing)."""
        try:
            self._conn.sendall(data)
        except SSL.Error as exc:
            self._failed = f"TLS send failed: {_ssl_reason(exc)}"
            return None
        return self.flush()

    def flush(self) -> bytes | None:
        """Frame whatever TLS wants to send (records, alerts); None when nothing."""
        if not self._outgoing:
            self._outgoing = self._drain()
            if not self._outgoing:
                return None
            return self._next_fragment(first=True)
        return None

    def export_key(self, label: bytes, length: int, context: bytes | None = None) -> bytes:
        """RFC 5705 exporter; ``context=None`` is the no-context form (TLS 1.2 EAP KDFs)."""
        key = self._conn.export_keying_material(label, length, context)
        if not key or len(key) != length:
            raise RuntimeError("TLS exporter failed")
        return bytes(key)

    def peer_certificate(self) -> Any:
        cert = self._conn.get_peer_certificate()
        return cert.to_cryptography() if cert is not None else None

    # -- framing ------------------------------------------------------------------------

    def _parse(self, response: bytes) -> tuple[int, bytes] | str:
        if len(response) < 2 or response[0] != self.eap_type:
            return "malformed TLS-framed response"
        flags, rest = response[1], response[2:]
        if flags & FLAG_START:
            return "peer set the Start flag"
        if flags & FLAG_LENGTH:
            if len(rest) < 4:
                return "truncated TLS Message Length"
            (length,) = struct.unpack("!I", rest[:4])
            rest = rest[4:]
            if length > MAX_MESSAGE or length < len(rest):
                return f"bad TLS Message Length {length}"
            if not self._incoming:
                self._expected_length = length
        return flags, bytes(rest)

    def _collect(self, flags: int, data: bytes) -> str | None:
        if flags & FLAG_MORE and not data:
            return "empty fragment with the More flag"
        self._incoming += data
        if len(self._incoming) > MAX_MESSAGE:
            return "peer message exceeds the size limit"
        expected = self._expected_length
        if expected is not None and len(self._incoming) > expected:
            return "peer fragments exceed the announced length"
        if expected is not None and not flags & FLAG_MORE and len(self._incoming) != expected:
            return "peer message shorter than announced"
        return None

    def _ack(self) -> bytes:
        return bytes([self.eap_type, self.version])

    def _next_fragment(self, first: bool) -> bytes:
        chunk, self._outgoing = (self._outgoing[: self.max_fragment_size],
                                 self._outgoing[self.max_fragment_size:])
        flags = self.version
        header = b""
        if first:  # L on the first fragment of every message (FreeRADIUS does the same)
            flags |= FLAG_LENGTH
            header = struct.pack("!I", len(chunk) + len(self._outgoing))
        if self._outgoing:
            flags |= FLAG_MORE
        return bytes([self.eap_type, flags]) + header + chunk

    # -- TLS ----------------------------------------------------------------------------

    def _feed(self, message: bytes) -> TlsStep:
        self._conn.bio_write(message)
        try:
            if not self._handshake_complete:
                self._conn.do_handshake()
                self._handshake_complete = True
                log.debug("TLS handshake complete (%s, %s)", self.protocol_version,
                          self._conn.get_cipher_name())
                extra = self._after_handshake(self) if self._after_handshake else b""
                if extra:  # written before flush(): same EAP message as our last records
                    self._conn.sendall(extra)
            app_data = self._read_application()
        except SSL.WantReadError:
            return TlsStep(reply=self.flush(), handshake_complete=False)
        except SSL.Error as exc:
            reason = f"TLS error: {_ssl_reason(exc)}"
            self._failed = reason
            return TlsStep(reply=self.flush(), failure=reason)
        return TlsStep(reply=self.flush(), app_data=app_data, handshake_complete=True)

    def _read_application(self) -> bytes:
        data = bytearray()
        while True:
            try:
                data += self._conn.recv(_READ_CHUNK)
            except (SSL.WantReadError, SSL.ZeroReturnError):
                return bytes(data)
            if len(data) > MAX_MESSAGE:
                raise SSL.Error([("", "", "application data exceeds the size limit")])

    def _drain(self) -> bytes:
        return drain_bio(self._conn)

    def _fail(self, reason: str) -> TlsStep:
        self._failed = reason
        return TlsStep(failure=reason, handshake_complete=self._handshake_complete)


def _ssl_reason(exc: SSL.Error) -> str:
    try:
        return "; ".join(str(e[2]) for e in exc.args[0]) or type(exc).__name__
    except (IndexError, TypeError):
        return str(exc) or type(exc).__name__


def drain_bio(conn: SSL.Connection) -> bytes:
    """Every TLS record the memory BIO holds for the peer (server and test peer alike)."""
    out = bytearray()
    while True:
        try:
            out += conn.bio_read(_READ_CHUNK)
        except SSL.WantReadError:
            return bytes(out)
