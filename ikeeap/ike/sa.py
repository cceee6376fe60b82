"""One IKE SA as the responder sees it: keys, message window, and where it stands."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable

from ..config import ConnectionConfig
from ..crypto.keys import IkeSaKeys, derive_ike_keys
from ..crypto.sk import SkCipher
from ..crypto.transforms import IkeSuite
from ..eap.authenticator import EapAuthenticator, EapOutput
from ..eap.authorization import Authorization
from ..wire.codec import encode_payloads
from ..wire.constants import HeaderFlag
from ..wire.payloads import CpPayload, IdPayload, IkeHeader, Payload, SaPayload, TsPayload
from .events import Address, Event
from .sa_states import EapPhase, SaState, next_state

if TYPE_CHECKING:  # fragments.py imports this module
    from .fragments import Reassembly

log = logging.getLogger("ikeeap.ike")


@dataclass
class Outcome:
    """What handling one request produced: an answer now, or an EAP step to run first."""

    payloads: list[Payload] = field(default_factory=list)
    pending: Awaitable[EapOutput] | None = None
    close: bool = False
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)  # one per SA, kept while the SA lives: no per-instance dict
class AuthProgress:
    """What the first IKE_AUTH request asked for, kept until the last round answers it."""

    connection: ConnectionConfig | None
    peer_id: IdPayload
    peer_id_text: str
    sa2: SaPayload | None
    ts_i: TsPayload | None
    ts_r: TsPayload | None
    cp: CpPayload | None
    authenticator: EapAuthenticator | None = None
    eap_phase: EapPhase = EapPhase.RUNNING
    msk: bytes | None = None
    eap_identity: str | None = None  # who is logged in: the identity EAP proved
    outer_identity: str | None = None  # the EAP-Response/Identity, when it differs
    method_name: str = ""
    last_eap_request: bytes | None = None
    authorization: Authorization | None = None  # from the EAP backend (Framed-IP-Address, ...)
    eap_only: bool = False  # RFC 5998: no CERT/AUTH from us, mutual method + MSK required


@dataclass
class ChildSa:
    spi_in: bytes   # ours: the initiator sends to it
    spi_out: bytes  # theirs
    description: str
    rekeyed: bool = False  # replaced by a rekey, kept until the initiator deletes it


@dataclass(slots=True)  # 100k SAs in one responder: slots save ~1.4 KB each
class IkeSa:
    spi_i: bytes
    spi_r: bytes
    remote: Address
    local: Address
    created: float
    deadline: float
    suite: IkeSuite
    keys: IkeSaKeys
    ni: bytes
    nr: bytes
    init_request: bytes
    init_response: bytes
    peer_hash_algorithms: frozenset[int] = frozenset()
    state: SaState = SaState.HALF_OPEN
    next_request_id: int = 1
    pending_request_id: int | None = None
    last_response_id: int = -1
    last_response: list[bytes] = field(default_factory=list)
    request_digest: bytes = b""  # of the request last dispatched: only its exact repeat is
                                 # answered from last_response (ike/fragments.request_digest)
    reply_to: tuple[Address, Address] | None = None  # (local, remote) of the pending request
    auth: AuthProgress | None = None
    children: list[ChildSa] = field(default_factory=list)
    virtual_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    pool_name: str | None = None
    peer_id_text: str | None = None
    half_open_key: tuple[Address, bytes] | None = None
    nat_detected: bool = False  # ESP of this SA's children must be UDP-encapsulated
    fragmentation: bool = False  # both sent IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383)
    reassembly: Reassembly | None = None  # fragments of the request being collected
    rekeyed_to: bytes | None = None  # SPIr of the IKE SA that replaced this one (§2.18)
    decrypter: SkCipher = field(init=False, repr=False)
    encrypter: SkCipher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        k = self.keys
        self.decrypter = SkCipher(self.suite, k.sk_ei, k.sk_ai)
        self.encrypter = SkCipher(self.suite, k.sk_er, k.sk_ar)

    @property
    def id(self) -> str:
        return self.spi_r.hex()

    def move_to(self, state: SaState) -> None:
        """Change state as the table in ike/sa_states.py allows (IllegalTransition if not)."""
        self.state = next_state(self.state, state)

    @classmethod
    def create(cls, suite: IkeSuite, shared: bytes, ni: bytes, nr: bytes, spi_i: bytes,
               spi_r: bytes, **kwargs: Any) -> "IkeSa":
        keys = derive_ike_keys(suite, ni, nr, shared, spi_i, spi_r)
        return cls(spi_i=spi_i, spi_r=spi_r, suite=suite, keys=keys, ni=ni, nr=nr, **kwargs)

    def seal_response(self, exchange: int, message_id: int, payloads: list[Payload]) -> bytes:
        """Encrypt ``payloads`` into one SK payload of a response from the original responder."""
        first, inner = encode_payloads(payloads)
        header = IkeHeader(self.spi_i, self.spi_r, 0, exchange, HeaderFlag.RESPONSE, message_id)
        return self.encrypter.seal(header, first, inner)

    def park(self) -> None:
        """Established and idle: drop what only the login needed (the EAP authenticator and
        its last request) and the ciphers' OpenSSL contexts.  The IKE_SA_INIT messages stay: a retransmitted
        IKE_SA_INIT is answered as long as the SA lives (test_responder_exchanges)."""
        if self.auth is not None:
            self.auth.last_eap_request = None
            if self.auth.authenticator is not None:  # EAP is over: release the method now
                self.auth.authenticator.abort()
                self.auth.authenticator = None
        self.decrypter.park()
        self.encrypter.park()

    def log_prefix(self) -> str:
        return f"[{self.id[:8]} {self.remote[0]}:{self.remote[1]}]"
