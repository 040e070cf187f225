"""The REST API (django-ninja), version 1: OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every endpoint authenticates with a bearer token (``Authorization: Bearer scrm_…``) or the
browser session, and checks the role through solocrm.lib.access: the HTTP method says what a
request wants (GET view, POST/PUT/PATCH edit, DELETE delete), and the check runs before the body
is read, so a viewer gets 403 rather than a validation error. Errors are JSON ``{"detail": …}``.
"""

import logging
import uuid
from datetime import date, datetime, time

import pydantic
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status
from ninja.security import HttpBearer, SessionAuth

from solocrm import __version__
from solocrm.analytics.api import router as analytics_router
from solocrm.contacts.api import router as contacts_router
from solocrm.contacts.services import Conflict
from solocrm.lib import access
from solocrm.lib.api import Pagination, RequiredText, WriteSchema, needs, responses
from solocrm.lib.business import business_settings
from solocrm.lib.roles import Action
from solocrm.users import audit
from solocrm.users import services as user_services
from solocrm.users.forms import settings_form_for
from solocrm.users.models import ApiToken, AuditLog

logger = logging.getLogger(__name__)

METHOD_ACTIONS = {
    "GET": Action.VIEW,
    "HEAD": Action.VIEW,
    "OPTIONS": Action.VIEW,
    "POST": Action.EDIT,
    "PUT": Action.EDIT,
    "PATCH": Action.EDIT,
    "DELETE": Action.DELETE,
}


def _check_role(request: HttpRequest, user, by_method: bool) -> None:
    """Raise PermissionDenied (403) unless the user's role allows what the request wants."""
    action = METHOD_ACTIONS.get(request.method or "", Action.ADMIN) if by_method else Action.VIEW
    access.require(user, action)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer scrm_…``; the token acts as its user, with that user's role."""

    def __init__(self, by_method: bool = True) -> None:
        super().__init__()
        self.by_method = by_method

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.authenticate(token)
        if user is None:
            return None
        request.user = user
        _check_role(request, user, self.by_method)
        return user


class RoleSessionAuth(SessionAuth):
    """The browser session (for the docs page and the web UI's own calls), CSRF-checked."""

    def __init__(self, by_method: bool = True) -> None:
        super().__init__(csrf=True)
        self.by_method = by_method

    def __call__(self, request: HttpRequest):
        # Without a session there is nothing to protect from CSRF: answer 401, not a CSRF 403.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is not None:
            _check_role(request, user, self.by_method)
        return user


def _signed_in_only(view):
    """The spec and the docs page are for people who may use the API: a session with a role, or
    a bearer token (tools that fetch the spec send one). A stranger gets 401 for the spec and
    the log-in page for the docs: the spec lists every endpoint and field."""

    def guarded(request: HttpRequest, *args, **kwargs):
        if access.role_of(request.user) is None and access.role_of(_bearer_user(request)) is None:
            if request.path.endswith(".json"):
                return HttpResponse('{"detail": "Unauthorized"}', status=401, content_type="application/json")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


def _bearer_user(request: HttpRequest):
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return ApiToken.authenticate(token.strip()) if scheme.lower() == "bearer" and token else None


api = NinjaAPI(
    title="solocrm API",
    version=f"1 ({__version__})",
    description="Customers, companies, interactions, products, orders, tasks and imports. "
    "Authenticate with `Authorization: Bearer <token>` (create one with `solocrm token create`). "
    "See docs/api.md.",
    auth=[TokenAuth(), RoleSessionAuth()],
    urls_namespace="api",
    docs_decorator=_signed_in_only,
)

# --- errors: always JSON {"detail": …}, never a 500 for bad input -----------------------------


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": _("Your role does not allow this.")}, status=403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A model's full_clean() refused a value: name the field like pydantic does."""
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    detail = [
        {"loc": ["body", "payload"] + ([] if field == "__all__" else [field]), "msg": msg, "type": "invalid"}
        for field, messages in fields.items()
        for msg in messages
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ValueError)
def _bad_value(request: HttpRequest, exc: ValueError) -> HttpResponse:
    """A service refused a value (normalize_* and the services raise ValueError with a reason)."""
    if isinstance(exc, pydantic.ValidationError):
        # A pydantic error reaching here is an answer that does not fit its own schema (request
        # errors arrive as ninja's ValidationError): our bug, so a 500 and a logged traceback.
        raise exc
    logger.info("API request refused: %s", exc)
    detail = [{"loc": ["body", "payload"], "msg": str(exc), "type": "value_error"}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IntegrityError)
