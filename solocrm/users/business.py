"""The business's settings: loading the effective values (environment > page > default), the
per-process cache and its invalidation, and changing them from the page, API or command line.

Every layer reads them through ``solocrm.lib.business.business_settings()`` (this module
registers ``load`` there when Django starts).

Cache: the stored row is kept in memory per process. Saving it invalidates this process's copy
at once and, once the transaction commits, replaces ``DATA_DIR/settings-version``; every process
compares that file's identity (one ``stat``, no query) on each read and reloads the row when it
changed, so a change applies to the next request in every process without a restart.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import phonenumbers
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from solocrm.lib.business import SMTP_PLAIN, SMTP_SSL, SMTP_STARTTLS, BusinessSettings, drop_held_copy
from solocrm.users import crypto
from solocrm.users.models import AuditLog, BusinessProfile

logger = logging.getLogger(__name__)

# field -> the environment variable that, when set, decides it (the page shows it read-only)
ENVIRONMENT = {
    "business_name": "SOLOCRM_BUSINESS_NAME",
    "business_address": "SOLOCRM_BUSINESS_ADDRESS",
    "currency": "SOLOCRM_CURRENCY",
    "time_zone": "SOLOCRM_TIME_ZONE",
    "phone_region": "SOLOCRM_PHONE_REGION",
    "language": "SOLOCRM_LANGUAGE",
    "smtp_host": "SOLOCRM_SMTP_HOST",
    "smtp_port": "SOLOCRM_SMTP_PORT",
    "smtp_user": "SOLOCRM_SMTP_USER",
    "smtp_password": "SOLOCRM_SMTP_PASSWORD",
    "smtp_security": "SOLOCRM_SMTP_TLS",  # or SOLOCRM_SMTP_SSL
    "from_email": "SOLOCRM_FROM_EMAIL",
}
# Fields the page edits (besides the password and the logo, which have their own rules).
EDITABLE = (
    "business_name", "business_address", "currency", "time_zone", "phone_region", "language",
    "work_days", "work_start", "work_end", "smtp_host", "smtp_port", "smtp_user", "smtp_security",
    "from_email",
)  # fmt: skip
LOGO_TYPES = {"PNG": "png", "JPEG": "jpg"}
MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_PIXELS = 4000


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _truthy(value: str) -> bool:
    return value.lower() in {"1", "true", "yes", "on"}


def _port(value: Any, default: int = 587) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return default
    return port if 0 < port < 65536 else default


def version_path() -> Path:
    return Path(settings.DATA_DIR) / "settings-version"


def _stamp() -> tuple[int, int, int] | None:
    try:
        info = os.stat(version_path())
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


_NOT_LOADED = object()
_cache: tuple[Any, dict[str, Any]] = (_NOT_LOADED, {})


def _stored() -> dict[str, Any]:
    """The saved row's values ({} when none), cached until the version file changes."""
    global _cache
    stamp = _stamp()
    cached_stamp, row = _cache
    if cached_stamp is not _NOT_LOADED and cached_stamp == stamp:
        return row
    try:
        row = BusinessProfile.objects.filter(pk=BusinessProfile.SINGLETON).values().first() or {}
    except DatabaseError:  # before the first migration: the defaults, and try again next time
        return {}
    _cache = (stamp, row)
    return row


def forget() -> None:
    """Drop this process's copy (and this request's): the next read loads the row again."""
    global _cache
    _cache = (_NOT_LOADED, {})
    drop_held_copy()


def assume_nothing_saved() -> None:
    """For tests: behave as if no settings were saved, without a query (each test's database
    starts empty; a test that saves settings makes the next read load them)."""
    global _cache
    _cache = (_stamp(), {})
    drop_held_copy()


def _announce_change() -> None:
    """Tell every process (they compare the version file on each read) that the row changed."""
    path = version_path()
    tmp = path.with_name(f".settings-version-{secrets.token_hex(6)}")
    tmp.write_text(uuid.uuid4().hex)
    os.replace(tmp, path)  # a new file (new inode): its identity changes even within one tick
    forget()


def load() -> BusinessSettings:
    """The effective settings: each field from its environment variable when set, else from
    the page, else the default in settings.py."""
    row = _stored()
    locked: dict[str, str] = {}

    def pick(name: str, default: Any, parse=lambda v: v) -> Any:
        variable = ENVIRONMENT.get(name)
        if variable and (raw := _env(variable)):
            locked[name] = variable
            return parse(raw)
        stored = row.get(name)
        return stored if stored not in (None, "") else default

    language = pick("language", settings.LANGUAGE_CODE, str.lower)
    port = pick("smtp_port", _port(settings.SOLOCRM_SMTP_PORT), _port)
    tls, ssl = _env("SOLOCRM_SMTP_TLS"), _env("SOLOCRM_SMTP_SSL")
    if tls or ssl:
        locked["smtp_security"] = "SOLOCRM_SMTP_SSL" if ssl and not tls else "SOLOCRM_SMTP_TLS"
        security = SMTP_SSL if _truthy(ssl) else SMTP_STARTTLS if _truthy(tls) else SMTP_PLAIN
    else:
        default = SMTP_SSL if port == 465 else SMTP_STARTTLS if port == 587 else SMTP_PLAIN
        security = row.get("smtp_security") or default
    if _env("SOLOCRM_SMTP_PASSWORD"):
        locked["smtp_password"] = "SOLOCRM_SMTP_PASSWORD"  # noqa: S105 (a variable name)
        password = _env("SOLOCRM_SMTP_PASSWORD")
    else:
        password = crypto.decrypt(row.get("smtp_password_encrypted", "")) or settings.SOLOCRM_SMTP_PASSWORD
    time_zone = pick("time_zone", settings.TIME_ZONE)
    if time_zone not in _zones():
        logger.warning("unknown time zone %r; using UTC", time_zone)
        time_zone = "UTC"
    logo = Path(settings.DATA_DIR) / "branding" / row["logo"] if row.get("logo") else None
    days = row.get("work_days")
    return BusinessSettings(
        business_name=pick("business_name", settings.SOLOCRM_BUSINESS_NAME),
        business_address=pick(
            "business_address", settings.SOLOCRM_BUSINESS_ADDRESS, lambda v: v.replace("\\n", "\n")
        ),
        logo=logo if logo and logo.is_file() else None,
        currency=pick("currency", settings.SOLOCRM_CURRENCY, str.upper),
        time_zone=time_zone,
        phone_region=pick("phone_region", settings.SOLOCRM_PHONE_REGION, str.upper),
        language=language,
        language_chosen=bool(row.get("language")) and "language" not in locked,
        work_days=tuple(int(d) for d in days.split(",") if d.strip().isdigit())
        if days is not None
        else (0, 1, 2, 3, 4),
        work_start=row.get("work_start"),
        work_end=row.get("work_end"),
        smtp_host=pick("smtp_host", settings.SOLOCRM_SMTP_HOST),
        smtp_port=port,
        smtp_user=pick("smtp_user", settings.SOLOCRM_SMTP_USER),
        smtp_password=password,
        smtp_security=security,
        from_email=pick("from_email", settings.DEFAULT_FROM_EMAIL),
        locked=locked,
    )


