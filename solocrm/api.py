"""The REST API (django-ninja): OpenAPI at /api/v1/docs and /api/v1/openapi.json.

Every endpoint authenticates with a bearer token (``Authorization: Bearer scrm_…``) or the
browser session, and checks the role through solocrm.users.access."""

from django.contrib.auth.decorators import login_not_required
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from solocrm import __version__
from solocrm.users.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="solocrm API",
    version=f"1 ({__version__})",
    description="Customers, companies, interactions, products, orders and tasks. "
    "Authenticate with `Authorization: Bearer <token>` (create one with `solocrm token create`).",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


def _exempt_from_login_redirect(patterns: list) -> list:
    """The API answers 401 itself; Django's LoginRequiredMiddleware must not redirect it."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _exempt_from_login_redirect(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


def api_urls():
    patterns, app_name, namespace = api.urls
    return _exempt_from_login_redirect(patterns), app_name, namespace
