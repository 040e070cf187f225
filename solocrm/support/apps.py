from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "solocrm.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from solocrm.support.tickets import mail_hooks  # noqa: F401 - tickets from the support mailbox
