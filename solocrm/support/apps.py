from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "solocrm.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        # Registers the knowledge base's articles with global search.
        from solocrm.support.kb import search  # noqa: F401
