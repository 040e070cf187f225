"""Log-in and log-out keep Django's plain names ("login", "logout": settings.LOGIN_URL uses
them); everything else lives in the "users" namespace."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from . import views, views_audit

users_patterns = [
    path("settings/audit/", views_audit.audit_log, name="audit_log"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<uuid:public_id>/revoke/", views.revoke_token, name="revoke_token"),
]

urlpatterns = [
    path("accounts/login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    # The language switch must work on the log-in and set-up pages too; Django's own
    # /i18n/setlang/ (same path, later in solocrm/urls.py) is not exempt from the log-in rule.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include((users_patterns, "users"))),
]
