"""The e-mail backend solocrm installs (settings.EMAIL_BACKEND): SMTP through the server the
effective settings name — read when a message is sent, so a server saved on the settings page is
used by the next e-mail without a restart — or, with no server, the outbox folder
(``DATA_DIR/outbox``) so that nothing is lost. ``send_test_email`` is the page's test button."""

from __future__ import annotations

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils.translation import gettext as _

from solocrm.lib.business import SMTP_SSL, SMTP_STARTTLS, BusinessSettings, business_settings


def connection_for(config: BusinessSettings, *, fail_silently: bool = False) -> BaseEmailBackend:
    """The real backend for ``config``: SMTP when a server is set, else the outbox folder."""
    if not config.smtp_host:
        return FileBackend(file_path=str(settings.EMAIL_FILE_PATH), fail_silently=fail_silently)
    return SMTPBackend(
        host=config.smtp_host,
        port=config.smtp_port,
        username=config.smtp_user,
        password=config.smtp_password,
        use_tls=config.smtp_security == SMTP_STARTTLS,
        use_ssl=config.smtp_security == SMTP_SSL,
        timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30,
        fail_silently=fail_silently,
    )


class EmailBackend(BaseEmailBackend):
    """Chooses SMTP or the outbox for each connection from the effective settings, and sends
    from the business's address (and name) when a message names no sender of its own."""

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently)
        self._backend: BaseEmailBackend | None = None
        self._config: BusinessSettings | None = None

    def _real(self) -> BaseEmailBackend:
        if self._backend is None:
            self._config = business_settings()
            self._backend = connection_for(self._config, fail_silently=self.fail_silently)
        return self._backend

    def open(self):
        return self._real().open()

    def close(self) -> None:
        if self._backend is not None:
            try:
                self._backend.close()
            finally:
                self._backend = None  # the next connection reads the settings again

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        was_open = self._backend is not None
        backend = self._real()
        config = self._config
        for message in email_messages:
            if message.from_email in (None, "", settings.DEFAULT_FROM_EMAIL):
                message.from_email = (
                    formataddr((config.business_name, config.from_email))
                    if config.business_name
                    else config.from_email
                )
        try:
            return backend.send_messages(email_messages)
        finally:
            if not was_open:
                self._backend = None


def send_test_email(to: str) -> None:
    """Send a short test message to ``to`` through the effective settings; raises OSError (and
    smtplib's errors, which are OSError) when the server refuses or cannot be reached."""
    config = business_settings()
    subject = _("Test e-mail from %(business)s") % {"business": config.display_name}
    if config.smtp_host:
        body = _("solocrm reached your mail server %(host)s:%(port)s. E-mail works.") % {
            "host": config.smtp_host,
            "port": config.smtp_port,
        }
    else:
        body = _("No mail server is set up: this message was saved to the outbox folder.")
    EmailMessage(subject, body, None, [to]).send(fail_silently=False)
