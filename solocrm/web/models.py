"""What the Today page remembers: items the owner put aside for a while."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TodaySnooze(models.Model):
    """An item of the Today list (by its key, e.g. "deal:<uuid>") hidden for one user until a time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    until = models.DateTimeField(_("hidden until"))

    class Meta:
        verbose_name = _("snoozed Today item")
        verbose_name_plural = _("snoozed Today items")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="today_snooze_unique")]

    def __str__(self) -> str:
        return f"{self.key} until {self.until:%Y-%m-%d %H:%M}"

    @classmethod
    def hidden_keys(cls, user, now: datetime) -> set[str]:
        if not getattr(user, "is_authenticated", False):
            return set()
        return set(cls.objects.filter(user=user, until__gt=now).values_list("key", flat=True))

    @classmethod
    def hide(cls, user, key: str, until: datetime) -> TodaySnooze:
        snooze, _created = cls.objects.update_or_create(user=user, key=key[:80], defaults={"until": until})
        return snooze
