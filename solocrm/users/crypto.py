"""Secrets stored in the database (the SMTP password) are encrypted with Fernet (AES-128-CBC +
HMAC-SHA256, from `cryptography`). The key is generated once into the data directory
(``DATA_DIR/settings_key``, mode 600), like the secret key in settings.py: a copy of the database
alone does not reveal the password; the data directory's backup must keep the key."""

from __future__ import annotations

import contextlib
import logging
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

logger = logging.getLogger(__name__)


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "settings_key"


@lru_cache(maxsize=4)
def _fernet(path: Path) -> Fernet:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(Fernet.generate_key())
        tmp.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another process wrote one first: use it
            os.link(tmp, path)  # atomic, and never overwrites a key
        tmp.unlink(missing_ok=True)
    return Fernet(path.read_bytes().strip())


def encrypt(secret: str) -> str:
    return _fernet(key_path()).encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    """The secret, or "" when it cannot be read (the key file was replaced): the owner is told
    on the settings page to enter the password again."""
    if not token:
        return ""
    try:
        return _fernet(key_path()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        logger.warning("a stored secret cannot be decrypted with %s; enter it again", key_path())
        return ""
