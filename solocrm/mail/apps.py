from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "solocrm.mail"
    label = "mail"
    verbose_name = _("Mail")

    def ready(self) -> None:
        # "E-mail" links of other pages lead to the compose page (lib.email_links, contact page)
        from . import compose_links  # noqa: F401
