from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "solocrm.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from solocrm.contacts import search  # noqa: F401 - registers contacts and companies in global search

        from . import contact_page  # noqa: F401 - registers the contact page's "last contact" figure
