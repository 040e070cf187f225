"""Mail accounts and the messages synced from them (see docs/mail.md).

A message is stored once (``MailMessage``, unique by ``message_key``: the normalised Message-ID,
or a hash of its headers when it has none) however many folders and accounts hold it; each place
it was seen is a ``MailMessageCopy`` keyed by (account, folder, UIDVALIDITY, UID)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from solocrm.contacts.models import Contact, Interaction
from solocrm.lib.models import PublicModel
from solocrm.users import crypto


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (local servers only)")


class Direction(models.TextChoices):
    IN = "in", _("Received")
    OUT = "out", _("Sent")


STALE_SENDING = timedelta(minutes=15)  # "sending" for longer: interrupted (mail/outgoing.py)


class SendStatus(models.TextChoices):
    """Where a message written in solocrm stands (synced mail has none: "")."""

    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    OUTBOX = "outbox", _("Saved to the outbox (no mail server)")
    FAILED = "failed", _("Not sent")
    UNKNOWN = "unknown", _("Interrupted while sending")
    CANCELLED = "cancelled", _("Cancelled")


class MailAccount(PublicModel):
    """One mailbox: IMAP to read it, SMTP to send from it. Passwords are stored encrypted."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(_("e-mail address"), max_length=254)
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_user = models.CharField(_("IMAP user"), max_length=255)
    imap_password_encrypted = models.TextField(_("IMAP password (encrypted)"), blank=True, editable=False)
    folders = models.JSONField(
        _("folders to read"),
        default=list,
        blank=True,
        help_text=_("Empty: the inbox and the folder the server marks as Sent."),
    )
    smtp_host = models.CharField(_("SMTP server"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_user = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(_("SMTP password (encrypted)"), blank=True, editable=False)
    is_support = models.BooleanField(
        _("support mailbox"),
        default=False,
        help_text=_("Mail from new senders is kept and they become contacts."),
    )
    create_contacts_from_new_senders = models.BooleanField(
        _("create contacts from new senders"),
        default=False,
        help_text=_("Off: mail from people who are not contacts is never stored."),
    )
    active = models.BooleanField(_("sync"), default=True)
    poll_minutes = models.PositiveSmallIntegerField(_("check every (minutes)"), default=2)
    last_sync_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mail account")
        verbose_name_plural = _("mail accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def imap_password(self) -> str:
        return crypto.decrypt(self.imap_password_encrypted)

    @imap_password.setter
    def imap_password(self, value: str) -> None:
        self.imap_password_encrypted = crypto.encrypt(value)

    @property
    def smtp_password(self) -> str:
        return crypto.decrypt(self.smtp_password_encrypted)

    @smtp_password.setter
    def smtp_password(self, value: str) -> None:
        self.smtp_password_encrypted = crypto.encrypt(value)


class MailFolderState(models.Model):
    """How far one folder of one account has been read. ``last_uid`` advances in the same
    transaction as the messages of a batch, so a crash never skips or repeats one."""

    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="folder_states")
    folder = models.CharField(_("folder"), max_length=255)
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), default=0)
    last_uid = models.BigIntegerField(_("last UID read"), default=0)
    last_sync_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mail folder")
        verbose_name_plural = _("mail folders")
        constraints = [models.UniqueConstraint(fields=["account", "folder"], name="mail_folder_state_unique")]

    def __str__(self) -> str:
        return f"{self.account.name}: {self.folder}"


class MailThread(PublicModel):
    """A conversation: messages joined by In-Reply-To/References, or failing that by the same
    subject between the same people within 30 days."""

    subject = models.CharField(_("subject"), max_length=300, blank=True)
    subject_key = models.CharField(max_length=300, blank=True, editable=False)
    participants_key = models.CharField(max_length=64, blank=True, editable=False)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_threads"
    )
    last_message_at = models.DateTimeField(_("last message"), db_index=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(
                fields=["subject_key", "participants_key", "last_message_at"], name="mail_thread_match"
            )
        ]

    def __str__(self) -> str:
        return self.subject


class MailMessage(PublicModel):
    """One e-mail, stored once whatever the number of folders and accounts that hold it."""

    message_key = models.CharField(max_length=255, unique=True, editable=False)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=998, blank=True)
    references = models.TextField(_("References"), blank=True)
    account = models.ForeignKey(
        MailAccount, null=True, on_delete=models.SET_NULL, related_name="messages", verbose_name=_("account")
    )
    thread = models.ForeignKey(MailThread, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    from_address = models.CharField(_("from"), max_length=254, blank=True, db_index=True)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    to_addresses = models.JSONField(pgettext_lazy("e-mail recipients", "to"), default=list, blank=True)
    cc_addresses = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    date = models.DateTimeField(_("date"), db_index=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML (sanitised)"), blank=True)
    has_remote_images = models.BooleanField(_("has remote images"), default=False)
    auth_failed = models.BooleanField(
        _("failed sender authentication"),
        default=False,
        help_text=_("The receiving server said the sender's domain did not vouch for it (DMARC fail)."),
    )
    size = models.PositiveIntegerField(_("size"), default=0)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_messages"
    )
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Written in solocrm (mail/outgoing.py); synced mail leaves these empty.
    status = models.CharField(_("status"), max_length=10, choices=SendStatus.choices, blank=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_error = models.TextField(_("sending error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_messages"
    )

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["contact", "-date"], name="mail_message_contact_date"),
            models.Index(fields=["thread", "date"], name="mail_message_thread_date"),
            models.Index(fields=["status", "send_at"], name="mail_message_status_send_at"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_key

    @property
    def shown_status(self) -> str:
        """The status to show: "sending" for more than 15 minutes means a crash stopped it (the
        worker's clock marks it so; pages, which only read, say it already)."""
        if self.status == SendStatus.SENDING and self.updated_at < timezone.now() - STALE_SENDING:
            return SendStatus.UNKNOWN
        return self.status

    @property
    def shown_status_label(self) -> str:
        return SendStatus(self.shown_status).label if self.shown_status else ""


class MailMessageCopy(models.Model):
    """Where a message was seen: one row per (account, folder, UIDVALIDITY, UID)."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="copies")
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()

    class Meta:
        verbose_name = _("e-mail location")
        verbose_name_plural = _("e-mail locations")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "folder", "uidvalidity", "uid"], name="mail_copy_location_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.folder} {self.uidvalidity}/{self.uid}"


class MailAttachment(PublicModel):
    """A file attached to a message, stored by its SHA-256 under the attachment folder."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, editable=False)
    inline = models.BooleanField(_("inline"), default=False)

    class Meta:
        verbose_name = _("e-mail attachment")
        verbose_name_plural = _("e-mail attachments")

    def __str__(self) -> str:
        return self.filename


class MailTemplate(PublicModel):
    """A reusable e-mail: subject and Markdown body with merge fields such as
    ``{{ first_name|default:"there" }}`` (see mail/templating.py)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), help_text=_("Markdown; merge fields like {{ first_name }}."))

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MailSignature(models.Model):
    """The signature appended to the e-mail a user writes (Markdown, merge fields allowed)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_signature"
    )
    body = models.TextField(_("signature"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("e-mail signature")
        verbose_name_plural = _("e-mail signatures")

    def __str__(self) -> str:
        return f"signature of {self.user_id}"
