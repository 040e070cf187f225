"""Send every visitor to the set-up page while no user exists yet."""

from django.contrib.auth import get_user_model
from django.shortcuts import redirect

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
