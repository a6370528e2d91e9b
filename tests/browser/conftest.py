"""Browser tests: headless Debian Chromium driven by Playwright, against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; the test itself only touches the database
# between browser calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("HYPERDATASETS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: apt-get install chromium (or set HYPERDATASETS_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def examples(transactional_db, tmp_path, settings, django_user_model):
    settings.MEDIA_ROOT = tmp_path / "media"
    django_user_model.objects.create_superuser(username="viewer", password="pw-viewer-123")
    call_command("load_examples")


@pytest.fixture
def page(chromium, live_server, examples):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors, blocked = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The pages run under a Content-Security-Policy: anything it blocks is a bug of the page.
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "pw-viewer-123")
    page.click("[data-testid=signin] button")
    page.wait_for_url(live_server.url + "/")
    page.js_errors = errors
    page.csp_violations = blocked
    yield page
    context.close()
    assert blocked == [], blocked


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# The stores and workers of the deletion tests, for the delete flow in the browser.
from tests.deletion.conftest import start_worker, stores  # noqa: E402, F401
