from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "solocrm.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        # Each part registers itself with the registries below it (one line each).
        import solocrm.support.helpdesk.services  # @on_solved: the CSAT question
        import solocrm.support.kb.search  # articles in global search
        import solocrm.support.tickets.contact_page  # the customer page's tickets
        import solocrm.support.tickets.mail_hooks  # tickets from the support mailbox
        import solocrm.support.tickets.search  # tickets in global search
        import solocrm.support.tickets.today  # noqa: F401 - tickets near or past their SLA
