"""CREATE_CHILD_SA as responder (RFC 7296 §1.3, §2.17, §2.18): Child SA rekey with and without
PFS, IKE SA rekey moving the Child SAs, and the refusals a responder owes."""

from __future__ import annotations

import os

import pytest

from ikeeap.crypto.dh import new_dh
from ikeeap.crypto.keys import derive_child_keymat, derive_rekeyed_ike_keys
from ikeeap.ike.hardening import Hardening
from ikeeap.ike.events import ChildSaEstablished, ChildSaRekeyed, IkeSaDeleted, IkeSaRekeyed
from ikeeap.initiator.loopback import Loopback
from ikeeap.initiator.session import InitiatorSa
from ikeeap.wire.constants import (
    DhId,
    EncrId,
    ExchangeType,
    NotifyType,
    PrfId,
    ProtocolId,
    TransformType,
)
from ikeeap.wire.payloads import (
    DeletePayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)

ANY4 = TrafficSelector(7, 0, 0, 65535, bytes(4), b"\xff" * 4)
ESP_GCM = (Transform(TransformType.ENCR, EncrId.AES_GCM_16, 256),
           Transform(TransformType.ESN, 0))


@pytest.fixture
def session(settings, client):
    loop = Loopback(settings)
    result = loop.login(client())
    assert result.established
    loop.events.clear()
    return loop, result.initiator


def _ask(loop, ini, payloads):
    loop.to_responder(ini.send_request(ExchangeType.CREATE_CHILD_SA, payloads, loop.now))
    loop.pump()
    return ini.last_response


def _child_request(ini, spi: bytes, dh: int | None = None, ke_group: int | None = None,
                   rekey: bytes | None = None):
    transforms = ESP_GCM + ((Transform(TransformType.DH, dh),) if dh else ())
    ni = os.urandom(32)
    payloads = [SaPayload((Proposal(1, ProtocolId.ESP, spi, transforms),)), NoncePayload(ni)]
    dh_state = None
    if ke_group:
        dh_state = new_dh(ke_group)
        payloads.append(KePayload(ke_group, dh_state.public))
    payloads += [TsPayload(True, (ANY4,)), TsPayload(False, (ANY4,))]
    if rekey is not None:
        payloads.insert(0, NotifyPayload(NotifyType.REKEY_SA, protocol=ProtocolId.ESP,
                                         spi=rekey))
    return payloads, ni, dh_state


def _find(payloads, kind):
    return next(p for p in payloads if isinstance(p, kind))


@pytest.mark.parametrize("pfs", [False, True])
def test_child_sa_rekey(session, pfs):
    loop, ini = session
    old = ini.result.child
    group = DhId.ECP_256 if pfs else None
    request, ni, dh = _child_request(ini, b"\x11\x22\x33\x44", group, group, rekey=old.spi_in)
    answer = _ask(loop, ini, request)
    nr = _find(answer, NoncePayload).data
    proposal = _find(answer, SaPayload).proposals[0]
    shared = dh.compute(_find(answer, KePayload).data) if pfs else b""
    new_child = next(e for e in loop.events if isinstance(e, ChildSaEstablished))
    rekeyed = next(e for e in loop.events if isinstance(e, ChildSaRekeyed))
    assert (rekeyed.old_spi_out, rekeyed.new_spi_out) == (old.spi_in, b"\x11\x22\x33\x44")
    assert proposal.spi == new_child.spi_in == rekeyed.new_spi_in
    assert any(t.type == TransformType.DH for t in proposal.transforms) is pfs
    expected = derive_child_keymat(ini.sa.suite.prf, ini.sa.keys.sk_d, ni, nr,
                                   len(new_child.keymat), shared)
    assert new_child.keymat == expected


def test_pfs_with_wrong_ke_group_gets_invalid_ke(session):
    loop, ini = session
    request, _, _ = _child_request(ini, b"\x11\x22\x33\x45", DhId.ECP_256, DhId.CURVE25519)
    answer = _ask(loop, ini, request)
    notify = _find(answer, NotifyPayload)
    assert notify.notify_type == NotifyType.INVALID_KE_PAYLOAD
    assert notify.data == DhId.ECP_256.to_bytes(2, "big")


def test_rekey_of_unknown_child_gets_child_sa_not_found(session):
    loop, ini = session
    request, _, _ = _child_request(ini, b"\x11\x22\x33\x46", rekey=b"\xde\xad\xbe\xef")
    notify = _find(_ask(loop, ini, request), NotifyPayload)
    assert notify.notify_type == NotifyType.CHILD_SA_NOT_FOUND
    assert notify.spi == b"\xde\xad\xbe\xef"


def _ike_rekey_request(ini):
    suite = ini.sa.suite
    transforms = (Transform(TransformType.ENCR, suite.encr, suite.encr_key_bits or None),
                  Transform(TransformType.PRF, suite.prf),
                  *((Transform(TransformType.INTEG, suite.integ),) if suite.integ else ()),
                  Transform(TransformType.DH, suite.dh))
    spi_i, ni, dh = os.urandom(8), os.urandom(32), new_dh(suite.dh)
    return ([SaPayload((Proposal(1, ProtocolId.IKE, spi_i, transforms),)), NoncePayload(ni),
             KePayload(suite.dh, dh.public)], spi_i, ni, dh)


