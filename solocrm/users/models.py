"""API tokens and the audit log. Users are Django's own; roles are groups (see access.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "scrm_"  # noqa: S105 (a prefix, not a secret)


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 is enough (no slow KDF needed)
    # and lets us look a token up by its hash in one indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 hash is stored; the token is shown once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple[ApiToken, str]:
        """Create a token for ``user``; returns the row and the raw token (shown only now)."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name[:100], key_hash=hash_token(raw), hint=raw[:10])
        return token, raw

    @classmethod
    def authenticate(cls, raw: str):
        """Return the active user owning ``raw``, or None."""
        if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
            return None
        token = cls.objects.active().select_related("user").filter(key_hash=hash_token(raw)).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class AuditLog(models.Model):
    """Who changed what, written by the functions that change things (never by signals).

    The entries form a hash chain: each carries the SHA-256 of its own fields and of the entry
    before it (``prev_hash``), so changing or deleting a row breaks the chain where it was and
    ``solocrm audit verify`` names it (solocrm/users/audit.py). Entries are only ever added, one
    writer at a time (a lock on PostgreSQL, the write lock on SQLite)."""

    at = models.DateTimeField(db_index=True, default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's name when the entry was written: the entry still says who after the user goes.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}"

    @classmethod
    def record(cls, actor, action: str, obj=None, summary: str = "", changes: dict | None = None):
        from . import audit

        user = actor if getattr(actor, "is_authenticated", False) else None
        entry = cls(
            actor=user,
            actor_name=user.get_username() if user else "",
            action=action,
            object_type=obj._meta.model_name if obj is not None else "",
            object_uuid=getattr(obj, "uuid", None),
            summary=summary[:300],
            changes=changes or {},
        )
        return audit.append(entry)


class Preferences(models.Model):
    """A user's own settings: the daily digest and the private calendar feed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    # Local hour (owner's time zone) of the daily digest e-mail; null: no digest.
    digest_hour = models.PositiveSmallIntegerField(
        _("daily digest at (hour)"), null=True, blank=True, default=7
    )
    last_digest_on = models.DateField(null=True, blank=True, editable=False)
    # Part of the signed calendar-feed token; bumping it revokes every feed URL given out so far.
    calendar_key = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    @classmethod
    def of(cls, user) -> Preferences:
        return cls.objects.get_or_create(user=user)[0]


class BusinessProfile(models.Model):
    """The business's settings as the owner set them on the settings page: one row (pk 1).

    Blank means "not set here": the environment variable or the default applies (see
    solocrm.lib.business). Read them through ``business_settings()``, never from this model.
    The SMTP password is stored encrypted (users/crypto.py) and never shown back."""

    SINGLETON = 1

    class Security(models.TextChoices):
        STARTTLS = "starttls", _("STARTTLS (usually port 587)")
        SSL = "ssl", _("SSL/TLS (usually port 465)")
        NONE = "none", _("None (unencrypted)")

    business_name = models.CharField(_("business name"), max_length=200, blank=True)
    business_address = models.TextField(_("address"), max_length=1000, blank=True)
    logo = models.CharField(_("logo"), max_length=100, blank=True, editable=False)  # file in DATA_DIR
    currency = models.CharField(_("default currency"), max_length=3, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    phone_region = models.CharField(_("phone region"), max_length=2, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    work_days = models.CharField(_("working days"), max_length=13, blank=True, default="0,1,2,3,4")
    work_start = models.TimeField(_("working hours start"), null=True, blank=True)
    work_end = models.TimeField(_("working hours end"), null=True, blank=True)
    smtp_host = models.CharField(_("SMTP server"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    smtp_user = models.CharField(_("user name"), max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)
    smtp_security = models.CharField(_("encryption"), max_length=10, choices=Security.choices, blank=True)
    from_email = models.EmailField(_("from address"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("business settings")
        verbose_name_plural = _("business settings")

    def __str__(self) -> str:
        return self.business_name or "solocrm"