def _conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A Conflict carries a message for people; the database's own says only which constraint.
    message = str(exc) if isinstance(exc, Conflict) else _("This conflicts with an existing record.")
    return api.create_response(request, {"detail": message}, status=409)


# --- tokens: any role manages its own, the owner everybody's -------------------------------

tokens_router = Router(tags=["tokens"], auth=[TokenAuth(by_method=False), RoleSessionAuth(by_method=False)])


class TokenOut(Schema):
    uuid: uuid.UUID
    name: str
    hint: str = Field(description="The first characters of the token, to recognise it")
    user: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_user(obj: ApiToken) -> str:
        return obj.user.get_username()


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown only in this answer, keep it safe")


class TokenIn(WriteSchema):
    name: RequiredText(100)
    user: RequiredText(150) | None = Field(
        None, description="Username of the token's user (owner only; default: yourself)"
    )


def _visible_tokens(user):
    """The owner sees every token; anybody else only their own."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if access.can(user, Action.ADMIN) else tokens.filter(user=user)


@tokens_router.get("/tokens", response=responses({200: list[TokenOut]}))
@paginate(Pagination)
def list_tokens(request: HttpRequest):
    """Your tokens (the owner: everybody's), newest first, revoked ones included."""
    return _visible_tokens(request.user)


def _token_user(request: HttpRequest, username: str | None):
    if username is None or username == request.user.get_username():
        return request.user
    access.require(request.user, Action.ADMIN)
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise HttpError(422, _("There is no active user “%(username)s”.") % {"username": username})
    return user


@tokens_router.post("/tokens", response=responses({201: TokenCreated}))
def create_token(request: HttpRequest, payload: TokenIn):
    """Create a token. Its value is in this answer only: only a hash of it is stored."""
    user = _token_user(request, payload.user)
    token, raw = user_services.create_token(user, payload.name, actor=request.user)
    token.token = raw
    return Status(201, token)


@tokens_router.delete("/tokens/{uuid}", response=responses({204: None}))
def revoke_token(request: HttpRequest, uuid: str):
    """Revoke a token: it stops working at once. The record stays, marked revoked."""
    token = access.get_for(request.user, _visible_tokens(request.user), uuid)
    user_services.revoke_token(token, actor=request.user)
    return Status(204, None)


# --- the business settings (the settings page): owner only, secrets write-only ----------------

settings_router = Router(
    tags=["settings"], auth=[TokenAuth(by_method=False), RoleSessionAuth(by_method=False)]
)


class SettingsOut(Schema):
    business_name: str
    business_address: str
    has_logo: bool = Field(description="A logo is uploaded (set it on the settings page or the command line)")
    currency: str
    time_zone: str
    phone_region: str
    language: str
    work_days: list[int] = Field(description="Working days, Monday = 0")
    work_start: time | None
    work_end: time | None
    smtp_host: str = Field(description="Blank: e-mails are saved to the outbox folder")
    smtp_port: int
    smtp_security: str = Field(description="starttls, ssl or none")
    smtp_user: str
    password_stored: bool = Field(description="An SMTP password is set (it is never returned)")
    from_email: str
    mail_configured: bool
    locked: dict[str, str] = Field(
        description="Fields set by an environment variable (which wins): name -> variable"
    )


class SettingsIn(WriteSchema):
    business_name: str | None = Field(None, max_length=200)
    business_address: str | None = Field(None, max_length=1000)
    currency: str | None = Field(None, max_length=10)
    time_zone: str | None = Field(None, max_length=64)
    phone_region: str | None = Field(None, max_length=10)
    language: str | None = Field(None, max_length=10, description="en, zh-hans; blank: the browser's")
    work_days: list[int] | None = Field(None, max_length=7)
    work_start: time | None = None
    work_end: time | None = None
    smtp_host: str | None = Field(None, max_length=255)
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_security: str | None = Field(None, max_length=10)
    smtp_user: str | None = Field(None, max_length=255)
    smtp_password: str | None = Field(None, max_length=500, description="Write-only; blank: forget it")
    from_email: str | None = Field(None, max_length=254)
    remove_logo: bool | None = None


def _settings_out() -> dict:
    config = business_settings()
    values = {name: getattr(config, name) for name in SettingsOut.model_fields if hasattr(config, name)}
    values.update(
        work_days=list(config.work_days),
        has_logo=config.logo is not None,
        password_stored=bool(config.smtp_password),
        mail_configured=config.mail_configured,
        locked=dict(config.locked),
    )
    return values


@settings_router.get("/settings", response=responses({200: SettingsOut}))
@needs(Action.ADMIN)
def get_settings(request: HttpRequest):
    """The effective business settings (owner only). The SMTP password is never returned."""
    access.require(request.user, Action.ADMIN)
    return _settings_out()


@settings_router.patch("/settings", response=responses({200: SettingsOut}))
@needs(Action.ADMIN)
def patch_settings(request: HttpRequest, payload: SettingsIn):
    """Change some settings (owner only), validated like the settings page. A field set by an
    environment variable cannot change here (422 naming the variable)."""
    access.require(request.user, Action.ADMIN)
    changes = payload.model_dump(exclude_unset=True)
    locked = business_settings().locked
    if fixed := sorted(set(changes) & set(locked)):
        raise HttpError(422, _("Set by %(variable)s.") % {"variable": locked[fixed[0]]} + f" ({fixed[0]})")
    if "smtp_password" in changes and not changes["smtp_password"]:
        changes.pop("smtp_password")
        changes["clear_password"] = True
    form = settings_form_for(
        {k: v for k, v in changes.items() if v is not None or k in ("work_start", "work_end")}
    )
    if not form.is_valid():
        raise HttpError(422, "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    form.save(request.user, only=set(changes))
    return _settings_out()


# --- the audit log (owner) ---------------------------------------------------------------------

audit_router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: datetime
    user: str = Field(validation_alias="actor_name")
    action: str
    object_type: str
    object_uuid: uuid.UUID | None
    summary: str
    entry_hash: str


@audit_router.get("/audit", response=responses({200: list[AuditEntryOut]}))
@needs(Action.ADMIN)
@paginate(Pagination)
def list_audit(
    request: HttpRequest,
    user: str = "",
    action: str = "",
    object_type: str = "",
    since: date | None = None,
    until: date | None = None,
):
    """The audit log, newest first (owner only): filter by user name, action, object type and
    days; each entry carries the hash that chains it to the one before (`solocrm audit verify`)."""
    access.require(request.user, Action.ADMIN)
    chosen = audit.AuditFilter(user=user, action=action, object_type=object_type, since=since, until=until)
    return chosen.apply(AuditLog.objects.all())


api.add_router("/", contacts_router)
api.add_router("/", "solocrm.sales.orders.api.router")  # products and orders
api.add_router("/", "solocrm.sales.tasks.api.router")  # tasks, activities, the calendar feed URL
api.add_router("/", "solocrm.sales.leadforms.api.router")  # lead forms and leads
api.add_router("/", "solocrm.sales.quotes.api.router")  # quotes and attachments
api.add_router("/", "solocrm.sales.deals.api.router")  # pipelines, stages, deals, forecast
api.add_router("/", "solocrm.mail.api.router")  # synced e-mail
api.add_router("/", "solocrm.support.tickets.api.router")  # support tickets
api.add_router("/", "solocrm.support.helpdesk.api.router")  # support reports
api.add_router("/", "solocrm.support.kb.api.router")  # knowledge-base articles and categories
api.add_router("/", tokens_router)
api.add_router("/", audit_router)
api.add_router("/", settings_router)
api.add_router("/", analytics_router)
api.add_router("/", "solocrm.jobs.api.router")  # background jobs
api.add_router("/", "solocrm.web.api.router")  # global search


class _ActionAuth:
    """One of the API's log-ins, then the role check an endpoint marked with ``lib.api.needs``
    asks for: in ninja, log-in runs before the body is read, the view's own checks after."""

    def __init__(self, inner, action: str) -> None:
        self.inner = inner
        self.action = action

    def __call__(self, request: HttpRequest):
        user = self.inner(request)
        if user:
            access.require(user, self.action)
        return user

    def __getattr__(self, name: str):  # the OpenAPI generator reads the scheme's attributes
        return getattr(self.inner, name)


def enforce_marked_roles(ninja_api: NinjaAPI) -> int:
    """Wrap the log-in of every endpoint marked with ``needs(action)``; how many were marked."""
    marked = 0
    # The operations that answer are the bound routers' copies, made when the URLs are built.
    for router in ninja_api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                action = getattr(operation.view_func, "solocrm_action", None)
                if not action:
                    continue
                marked += 1
                if not any(isinstance(cb, _ActionAuth) for cb in operation.auth_callbacks):
                    operation.auth_callbacks = [_ActionAuth(cb, action) for cb in operation.auth_callbacks]
    return marked


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
    enforce_marked_roles(api)
    return _exempt_from_login_redirect(patterns), app_name, namespace
