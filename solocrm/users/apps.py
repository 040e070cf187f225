from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "solocrm.users"
    label = "users"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        from solocrm.lib import business as lib_business
        from solocrm.users import business

        # business_settings() in every layer reads the settings this app stores.
        lib_business.register(business.load)
