"""Peer side of EAP-SIM (RFC 4186) for the test initiator, with a SIM given as a callable.

:class:`SimPeer` is one conversation; :class:`SimPeerState` is what the device keeps between
logins (pseudonym, fast re-authentication identity, MK, counter), so a second login can use
fast re-authentication.  :class:`EapSimPeer` answers whole EAP packets (Identity,
Notification, SIM, Nak) and plugs into ``InitiatorConfig.eap_peer``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ikeeap.crypto.sim_keys import SimKeys, derive_keys, derive_reauth_keys, master_key
from ikeeap.eap.methods.sim import attributes as a
from ikeeap.eap.methods.sim.protection import (
    EAP_REQUEST,
    EAP_RESPONSE,
    decrypted_attributes,
    encrypted_attributes,
    mac_ok,
    sign,
)
from ikeeap.eap.packet import EapPacket, EapType
from ikeeap.eap.peer.frame import PeerFrame

GsmAuth = Callable[[bytes], tuple[bytes, bytes]]  # RAND -> (SRES, Kc)


@dataclass
class SimPeerState:
    """Identities and keys a device keeps from one login to the next."""

    pseudonym: str | None = None
    reauth_id: str | None = None
    mk: bytes = field(default=b"", repr=False)
    counter: int = 0


class _ClientError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class SimPeer:
    """One EAP-SIM conversation; ``process`` maps Request Type-Data to Response Type-Data."""

    eap_type: int = EapType.SIM

    def __init__(self, permanent_identity: bytes, gsm_auth: GsmAuth,
                 state: SimPeerState | None = None, eap_identity: bytes | None = None,
                 result_ind: bool = False, random: Callable[[int], bytes] = os.urandom) -> None:
        self._permanent = permanent_identity
        self._gsm_auth = gsm_auth
        self.state = state if state is not None else SimPeerState()
        self._identity = eap_identity if eap_identity is not None else permanent_identity
        self._result_ind = result_ind
        self._random = random
        self._start_rounds = 0
        self._versions: list[int] = []
        self._nonce_mt = b""
        self._keys: SimKeys | None = None
        self._msk: bytes | None = None
        self._reauth_counter: int | None = None
        self.done = False
        self.client_error: int | None = None
        self.notification: int | None = None

    def msk(self) -> bytes | None:
        return self._msk if self.done else None

    def process(self, type_data: bytes, identifier: int) -> bytes:
        request = bytes([a.EAP_TYPE_SIM]) + type_data
        try:
            msg = a.parse_message(request)
            handler = {a.Subtype.START: self._on_start, a.Subtype.CHALLENGE: self._on_challenge,
                       a.Subtype.REAUTHENTICATION: self._on_reauth,
                       a.Subtype.NOTIFICATION: self._on_notification}.get(msg.subtype)
            if handler is None:
                raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "unexpected subtype")
            return handler(msg, request, identifier)[1:]
        except a.SimParseError:
            return self._client_error(a.ClientError.UNABLE_TO_PROCESS)
        except _ClientError as exc:
            return self._client_error(exc.code)

    def _client_error(self, code: int) -> bytes:
        self.client_error, self.done = code, False
        return a.encode_message(a.Subtype.CLIENT_ERROR, [a.attr_u16(a.Attr.CLIENT_ERROR_CODE, code)])[1:]

    # -- Start --------------------------------------------------------------------------

    def _on_start(self, msg: a.SimMessage, request: bytes, identifier: int) -> bytes:
        self._start_rounds += 1
        versions = a.read_versions(msg.get(a.Attr.VERSION_LIST))
        if self._start_rounds > 3 or versions is None:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "bad Start")
        if a.SIM_VERSION not in versions:
            raise _ClientError(a.ClientError.UNSUPPORTED_VERSION, "no version 1")
        asked = [t for t in a.ID_REQUESTS if msg.has(t)]
        if len(asked) > 1:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "two identity requests")
        attrs, reauth = [], False
        if asked:
            identity, reauth = self._choose_identity(asked[0])
            self._identity = identity
            attrs.append(a.attr_with_length(a.Attr.IDENTITY, identity))
        if not reauth:
            self._versions, self._nonce_mt = versions, self._random(16)
            attrs += [a.attr_reserved(a.Attr.NONCE_MT, self._nonce_mt),
                      a.attr_u16(a.Attr.SELECTED_VERSION, a.SIM_VERSION)]
        return a.encode_message(a.Subtype.START, attrs)

    def _choose_identity(self, asked: int) -> tuple[bytes, bool]:
        """§4.2.5: re-auth identity (ANY only), then pseudonym (not PERMANENT), permanent."""
        if asked == a.Attr.ANY_ID_REQ and self.state.reauth_id and self.state.mk:
            return self.state.reauth_id.encode(), True
        if asked != a.Attr.PERMANENT_ID_REQ and self.state.pseudonym:
            return self._with_realm(self.state.pseudonym).encode(), False
        return self._permanent, False

    def _with_realm(self, name: str) -> str:
        realm = self._permanent.decode("utf-8", "replace").partition("@")[2]
        return f"{name}@{realm}" if realm and "@" not in name else name

    # -- Challenge ----------------------------------------------------------------------

    def _on_challenge(self, msg: a.SimMessage, request: bytes, identifier: int) -> bytes:
        rands_data = a.read_reserved(msg.get(a.Attr.RAND))
        if not self._nonce_mt or rands_data is None or len(rands_data) % 16:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "bad AT_RAND")
        rands = [rands_data[i : i + 16] for i in range(0, len(rands_data), 16)]
        if len(rands) < 2:
            raise _ClientError(a.ClientError.INSUFFICIENT_CHALLENGES, "too few RANDs")
        if len(set(rands)) != len(rands):
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "RAND repeated")
        answers = [self._gsm_auth(rand) for rand in rands]
        mk = master_key(self._identity, [kc for _, kc in answers], self._nonce_mt,
                        self._versions, a.SIM_VERSION)
        keys = derive_keys(mk)
        if not mac_ok(keys.k_aut, EAP_REQUEST, identifier, request, self._nonce_mt):
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "invalid AT_MAC")
        self._learn_identities(keys, msg, pseudonym=True)
        self._keys, self._msk = keys, keys.msk
        self.state.mk, self.state.counter = mk, 0
        attrs = self._result_ind_attr(msg) + [a.mac_placeholder()]
        response = a.encode_message(a.Subtype.CHALLENGE, attrs)
        self.done = True
        return sign(keys.k_aut, EAP_RESPONSE, identifier, response,
                    b"".join(sres for sres, _ in answers))

    def _learn_identities(self, keys: SimKeys, msg: a.SimMessage, pseudonym: bool) -> None:
        nested: tuple[a.SimAttribute, ...] = ()
        if msg.has(a.Attr.ENCR_DATA):
            found = decrypted_attributes(keys.k_encr, msg)
            if found is None:
                raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "bad AT_ENCR_DATA")
            nested = found
        inner = a.SimMessage(msg.subtype, nested)
        if pseudonym and inner.has(a.Attr.NEXT_PSEUDONYM):
            self.state.pseudonym = _text(inner.get(a.Attr.NEXT_PSEUDONYM))
        self.state.reauth_id = _text(inner.get(a.Attr.NEXT_REAUTH_ID))  # §5.3: absent = none

    def _result_ind_attr(self, msg: a.SimMessage) -> list[bytes]:
        if self._result_ind and msg.has(a.Attr.RESULT_IND):
            return [a.attr_flag(a.Attr.RESULT_IND)]
        return []

    # -- fast re-authentication ---------------------------------------------------------

    def _on_reauth(self, msg: a.SimMessage, request: bytes, identifier: int) -> bytes:
        if not self.state.mk:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "no re-authentication state")
        keys = derive_keys(self.state.mk)
        if not mac_ok(keys.k_aut, EAP_REQUEST, identifier, request):
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "invalid AT_MAC")
        nested = decrypted_attributes(keys.k_encr, msg)
        inner = a.SimMessage(msg.subtype, nested or ())
        counter = a.read_u16(inner.get(a.Attr.COUNTER))
        nonce_s = a.read_reserved(inner.get(a.Attr.NONCE_S), 16)
        if counter is None or nonce_s is None:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "bad encrypted attributes")
        self._keys = keys
        encrypted = [a.attr_u16(a.Attr.COUNTER, counter)]
        if counter <= self.state.counter:  # §5.5: ask for a full authentication
            encrypted.insert(0, a.attr_flag(a.Attr.COUNTER_TOO_SMALL))
            self.state.reauth_id = None
        else:
            self._msk = derive_reauth_keys(self._identity, counter, nonce_s, self.state.mk)[0]
            self.state.counter, self._reauth_counter = counter, counter
            self.state.reauth_id = _text(inner.get(a.Attr.NEXT_REAUTH_ID))
            self.done = True
        attrs = encrypted_attributes(keys.k_encr, encrypted, self._random)
        attrs += self._result_ind_attr(msg) + [a.mac_placeholder()]
        response = a.encode_message(a.Subtype.REAUTHENTICATION, attrs)
        return sign(keys.k_aut, EAP_RESPONSE, identifier, response, nonce_s)

    # -- Notification -------------------------------------------------------------------

    def _on_notification(self, msg: a.SimMessage, request: bytes, identifier: int) -> bytes:
        code = a.read_u16(msg.get(a.Attr.NOTIFICATION))
        if code is None:
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "no AT_NOTIFICATION")
        self.notification = code
        if not code & a.NOTIFICATION_S_BIT:
            self.done = False  # §6.3.4: no EAP-Success accepted after a failure notification
        if code & a.NOTIFICATION_P_BIT:
            return a.encode_message(a.Subtype.NOTIFICATION, [])
        if self._keys is None or not mac_ok(self._keys.k_aut, EAP_REQUEST, identifier, request):
            raise _ClientError(a.ClientError.UNABLE_TO_PROCESS, "unprotected notification")
        attrs = []
        if self._reauth_counter is not None:
            attrs += encrypted_attributes(self._keys.k_encr,
                                          [a.attr_u16(a.Attr.COUNTER, self._reauth_counter)],
                                          self._random)
        response = a.encode_message(a.Subtype.NOTIFICATION, attrs + [a.mac_placeholder()])
        return sign(self._keys.k_aut, EAP_RESPONSE, identifier, response)


def _text(attr: a.SimAttribute | None) -> str | None:
    data = a.read_with_length(attr)
    return data.decode("utf-8", "replace") if data else None


class EapSimPeer(PeerFrame):
    """Whole-packet EAP peer doing only EAP-SIM (Nak for anything else).

    The Identity response is the fast re-authentication identity when the state holds one,
    else the pseudonym, else the permanent identity (``use_stored_identity=False``: always
    the permanent one).
    """

    early_success = "EAP-Success before EAP-SIM completed"

    def __init__(self, permanent_identity: bytes | str, gsm_auth: GsmAuth,
                 state: SimPeerState | None = None, use_stored_identity: bool = True,
                 result_ind: bool = False) -> None:
        if isinstance(permanent_identity, str):
            permanent_identity = permanent_identity.encode("utf-8")
        self.state = state if state is not None else SimPeerState()
        self.identity = self._identity_for(permanent_identity, use_stored_identity)
        self.method: SimPeer = SimPeer(permanent_identity, gsm_auth, self.state, self.identity,
                                       result_ind)

    def _identity_for(self, permanent: bytes, use_stored: bool) -> bytes:
        if use_stored and self.state.reauth_id and self.state.mk:
            return self.state.reauth_id.encode()
        if use_stored and self.state.pseudonym:
            realm = permanent.decode("utf-8", "replace").partition("@")[2]
            name = self.state.pseudonym
            return (f"{name}@{realm}" if realm and "@" not in name else name).encode()
        return permanent

    def _answer(self, eap: EapPacket) -> tuple[int, bytes]:
        if eap.type == EapType.IDENTITY:
            return eap.type, self.identity
        if eap.type == EapType.NOTIFICATION:
            return eap.type, b""
        if eap.type == EapType.SIM:
            return eap.type, self.method.process(eap.data, eap.identifier)
        return EapType.NAK, bytes([EapType.SIM])
