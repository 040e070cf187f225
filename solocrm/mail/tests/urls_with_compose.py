"""The project's URLs plus a stand-in ``mail:compose`` (the sending feature's page), to test the
Reply and Forward links before that page exists."""

from django.http import HttpResponse
from django.urls import include, path

from solocrm import urls as project_urls
from solocrm.mail import urls as mail_urls


def _compose(request):
    return HttpResponse("compose")


urlpatterns = [
    path("mail/", include(([*mail_urls.urlpatterns, path("compose/", _compose, name="compose")], "mail"))),
    *[p for p in project_urls.urlpatterns if getattr(p, "app_name", None) != "mail"],
]
