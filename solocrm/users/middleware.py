"""Send every visitor to the set-up page while no user exists yet; apply the business settings."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant

from solocrm.lib.business import held_for_this_request

FIRST_RUN_EXEMPT_PREFIXES = ("/setup/", "/static/", "/api/", "/i18n/")
# Once a user exists it stays true for the life of the process: no query per request after
# set-up. Module-level (not per middleware instance) so that tests can start over.
_users_exist = False


def forget_that_users_exist() -> None:
    """For tests, whose databases start empty again while the server process lives on."""
    global _users_exist
    _users_exist = False


class FirstRunMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        global _users_exist
        if not _users_exist and not request.path.startswith(FIRST_RUN_EXEMPT_PREFIXES):
            _users_exist = get_user_model().objects.exists()
            if not _users_exist:
                return redirect("web:setup")
        return self.get_response(request)


class BusinessSettingsMiddleware:
    """Activate the business's time zone (and, when the owner chose one on the settings page,
    its language for users who picked none in the menu) for this request: a change on the page
    shows from the next request on, without a restart."""

    def __init__(self, get_response):
        self.get_response = get_response

    # Nothing there shows a time or a translated text, and the spec must load without a database
    # (the API fuzz test reads it while collecting).
    EXEMPT = ("/api/v1/openapi.json", "/api/v1/docs")

    def __call__(self, request):
        if request.path.startswith(self.EXEMPT):
            return self.get_response(request)
        with held_for_this_request() as config:
            return self._respond(request, config)

    def _respond(self, request, config):
        timezone.activate(config.zone)
        if config.language_chosen and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            try:
                language = get_supported_language_variant(config.language)
            except LookupError:
                language = None
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
