from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "solocrm.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        # The help desk's @on_solved listener (the CSAT question) registers on import.
        from solocrm.support.helpdesk import services  # noqa: F401
        from solocrm.support.tickets import mail_hooks  # noqa: F401 - tickets from the support mailbox
