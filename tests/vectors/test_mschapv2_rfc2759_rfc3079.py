"""RFC 2759 §9.2/§9.3 (MSCHAPv2) and RFC 3079 §3.5 (MPPE keys) vectors, bit for bit."""

import pytest

from ikeeap.crypto import mschap

USER = b"User"
PASSWORD = "clientPass"
AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
CHALLENGE = bytes.fromhex("D02E4386BCE91226")
PASSWORD_HASH = bytes.fromhex("44EBBA8D5312B8D611474411F56989AE")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
PASSWORD_HASH_HASH = bytes.fromhex("41C00C584BD2D91C4017A2A12FA59F3F")
AUTH_RESPONSE = "S=407A5589115FD0D6209F510FE9C04566932CDA56"
MASTER_KEY = bytes.fromhex("FDECE3717A8C838CB388E527AE3CDD31")
SEND_START_KEY_128 = bytes.fromhex("8B7CDC149B993A1BA118CB153F56DCCB")
SEND_SESSION_KEY_128 = bytes.fromhex("405CB2247A7956E6E211007AE27B22D4")


def test_rfc2759_9_2_password_hash() -> None:
    assert mschap.nt_password_hash(PASSWORD) == PASSWORD_HASH


def test_rfc2759_9_2_challenge_hash() -> None:
    assert mschap.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, USER) == CHALLENGE


def test_rfc2759_9_2_nt_response() -> None:
    assert mschap.challenge_response(CHALLENGE, PASSWORD_HASH) == NT_RESPONSE
    got = mschap.generate_nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, USER, PASSWORD_HASH)
    assert got == NT_RESPONSE


def test_rfc2759_9_2_password_hash_hash() -> None:
    assert mschap.hash_nt_password_hash(PASSWORD_HASH) == PASSWORD_HASH_HASH


def test_rfc2759_9_2_authenticator_response() -> None:
    got = mschap.generate_authenticator_response(
        PASSWORD_HASH, NT_RESPONSE, PEER_CHALLENGE, AUTH_CHALLENGE, USER
    )
    assert got == AUTH_RESPONSE


@pytest.mark.parametrize(
    ("received", "ok"),
    [
        (AUTH_RESPONSE, True),
        (AUTH_RESPONSE.lower().replace("s=", "S="), True),
        (AUTH_RESPONSE.encode(), True),
        (AUTH_RESPONSE[:-1] + "7", False),
        ("S=" + "00" * 20, False),
        (b"\xff\xfe", False),
        ("", False),
    ],
)
def test_rfc2759_8_8_check_authenticator_response(received: str | bytes, ok: bool) -> None:
    assert (
        mschap.check_authenticator_response(
            PASSWORD_HASH, NT_RESPONSE, PEER_CHALLENGE, AUTH_CHALLENGE, USER, received
        )
        is ok
    )


def test_rfc2759_9_3_des_key_parity_expansion() -> None:
    """Password "MyPw": the two parity-corrected DES keys of §9.3."""
    pw_hash = mschap.nt_password_hash("MyPw")
    assert pw_hash == bytes.fromhex("FC156AF7EDCD6C0EDDE3337D427F4EAC")
    assert mschap.des_expand_key(pw_hash[:7]) == bytes.fromhex("FD0B5B5E7F6E34D9")
    assert mschap.des_expand_key(pw_hash[7:14]) == bytes.fromhex("0E6E796737EA08FE")


def test_rfc3079_3_5_3_master_key() -> None:
    assert mschap.get_master_key(PASSWORD_HASH_HASH, NT_RESPONSE) == MASTER_KEY


def test_rfc3079_3_5_3_send_start_and_session_key_128() -> None:
    """The sample is the server's send key (GetAsymmetricStartKey(..., TRUE, TRUE), §3.3)."""
    start = mschap.get_asymmetric_start_key(MASTER_KEY, 16, is_send=True, is_server=True)
    assert start == SEND_START_KEY_128
    assert mschap.get_new_key_from_sha(start, start, 16) == SEND_SESSION_KEY_128


def test_rfc3079_3_5_1_and_3_5_2_short_keys() -> None:
    """40- and 56-bit samples: 8-octet start key, first octets then forced (§3.1, §3.2)."""
    start = mschap.get_asymmetric_start_key(MASTER_KEY, 8, is_send=True, is_server=True)
    assert start == bytes.fromhex("8B7CDC149B993A1B")
    session = mschap.get_new_key_from_sha(start, start, 8)
    assert b"\xd1\x26\x9e" + session[3:] == bytes.fromhex("D1269EC49FA62E3E")
    assert b"\xd1" + session[1:] == bytes.fromhex("D15C00C49FA62E3E")


def test_rfc3079_send_and_receive_keys_mirror_between_client_and_server() -> None:
    """Client send key == server receive key and vice versa (Magic2/Magic3, §3.4)."""
    key = mschap.get_asymmetric_start_key
    assert key(MASTER_KEY, 16, True, False) == key(MASTER_KEY, 16, False, True)
    assert key(MASTER_KEY, 16, False, False) == key(MASTER_KEY, 16, True, True)
    assert key(MASTER_KEY, 16, True, True) != key(MASTER_KEY, 16, False, True)


def test_eap_mschapv2_msk_is_server_recv_then_send_then_32_zeros() -> None:
    """MSK layout used by strongSwan's eap_mschapv2.c GenerateMSK and hostapd."""
    msk = mschap.eap_mschapv2_msk(PASSWORD_HASH, NT_RESPONSE)
    recv = mschap.get_asymmetric_start_key(MASTER_KEY, 16, is_send=False, is_server=True)
    assert len(msk) == 64
    assert msk[:16] == recv
    assert msk[16:32] == SEND_START_KEY_128
    assert msk[32:] == b"\x00" * 32


def test_strip_domain_uses_only_the_user_part() -> None:
    assert mschap.strip_domain(b"DOMAIN\\User") == b"User"
    assert mschap.strip_domain(b"User") == b"User"


def test_eap_mschapv2_msk_matches_strongswan_generate_msk_formula() -> None:
    """Recomputed as strongSwan's GenerateMSK does it, with RFC 3079's Magic2/Magic3 text."""
    import hashlib

    magic2 = b"On the client side, this is the send key; on the server side, it is the receive key."
    magic3 = b"On the client side, this is the receive key; on the server side, it is the send key."
    pad1, pad2 = b"\x00" * 40, b"\xf2" * 40
    recv = hashlib.sha1(MASTER_KEY + pad1 + magic2 + pad2).digest()[:16]
    send = hashlib.sha1(MASTER_KEY + pad1 + magic3 + pad2).digest()[:16]
    assert recv == bytes.fromhex("D5F0E9521E3EA9589645E86051C82226")
    assert mschap.eap_mschapv2_msk(PASSWORD_HASH, NT_RESPONSE) == recv + send + b"\x00" * 32
