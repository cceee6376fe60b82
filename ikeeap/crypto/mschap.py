"""MSCHAPv2 (RFC 2759 §8) and MPPE key derivation (RFC 3079 §3.3-3.4).

Passwords are Python strings; the NT hash is MD4 over their UTF-16LE encoding.  Usernames
are the octets the peer presents (any ``DOMAIN\\`` prefix removed by the caller, see
:func:`strip_domain`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, modes

try:  # cryptography >= 43 moved the legacy ciphers to "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES

from ikeeap.crypto.md4 import md4

_MAGIC_AUTH1 = b"Magic server to client signing constant"
_MAGIC_AUTH2 = b"Pad to make it do more than one iteration"
_MAGIC_MASTER = b"This is the MPPE Master Key"
_MAGIC_CLIENT_SEND = (
    b"On the client side, this is the send key; on the server side, it is the receive key."
)
_MAGIC_CLIENT_RECV = (
    b"On the client side, this is the receive key; on the server side, it is the send key."
)
_SHS_PAD1 = b"\x00" * 40
_SHS_PAD2 = b"\xf2" * 40

MSK_LENGTH = 64
SESSION_KEY_LENGTH = 16


# MD4 is pure Python here (OpenSSL 3 dropped it) and dominated an MSCHAPv2 login's CPU; a
# bounded cache per credential equals precomputing the hashes when the user store loads.
_CREDENTIAL_CACHE = 16384


@functools.lru_cache(maxsize=_CREDENTIAL_CACHE)
def nt_password_hash(password: str) -> bytes:
    """NtPasswordHash (RFC 2759 §8.3): MD4 of the UTF-16LE password."""
    return md4(password.encode("utf-16-le", "surrogatepass"))


@functools.lru_cache(maxsize=_CREDENTIAL_CACHE)
def hash_nt_password_hash(password_hash: bytes) -> bytes:
    """HashNtPasswordHash (RFC 2759 §8.4)."""
    return md4(password_hash)


def strip_domain(username: bytes) -> bytes:
    """Drop a ``DOMAIN\\`` prefix: only the user name enters ChallengeHash (RFC 2759 §8.2)."""
    _, sep, user = username.partition(b"\\")
    return user if sep else username


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: bytes) -> bytes:
    """ChallengeHash (RFC 2759 §8.2): first 8 octets of SHA-1(peer ‖ auth ‖ user)."""
    return hashlib.sha1(peer_challenge + authenticator_challenge + username).digest()[:8]


def des_expand_key(key7: bytes) -> bytes:
    """Spread 56 key bits over 8 octets and set odd parity (RFC 2759 §9.3)."""
    if len(key7) != 7:
        raise ValueError("DES key material must be 7 octets")
    bits = int.from_bytes(key7, "big")
    out = bytearray()
    for i in range(8):
        byte = ((bits >> (49 - 7 * i)) & 0x7F) << 1
        parity = byte.bit_count() % 2 == 0
        out.append(byte | int(parity))
    return bytes(out)


@functools.lru_cache(maxsize=_CREDENTIAL_CACHE)  # 3 DES keys per NT hash: per credential
def _des_cipher(key7: bytes) -> Cipher:
    # Key expansion (a Python loop) and the Cipher object depend on the credential only.
    return Cipher(TripleDES(des_expand_key(key7) * 3), modes.ECB())


def des_encrypt(key7: bytes, block: bytes) -> bytes:
    """DesEncrypt (RFC 2759 §8.6): single DES-ECB of one 8-octet block."""
    encryptor = _des_cipher(bytes(key7)).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    """ChallengeResponse (RFC 2759 §8.5): three DES encryptions of the 8-octet challenge."""
    z = password_hash.ljust(21, b"\x00")
    return b"".join(des_encrypt(z[i : i + 7], challenge) for i in (0, 7, 14))


def generate_nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, username: bytes, password_hash: bytes
) -> bytes:
    """GenerateNTResponse (RFC 2759 §8.1), taking the NT hash rather than the password."""
    challenge = challenge_hash(peer_challenge, authenticator_challenge, username)
    return challenge_response(challenge, password_hash)


def authenticator_response_digest(
    password_hash: bytes,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: bytes,
) -> bytes:
    """The 20-octet digest inside GenerateAuthenticatorResponse (RFC 2759 §8.7)."""
    hash_hash = hash_nt_password_hash(password_hash)
    digest = hashlib.sha1(hash_hash + nt_response + _MAGIC_AUTH1).digest()
    challenge = challenge_hash(peer_challenge, authenticator_challenge, username)
    return hashlib.sha1(digest + challenge + _MAGIC_AUTH2).digest()


def generate_authenticator_response(
    password_hash: bytes,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: bytes,
) -> str:
    """GenerateAuthenticatorResponse (RFC 2759 §8.7): ``"S="`` + 40 upper-case hex digits."""
    digest = authenticator_response_digest(
        password_hash, nt_response, peer_challenge, authenticator_challenge, username
    )
    return "S=" + digest.hex().upper()


def check_authenticator_response(
    password_hash: bytes,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: bytes,
    received: str | bytes,
) -> bool:
    """CheckAuthenticatorResponse (RFC 2759 §8.8), constant time, hex case-insensitive."""
    if isinstance(received, bytes):
        try:
            received = received.decode("ascii")
        except UnicodeDecodeError:
            return False
    expected = generate_authenticator_response(
        password_hash, nt_response, peer_challenge, authenticator_challenge, username
    )
    return hmac.compare_digest(expected.encode(), received.upper().encode("ascii", "replace"))


def get_master_key(password_hash_hash: bytes, nt_response: bytes) -> bytes:
    """GetMasterKey (RFC 3079 §3.4): 16 octets."""
    return hashlib.sha1(password_hash_hash + nt_response + _MAGIC_MASTER).digest()[:16]


def get_asymmetric_start_key(
    master_key: bytes, length: int, is_send: bool, is_server: bool
) -> bytes:
    """GetAsymetricStartKey (RFC 3079 §3.4); ``length`` 8 or 16."""
    client_send = is_send != is_server  # client send == server receive (Magic2)
    magic = _MAGIC_CLIENT_SEND if client_send else _MAGIC_CLIENT_RECV
    return hashlib.sha1(master_key + _SHS_PAD1 + magic + _SHS_PAD2).digest()[:length]


def get_new_key_from_sha(start_key: bytes, session_key: bytes, length: int) -> bytes:
    """GetNewKeyFromSHA / Get_Key (RFC 3079 §2.4): the MPPE transient session key."""
    data = start_key[:length] + _SHS_PAD1 + session_key[:length] + _SHS_PAD2
    return hashlib.sha1(data).digest()[:length]


def mppe_master_keys(password_hash: bytes, nt_response: bytes) -> tuple[bytes, bytes]:
    """Server-side (MasterSendKey, MasterReceiveKey), 16 octets each (RFC 3079 §3.3)."""
    master = get_master_key(hash_nt_password_hash(password_hash), nt_response)
    send = get_asymmetric_start_key(master, SESSION_KEY_LENGTH, is_send=True, is_server=True)
    recv = get_asymmetric_start_key(master, SESSION_KEY_LENGTH, is_send=False, is_server=True)
    return send, recv


def eap_mschapv2_msk(password_hash: bytes, nt_response: bytes) -> bytes:
    """EAP-MSCHAPv2 MSK: server MasterReceiveKey ‖ MasterSendKey ‖ 32 zero octets.

    This is what strongSwan (both roles) and hostapd derive; the client's view of the same
    octets is its MasterSendKey ‖ MasterReceiveKey, so both ends agree.
    """
    send, recv = mppe_master_keys(password_hash, nt_response)
    return recv + send + b"\x00" * (MSK_LENGTH - 2 * SESSION_KEY_LENGTH)
