"""Workflows on users' API tokens, shared by the API and the `solocrm token` command; each
writes the audit log."""

from __future__ import annotations

from django.db import transaction

from .models import ApiToken, AuditLog


@transaction.atomic
def create_token(user, name: str, actor=None) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the row and the raw token, which is never stored
    and so can be shown only now."""
    token, raw = ApiToken.issue(user, name)
    AuditLog.record(actor, "token.create", token, summary=f"{token} for {user.get_username()}")
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, actor=None) -> ApiToken:
    """Revoke ``token`` (it stops working at once); revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoke()
        AuditLog.record(actor, "token.revoke", token, summary=f"{token} of {token.user.get_username()}")
    return token
