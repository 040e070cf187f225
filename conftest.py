"""Shared fixtures: the named personas every role test uses."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from solocrm.jobs.tests.workers import workers  # noqa: F401 - real `solocrm worker` processes
from solocrm.lib.access import set_role
from solocrm.users import business
from solocrm.users.middleware import forget_that_users_exist
from solocrm.web.tests.browser import browser_page  # noqa: F401 - the browser tests' fixture


def pytest_configure(config) -> None:
    # The default PBKDF2 hasher costs ~0.3 s per user on a busy 2-core machine; tests need
    # no protection against brute force.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The live server's threads must not keep connections open past a test, or PostgreSQL
    # refuses to drop the test database at the end ("being accessed by other users").
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory) -> None:
    """SQLite tests use a database file rather than memory: the job tests start real worker
    processes (solocrm.jobs), which must see the test database too."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _no_saved_business_settings(_jobs_run_inline):
    """Each test starts as if nothing were saved on the settings page (the values come from
    the settings the test sets), without a query; a test that saves settings reads them back."""
    business.assume_nothing_saved()  # after the data directory (with the version file) is set
    yield
    business.assume_nothing_saved()


def _make_user(username: str, role: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "correct-horse-9")
    set_role(user, role)
    return user


@pytest.fixture
def owner(db):
    return _make_user("olivia", "owner")


@pytest.fixture
def assistant(db):
    return _make_user("arthur", "assistant")


@pytest.fixture
def viewer(db):
    return _make_user("vera", "viewer")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def assistant_client(client, assistant):
    client.force_login(assistant)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture(autouse=True)
def _jobs_run_inline(settings, tmp_path, monkeypatch):
    """Background jobs run in the test's own thread so they see the test's transaction, and
    every test gets its own data directory (uploads, rejected-row files, setup token)."""
    settings.SOLOCRM_JOBS_INLINE = True
    forget_that_users_exist()  # the live server outlives a test's users
    settings.SOLOCRM_ANALYTICS_HOUR = "off"  # no scheduler thread outliving a `serve` test
    settings.SOLOCRM_BACKUP_HOUR = None  # nor a daily backup, here or in a `serve` or `worker` child
    monkeypatch.setenv("SOLOCRM_BACKUP_HOUR", "off")
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.SOLOCRM_IMPORT_DIR = settings.DATA_DIR / "imports"
    settings.SOLOCRM_ATTACHMENT_DIR = settings.DATA_DIR / "attachments"
    cache.clear()  # rate-limit counters and cached figures never leak from one test to the next
    # Tasks enqueued through the Django task API run at once, in the test's transaction.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
