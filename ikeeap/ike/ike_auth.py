"""IKE_AUTH, responder side: PSK, or certificate + EAP over several rounds (RFC 7296 §2.15–2.16).

Each handler returns an :class:`Outcome`: payloads to answer with now, or an EAP step the
adapter must run first (``pending``), and whether the SA ends with this answer.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from ..crypto.auth import shared_key_auth, signed_octets
from ..eap.authenticator import EapOutput
from ..eap.authorization import Authorization
from ..eap.identity import matches_constraint
from ..wire.constants import AuthMethod, CertEncoding, NotifyType
from ..wire.payloads import (
    AuthPayload, CertPayload, CpPayload, EapPayload, IdPayload, NotifyPayload, Payload,
    SaPayload, TsPayload, UnknownPayload,
)
from . import eap_only
from .child import build_child
from .events import AuthenticationFailed, IkeSaDeleted, IkeSaEstablished
from .sa import AuthProgress, IkeSa, Outcome
from .sa_states import EapPhase, SaState
from .settings import ResponderSettings, identity_text

log = logging.getLogger("ikeeap.ike")


def _fail(sa: IkeSa, reason: str, extra: list[Payload] | None = None) -> Outcome:
    identity = sa.auth.peer_id_text if sa.auth else None
    log.info("%s authentication failed: %s", sa.log_prefix(), reason)
    payloads = list(extra or []) + [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
    return Outcome(payloads, close=True,
                   events=[AuthenticationFailed(sa.id, sa.remote, identity, reason)])


def _abort(sa: IkeSa, notify: NotifyPayload, reason: str) -> Outcome:
    """Answer with an error notify and end the SA, telling the adapter why."""
    log.info("%s IKE_AUTH refused: %s", sa.log_prefix(), reason)
    return Outcome([notify], close=True, events=[IkeSaDeleted(sa.id, reason)])


def _first(payloads: list[Payload], kind: type, initiator: bool | None = None) -> Any:
    for p in payloads:
        side = getattr(p, "initiator", None)
        if isinstance(p, kind) and (initiator is None or side == initiator):
            return p
    return None


def handle_ike_auth(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload]) -> Outcome:
    """Dispatch one decrypted IKE_AUTH request to the round it belongs to."""
    critical = [p for p in payloads if isinstance(p, UnknownPayload) and p.critical]
    if critical:
        notify = NotifyPayload(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, bytes([critical[0].type]))
        if sa.auth is None:
            return _abort(sa, notify, f"unsupported critical payload {critical[0].type}")
        return Outcome([notify])
    if sa.auth is None:
        return _first_round(settings, sa, payloads)
    auth = _first(payloads, AuthPayload)
    eap = _first(payloads, EapPayload)
    if auth is not None and sa.auth.eap_phase is not EapPhase.RUNNING:
        return _final_round(settings, sa, auth)
    if eap is not None and sa.auth.eap_phase is EapPhase.RUNNING:
        return Outcome(pending=sa.auth.authenticator.receive(eap.data))
    return _abort(sa, NotifyPayload(NotifyType.INVALID_SYNTAX), "IKE_AUTH out of sequence")


def _first_round(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload]) -> Outcome:
    id_i = _first(payloads, IdPayload, initiator=True)
    if id_i is None:
        return _abort(sa, NotifyPayload(NotifyType.INVALID_SYNTAX), "IKE_AUTH without IDi")
    peer = identity_text(id_i)
    sa.peer_id_text = peer
    auth = _first(payloads, AuthPayload)
    conn = settings.find_connection("eap" if auth is None else "psk", peer)
    sa.auth = AuthProgress(
        connection=conn, peer_id=id_i, peer_id_text=peer, sa2=_first(payloads, SaPayload),
        ts_i=_first(payloads, TsPayload, initiator=True),
        ts_r=_first(payloads, TsPayload, initiator=False), cp=_first(payloads, CpPayload),
    )
    sa.move_to(SaState.AUTHENTICATING)
    if conn is None:
        return _fail(sa, f"no {'EAP' if auth is None else 'PSK'} connection for {peer!r}")
    if auth is not None:
        return _psk_round(settings, sa, auth)
    use_eap_only, refusal = eap_only.decide(conn, eap_only.requested(payloads))
    if refusal:
        return _fail(sa, refusal)
    if settings.eap_factory is None or (settings.signer is None and not use_eap_only):
        return _fail(sa, "EAP needs a server certificate and EAP methods")
    sa.auth.authenticator = settings.eap_factory(conn, peer, sa.remote)
    if use_eap_only:  # RFC 5998: no CERT/AUTH from us; the mutual method authenticates us
        sa.auth.eap_only = True
        eap_only.restrict_methods(sa.auth.authenticator)
    return Outcome(pending=sa.auth.authenticator.start())


def _our_auth_octets(settings: ResponderSettings, sa: IkeSa) -> bytes:
    return signed_octets(sa.init_response, sa.ni, sa.suite.prf, sa.keys.sk_pr,
                         settings.identity.body)


def _peer_auth_octets(sa: IkeSa) -> bytes:
    assert sa.auth is not None
    return signed_octets(sa.init_request, sa.nr, sa.suite.prf, sa.keys.sk_pi,
                         sa.auth.peer_id.body)


def _psk_round(settings: ResponderSettings, sa: IkeSa, auth: AuthPayload) -> Outcome:
    conn = sa.auth.connection
    key = conn.psk.encode()
    expected = shared_key_auth(sa.suite.prf, key, _peer_auth_octets(sa))
    if auth.method != AuthMethod.SHARED_KEY or not hmac.compare_digest(expected, auth.data):
        return _fail(sa, "PSK AUTH does not verify")
    ours = shared_key_auth(sa.suite.prf, key, _our_auth_octets(settings, sa))
    sa.auth.method_name = "psk"
    return _establish(settings, sa, [settings.identity, AuthPayload(AuthMethod.SHARED_KEY, ours)])


def certificate_round(settings: ResponderSettings, sa: IkeSa, eap_packet: bytes) -> Outcome:
    """The answer to the first IKE_AUTH of an EAP login: IDr, CERT, AUTH and the first request
    (EAP-only, RFC 5998: IDr and the request alone)."""
    if sa.auth is not None and sa.auth.eap_only:
        return Outcome([settings.identity, EapPayload(eap_packet)])
    method, signature = settings.signer.authenticate(_our_auth_octets(settings, sa),
                                                     sa.peer_hash_algorithms or None)
    payloads: list[Payload] = [settings.identity]
    payloads += [CertPayload(CertEncoding.X509_SIGNATURE, der) for der in settings.cert_chain]
    payloads += [AuthPayload(method, signature), EapPayload(eap_packet)]
    return Outcome(payloads)


def eap_step_done(settings: ResponderSettings, sa: IkeSa, output: EapOutput | None) -> Outcome:
    """Turn an authenticator output (or None: the step failed or timed out) into an answer."""
    progress = sa.auth
    first = progress.last_eap_request is None
    if output is None:
        return _fail(sa, "EAP step failed or timed out")
    if output.finished:
        progress.eap_phase = EapPhase.SUCCEEDED if output.success else EapPhase.FAILED
        outer = _text(output.identity)
        progress.eap_identity = _text(output.authorized_identity) or outer
        progress.outer_identity = outer if outer != progress.eap_identity else None
        progress.method_name = output.method_name or ""
        if not output.success:
            return _fail(sa, f"EAP {output.method_name or ''} failed: {output.reason or ''}",
                         [EapPayload(output.packet)] if output.packet else None)
        problem = eap_only.outcome_problem(output) if progress.eap_only else ""
        problem = problem or _eap_id_problem(progress, output.authorization)
        if problem:
            progress.eap_phase = EapPhase.FAILED
            return _fail(sa, problem, [EapPayload(eap_only.failure_for(output.packet))])
        progress.msk = output.msk
        progress.authorization = output.authorization
        return Outcome([EapPayload(output.packet)])
    packet = output.packet or progress.last_eap_request
    if packet is None:
        return _fail(sa, "EAP authenticator produced no request")
    progress.last_eap_request = packet
    if first:
        return certificate_round(settings, sa, packet)
    return Outcome([EapPayload(packet)])


def _eap_id_problem(progress: AuthProgress, authorization: Authorization | None) -> str:
    """The connection's ``eap_id`` constraint against the identity EAP proved (the
    connection was chosen from the unauthenticated IDi)."""
    patterns = getattr(progress.connection, "eap_id", ())
    groups = [c.decode("utf-8", "replace") for c in getattr(authorization, "radius_class", ())]
    if matches_constraint(patterns, progress.eap_identity or "", groups):
        return ""
    return (f"EAP identity {progress.eap_identity!r} (IDi {progress.peer_id_text!r}) is not "
            f"allowed on connection {progress.connection.name!r} (eap_id)")


def _final_round(settings: ResponderSettings, sa: IkeSa, auth: AuthPayload) -> Outcome:
    """Messages 7 and 8: AUTH keyed from the MSK, or from SK_pi/SK_pr without one (§2.16)."""
    progress = sa.auth
    if progress.eap_phase is not EapPhase.SUCCEEDED or (progress.eap_only and not progress.msk):
        return _fail(sa, "AUTH after a failed EAP exchange")
    key_i = progress.msk if progress.msk else sa.keys.sk_pi
    key_r = progress.msk if progress.msk else sa.keys.sk_pr
    expected = shared_key_auth(sa.suite.prf, key_i, _peer_auth_octets(sa))
    if auth.method != AuthMethod.SHARED_KEY or not hmac.compare_digest(expected, auth.data):
        return _fail(sa, "final AUTH does not verify (MSK mismatch)")
    ours = shared_key_auth(sa.suite.prf, key_r, _our_auth_octets(settings, sa))
    return _establish(settings, sa, [AuthPayload(AuthMethod.SHARED_KEY, ours)])


def _establish(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload]) -> Outcome:
    progress = sa.auth
    child_payloads, events = build_child(settings, sa, progress)
    sa.move_to(SaState.ESTABLISHED)
    vip = str(sa.virtual_ip) if sa.virtual_ip else None
    log.info("%s IKE SA established: %s via %s%s", sa.log_prefix(), progress.peer_id_text,
             progress.method_name, f", virtual IP {vip}" if vip else "")
    established = IkeSaEstablished(sa.id, sa.remote, progress.peer_id_text,
                                   progress.eap_identity, progress.method_name, vip,
                                   authorization=progress.authorization,
                                   outer_identity=progress.outer_identity)
    return Outcome(payloads + child_payloads, events=[established, *events])


def _text(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
