"""What every browser test shares: Debian's chromium driven by Playwright, skipped with a reason
where it cannot run, and a page that fails the test on any JavaScript error."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(os.environ.get("SOLOCRM_SKIP_BROWSER")), reason="SOLOCRM_SKIP_BROWSER is set"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt install chromium)"
    ),
]


@pytest.fixture
def browser_page(live_server, monkeypatch) -> Iterator:
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the test must
    # still be allowed to run here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            # no layout transitions: a test that resizes the window measures the settled page
            reduced_motion="reduce",
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        yield page
        page.goto("about:blank")  # stop any htmx polling before the live server goes away
        context.close()
        assert errors == [], f"the browser reported errors: {errors}"


TEST_PASSWORD = "correct-horse-9"  # the password conftest.py gives every test user


def log_in(page, live_server, username: str = "olivia", password: str = TEST_PASSWORD) -> None:
    """Log in through the log-in page, as a person would (the owner the tests' fixtures make)."""
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def screenshot_dir(tmp_path: Path) -> Path:
    """Where a browser test keeps its screenshots: $SOLOCRM_SCREENSHOT_DIR, else the test's tmp."""
    folder = Path(os.environ.get("SOLOCRM_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
