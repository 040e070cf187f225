"""The business's settings — name, address, logo, currency, time zone, phone region, language,
working hours and mail server — as every layer reads them: ``business_settings()``.

The owner edits them on the settings page (/settings/); they are stored in the database by
solocrm.users (models.BusinessProfile, services in users/business.py), which registers the
loader here when Django starts (lib cannot import the layers above it). An environment variable,
when set, wins over the page (``BusinessSettings.locked`` names the field's variable).

``mail_goes_to_outbox()`` is the one answer to "will an e-mail sent now reach anybody?": every
sender that tells the user "sent" asks it first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

# The backend solocrm installs (settings.EMAIL_BACKEND): SMTP or the outbox folder, decided at
# send time from the effective settings.
DISPATCHING_BACKEND = "solocrm.users.mail.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

SMTP_STARTTLS, SMTP_SSL, SMTP_PLAIN = "starttls", "ssl", "none"


@dataclass(frozen=True)
class BusinessSettings:
    """The effective values: the environment's, else the page's, else the defaults."""

    business_name: str = ""
    business_address: str = ""
    logo: Path | None = None  # an uploaded PNG or JPEG in the data directory
    currency: str = "USD"
    time_zone: str = "UTC"
    phone_region: str = "US"
    language: str = "en"
    language_chosen: bool = False  # set on the page or by SOLOCRM_LANGUAGE (else the browser's)
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    work_start: time | None = None
    work_end: time | None = None
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)  # never logged
    smtp_security: str = SMTP_STARTTLS
    from_email: str = "solocrm@localhost"
    # field name -> the environment variable that sets it (shown read-only on the page)
    locked: dict[str, str] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """The name quotes and e-mails carry."""
        return self.business_name or "solocrm"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)


_loader: Callable[[], BusinessSettings] | None = None
# One copy per request (or job), set by the middleware: the many reads of a page cost nothing.
_this_request: ContextVar[BusinessSettings | None] = ContextVar("business_settings", default=None)


def register(loader: Callable[[], BusinessSettings]) -> None:
    """Called once by solocrm.users when Django starts."""
    global _loader
    _loader = loader


def business_settings() -> BusinessSettings:
    """The effective settings, cached per process and reloaded after any change (also one made
    by another process), so a change on the page applies from the next request on."""
    if (held := _this_request.get()) is not None:
        return held
    if _loader is None:
        raise ImproperlyConfigured("solocrm.users is not installed: no business settings")
    return _loader()


@contextmanager
def held_for_this_request() -> Iterator[BusinessSettings]:
    """Load the settings once and use that copy until the block ends (a request, a job)."""
    token = _this_request.set(None)
    _this_request.set(business_settings())
    try:
        yield business_settings()
    finally:
        _this_request.reset(token)


def drop_held_copy() -> None:
    """After a change: the rest of this request reads the new values."""
    _this_request.set(None)


def mail_goes_to_outbox() -> bool:
    """True when an e-mail sent now is only written to the outbox folder (no mail server is
    set up): messages must then say "saved to the outbox", not "sent"."""
    backend = settings.EMAIL_BACKEND
    if backend == FILE_BACKEND:
        return True
    return backend == DISPATCHING_BACKEND and not business_settings().mail_configured


def outbox_message(what: str, **values: Any) -> SafeString:
    """The toast for an e-mail that went to the outbox: "<what> saved to the outbox — no mail
    server is set up. Set up e-mail" with a link to the settings page (``what`` is a translated
    "%(...)s" pattern, e.g. _("Quote %(number)s"); everything is escaped)."""
    text = _("%(what)s saved to the outbox — no mail server is set up.") % {"what": what % values}
    return format_html('{} <a href="{}">{}</a>', text, reverse("web:settings") + "#mail", _("Set up e-mail"))
