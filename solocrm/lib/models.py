"""Abstract model bases shared by every app (no tables of their own)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .ids import uuid7


class PublicModel(models.Model):
    """A record with a UUID for URLs and the API (integer keys never leave the database).
    Time-ordered (version 7) so that inserts append to the unique index."""

    uuid = models.UUIDField(_("public id"), default=uuid7, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True
