"""First-run set-up: a one-time token, printed in the console by `solocrm serve`, protects the
page that creates the owner account while no user exists."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model


def _token_path() -> Path:
    return Path(settings.DATA_DIR) / "setup_token"


def setup_needed() -> bool:
    return not get_user_model().objects.exists()


def issue_setup_token() -> str:
    """Return the current one-time token, creating it if there is none yet."""
    path = _token_path()
    if path.exists() and (token := path.read_text().strip()):
        return token
    token = secrets.token_urlsafe(16)
    path.write_text(token)
    path.chmod(0o600)
    return token


def check_setup_token(candidate: str) -> bool:
    path = _token_path()
    if not candidate or not path.exists():
        return False
    return hmac.compare_digest(path.read_text().strip(), candidate.strip())


def consume_setup_token() -> None:
    _token_path().unlink(missing_ok=True)
