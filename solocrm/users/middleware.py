"""Send every visitor to the set-up page while no user exists yet."""

from django.contrib.auth import get_user_model
from django.shortcuts import redirect

FIRST_RUN_EXEMPT_PREFIXES = ("/setup/", "/static/", "/api/", "/i18n/")


class FirstRunMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.has_users = False  # once true, stays true: no query per request after set-up

    def __call__(self, request):
        if not self.has_users and not request.path.startswith(FIRST_RUN_EXEMPT_PREFIXES):
            self.has_users = get_user_model().objects.exists()
            if not self.has_users:
                return redirect("users:setup")
        return self.get_response(request)
