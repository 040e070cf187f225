"""Log-in and log-out pages; the anonymous stranger meets nothing but the log-in page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.mark.parametrize(
    "path", ["/", "/contacts/", "/contacts/companies/", "/sales/tasks/", "/contacts/import/"]
)
def test_the_stranger_is_sent_to_the_login_page(client, owner, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


def test_login_url_name_matches_the_settings(settings):
    assert reverse(settings.LOGIN_URL) == LOGIN
    assert reverse("logout") == "/accounts/logout/"


def test_the_right_password_logs_in_and_follows_next(client, owner):
    response = client.post(LOGIN, {"username": "olivia", "password": "correct-horse-9", "next": "/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"


def test_without_next_it_goes_home(client, owner):
    response = client.post(LOGIN, {"username": "olivia", "password": "correct-horse-9"})
    assert response["Location"] == reverse("web:home")


def test_a_wrong_password_shows_an_error_and_logs_nobody_in(client, owner):
    response = client.post(LOGIN, {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_next_pointing_elsewhere_is_ignored(client, owner):
    response = client.post(
        LOGIN, {"username": "olivia", "password": "correct-horse-9", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("web:home")


def test_the_login_page_escapes_next(client, owner):
    page = client.get(LOGIN + '?next="><script>alert(1)</script>').content.decode()
    assert "<script>alert(1)</script>" not in page


def test_a_logged_in_user_is_sent_on_from_the_login_page(owner_client):
    assert owner_client.get(LOGIN)["Location"] == reverse("web:home")


def test_logout_is_a_post(owner_client):
    assert owner_client.get("/accounts/logout/").status_code == 405
    response = owner_client.post("/accounts/logout/")
    assert response["Location"] == LOGIN
    assert owner_client.get("/")["Location"].startswith(LOGIN)


def test_every_page_offers_logout_as_a_form_and_the_role(viewer_client):
    page = viewer_client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in page
    assert "Signed in as Viewer" in page
    assert 'action="/i18n/setlang/"' in page


def test_the_stranger_can_switch_the_language_on_the_login_page(client, owner):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(LOGIN).content.decode()
    assert '<html lang="zh-hans">' in page
    assert '<option value="zh-hans" selected' in page


def test_password_guessing_is_stopped_after_twenty_tries_an_hour(client, owner):
    for _ in range(20):
        response = client.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "olivia", "password": "correct-horse-9"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_log_in_is_the_same_page(client, owner):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/"
