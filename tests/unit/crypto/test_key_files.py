"""Private key files: owner-only when written, not through a symlink, refused when others
can read them."""

from __future__ import annotations

import os
import stat

import pytest

from ikeeap.crypto import certs
from ikeeap.crypto.key_files import KeyFileError, check_private_file, write_private_file


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_existing_wider_file_is_narrowed_to_0600(tmp_path):
    path = tmp_path / "server.key"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_private_file(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o600


def test_a_symlink_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"untouched")
    link = tmp_path / "server.key"
    link.symlink_to(target)
    with pytest.raises(KeyFileError, match="symbolic link"):
        write_private_file(link, b"secret")
    assert target.read_bytes() == b"untouched"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_others_can_read_is_refused(tmp_path, mode):
    ca = certs.generate_ca("t", "ecdsa")
    path = tmp_path / "ca.key"
    write_private_file(path, certs.key_pem(ca.key))
    check_private_file(path)  # 0600: fine
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=f"mode {mode:04o}.*chmod 600"):
        certs.load_private_key(path)


def test_generated_keys_are_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        ca = certs.generate_ca("t", "ecdsa")
        certs.save_pem(ca, tmp_path / "ca.pem", tmp_path / "ca.key")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "ca.key") == 0o600
