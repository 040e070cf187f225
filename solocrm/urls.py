"""Root URL configuration. Every app owns its own urls.py; the API lives under /api/v1/."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from solocrm.api import api_urls
from solocrm.sales.tasks import views as tasks_views

urlpatterns = [
    path("", include("solocrm.web.urls")),
    path("", include("solocrm.users.urls")),
    path("contacts/", include("solocrm.contacts.urls")),
    path("sales/", include("solocrm.sales.urls")),
    path("account/", include("solocrm.sales.tasks.urls_account")),
    # The private calendar feed (a signed token, no log-in: calendar apps cannot log in).
    path("calendar/<str:token>.ics", tasks_views.calendar_feed, name="calendar_feed"),
    path("q/", include("solocrm.sales.quotes.urls_public")),
    path("mail/compose/", include("solocrm.mail.urls_compose")),  # writing e-mail
    path("mail/", include("solocrm.mail.urls")),
    path("support/kb/", include("solocrm.support.kb.urls")),  # the knowledge base (staff)
    path("analytics/", include("solocrm.analytics.urls")),
    path("support/", include("solocrm.support.urls")),
    path("jobs/", include("solocrm.jobs.urls")),
    path("f/", include("solocrm.sales.leadforms.urls_public")),  # public lead forms, no log-in
    path("help/ask/", include("solocrm.support.helpdesk.urls_public")),  # the help form, CSAT page
    path("help/", include("solocrm.support.kb.urls_public")),  # the public help centre, no log-in
    path("i18n/", include("django.conf.urls.i18n")),
    # One log-in page (with its attempt limit) for the admin too.
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
]