def test_ike_sa_rekey_moves_children_and_the_new_sa_works(session):
    loop, ini = session
    responder = loop.responder
    old_id = ini.result.spi_r.hex()
    request, spi_i, ni, dh = _ike_rekey_request(ini)
    answer = _ask(loop, ini, request)
    proposal = _find(answer, SaPayload).proposals[0]
    nr = _find(answer, NoncePayload).data
    rekeyed = next(e for e in loop.events if isinstance(e, IkeSaRekeyed))
    assert rekeyed == IkeSaRekeyed(old_id, proposal.spi.hex())
    suite = ini.sa.suite
    keys = derive_rekeyed_ike_keys(suite, suite.prf, ini.sa.keys.sk_d,
                                   dh.compute(_find(answer, KePayload).data), ni, nr, spi_i,
                                   proposal.spi)
    new = InitiatorSa(suite, keys, spi_i, proposal.spi, ni, nr, b"", b"")
    # The initiator deletes the old SA; the new one keeps the Child SA and virtual IP.
    loop.to_responder(ini.delete(loop.now))
    loop.pump()
    assert any(isinstance(e, IkeSaDeleted) and e.sa_id == old_id for e in loop.events)
    (sa,) = responder.sas()
    assert sa.id == proposal.spi.hex() and len(sa.children) == 1
    assert sa.virtual_ip is not None and str(sa.virtual_ip) == ini.result.virtual_ip
    # Message IDs restart at 0 on the new SA (§2.18): a liveness check is answered.
    (reply,) = responder.receive_datagram(new.seal(ExchangeType.INFORMATIONAL, 0, []),
                                          loop.server, ini.local, loop.now)
    assert new.open(reply.data) == []


def test_second_ike_rekey_on_the_old_sa_is_refused(session):
    loop, ini = session
    _ask(loop, ini, _ike_rekey_request(ini)[0])
    notify = _find(_ask(loop, ini, _ike_rekey_request(ini)[0]), NotifyPayload)
    assert notify.notify_type == NotifyType.TEMPORARY_FAILURE


def test_ike_rekey_with_unacceptable_proposal(session):
    loop, ini = session
    bad = (Transform(TransformType.ENCR, EncrId.AES_CBC, 128),
           Transform(TransformType.PRF, PrfId.HMAC_SHA2_256),
           Transform(TransformType.DH, DhId.MODP_1024))
    request = [SaPayload((Proposal(1, ProtocolId.IKE, os.urandom(8), bad),)),
               NoncePayload(os.urandom(32)), KePayload(DhId.MODP_1024, b"\x01" * 128)]
    assert _find(_ask(loop, ini, request), NotifyPayload).notify_type \
        == NotifyType.NO_PROPOSAL_CHOSEN


def test_missing_nonce_is_invalid_syntax(session):
    loop, ini = session
    request, _, _ = _child_request(ini, b"\x11\x22\x33\x47")
    request = [p for p in request if not isinstance(p, NoncePayload)]
    assert _find(_ask(loop, ini, request), NotifyPayload).notify_type == NotifyType.INVALID_SYNTAX



def _delete_child(loop, ini, spi_out: bytes) -> None:
    loop.to_responder(ini.send_request(ExchangeType.INFORMATIONAL,
                                       [DeletePayload(ProtocolId.ESP, (spi_out,))], loop.now))
    loop.pump()


@pytest.fixture
def limited_session(settings_factory, client):
    loop = Loopback(settings_factory(hardening=Hardening(max_child_sas=3)))
    result = loop.login(client())
    assert result.established and result.initiator.result.child is not None
    loop.events.clear()
    return loop, result.initiator


def test_child_sas_beyond_max_child_sas_get_no_additional_sas(limited_session):
    loop, ini = limited_session  # the IKE_AUTH Child SA is the first of 3
    spis = [bytes([0x21, 0, 0, n]) for n in range(3)]
    answers = [_ask(loop, ini, _child_request(ini, spi)[0]) for spi in spis]
    assert all(any(isinstance(p, SaPayload) for p in a) for a in answers[:2])
    refused = _find(answers[2], NotifyPayload)
    assert refused.notify_type == NotifyType.NO_ADDITIONAL_SAS
    sa = loop.responder.sas()[0]
    assert len(sa.children) == 3 and sa.state.value == "established"  # the IKE SA stays
    _delete_child(loop, ini, sa.children[1].spi_out)  # one deleted: room for one more
    assert any(isinstance(p, SaPayload)
               for p in _ask(loop, ini, _child_request(ini, b"\x21\0\1\0")[0]))


def test_rekey_at_max_child_sas_is_allowed_but_rekeys_cannot_pile_up(limited_session):
    loop, ini = limited_session
    for n in range(2):
        _ask(loop, ini, _child_request(ini, bytes([0x22, 0, 0, n]))[0])
    sa = loop.responder.sas()[0]
    first = sa.children[0]
    answer = _ask(loop, ini, _child_request(ini, b"\x22\0\1\0", rekey=first.spi_out)[0])
    assert any(isinstance(p, SaPayload) for p in answer)  # at the limit, a rekey still works
    assert first.rekeyed and len(sa.children) == 4
    for n in range(2):  # two more rekeys whose old SAs are never deleted: 6 = 2 x 3
        target = sa.children[n + 1]
        _ask(loop, ini, _child_request(ini, bytes([0x22, 0, 2, n]), rekey=target.spi_out)[0])
    assert len(sa.children) == 6
    last = sa.children[-1]
    refused = _find(_ask(loop, ini, _child_request(ini, b"\x22\0\3\0", rekey=last.spi_out)[0]),
                    NotifyPayload)
    assert refused.notify_type == NotifyType.NO_ADDITIONAL_SAS
