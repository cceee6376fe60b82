"""Private key files: written owner-only without following links, refused when others can
read them (as OpenSSH refuses an unprotected identity file)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class KeyFileError(ValueError):
    """A private key file others can read (or otherwise unusable); the message says how to
    fix it."""


def write_private_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, also when the file exists with a wider mode;
    a symlink at ``path`` is refused (O_NOFOLLOW), not followed to somewhere else."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot write private key {path}: {exc.strerror}"
                           + (" (a symbolic link)" if Path(path).is_symlink() else "")) from None
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)


def check_private_file(path: str | Path) -> None:
    """Raise KeyFileError when group or others may access the key file."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise KeyFileError(f"private key {path} is accessible by group or others "
                           f"(mode {mode:04o}): run chmod 600 {path}")