_ZONES: frozenset[str] = frozenset()


def _zones() -> frozenset[str]:
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


# The IANA areas of canonical zone names ("Europe/Paris"); the rest of the database holds
# legacy aliases ("GB-Eire", "Cuba", "localtime") that only clutter the list.
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def time_zone_choices() -> list[str]:
    """The zones offered on the settings page: UTC and the canonical Area/City names."""
    return ["UTC", *sorted(zone for zone in _zones() if zone.split("/", 1)[0] in _AREAS and "/" in zone)]


def region_choices() -> list[str]:
    return sorted(phonenumbers.SUPPORTED_REGIONS)


def stored_values() -> dict[str, Any]:
    """What the page saved (blank: not set there)."""
    return dict(_stored())


def password_is_stored() -> bool:
    return bool(_stored().get("smtp_password_encrypted"))


# --- changing them ----------------------------------------------------------------------------


class LogoError(ValueError):
    pass


def check_logo(data: bytes) -> str:
    """The file extension of a valid logo (PNG or JPEG, at most 1 MB and 4000 px a side);
    LogoError says what is wrong otherwise."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(_("The logo may be at most 1 MB."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise LogoError(_("The logo must be a PNG or JPEG image.")) from None
    if kind not in LOGO_TYPES:
        raise LogoError(_("The logo must be a PNG or JPEG image."))
    if max(size) > MAX_LOGO_PIXELS:
        raise LogoError(_("The logo may be at most 4000 pixels wide and high."))
    return LOGO_TYPES[kind]


def _change(name: str, value: Any) -> str:
    """How a change is written to the audit log (secrets never are)."""
    return "" if value in (None, "") else str(value)[:200]


@transaction.atomic
def update_settings(
    values: dict[str, Any],
    *,
    actor=None,
    password: str | None = None,
    clear_password: bool = False,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> BusinessProfile:
    """Save the page's values (only the keys given; fields set by the environment are left
    alone). ``password``: a new SMTP password (stored encrypted); ``clear_password`` forgets it.
    ``logo``: the bytes of a new logo (checked with ``check_logo``); ``remove_logo`` drops it."""
    profile, _created = BusinessProfile.objects.select_for_update().get_or_create(
        pk=BusinessProfile.SINGLETON
    )
    locked = load().locked
    changes: dict[str, list[str]] = {}
    for name in EDITABLE:
        if name not in values or name in locked:
            continue
        value = values[name]
        if name == "work_days":
            value = ",".join(str(d) for d in sorted({int(d) for d in value}))
        elif value is None and name not in ("work_start", "work_end", "smtp_port"):
            value = ""
        if name in ("currency", "phone_region") and value:
            value = value.upper()
        if getattr(profile, name) != value:
            changes[name] = [_change(name, getattr(profile, name)), _change(name, value)]
            setattr(profile, name, value)
    if "smtp_password" not in locked:
        if clear_password and profile.smtp_password_encrypted:
            profile.smtp_password_encrypted = ""
            changes["smtp_password"] = ["(stored)", "(cleared)"]
        elif password:
            profile.smtp_password_encrypted = crypto.encrypt(password)
            changes["smtp_password"] = ["", "(replaced)"]
    branding = Path(settings.DATA_DIR) / "branding"
    old_logo = profile.logo
    if logo is not None:
        extension = check_logo(logo)
        branding.mkdir(parents=True, exist_ok=True)
        name = f"logo-{secrets.token_hex(8)}.{extension}"
        (branding / name).write_bytes(logo)
        profile.logo = name
        changes["logo"] = [old_logo, name]
    elif remove_logo and old_logo:
        profile.logo = ""
        changes["logo"] = [old_logo, ""]
    profile.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    profile.save()
    if changes:
        AuditLog.record(actor, "settings.update", None, summary=", ".join(changes)[:300], changes=changes)
    if old_logo and old_logo != profile.logo:
        transaction.on_commit(lambda: (branding / old_logo).unlink(missing_ok=True))
    forget()  # this process sees the change at once (also inside this transaction)
    transaction.on_commit(_announce_change)
    return profile
