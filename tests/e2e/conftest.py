import os
from pathlib import Path

import pytest

from approvals.models import Action
from leads.services import CaptureEvent, lead_capture

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download); `make browser` installs it when missing.

    A missing browser fails the run rather than skipping quietly; SKIP_BROWSER=1 skips on purpose.
    """
    if os.environ.get("SKIP_BROWSER"):
        pytest.skip("SKIP_BROWSER is set")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: run 'sudo apt-get install -y chromium' (or SKIP_BROWSER=1 to skip)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in test bodies are safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    # Two test processes share two cores: a page answers more slowly than on an idle machine.
    expect.set_options(timeout=10_000)

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def draft(demo):
    """Maya Lopez's form and the first response drafted for it, waiting in rep1's queue."""
    result = lead_capture(
        event=CaptureEvent(
            channel="form", source="website-quote", name="Maya Lopez", phone="512 867 0100", message="Roof quote please"
        )
    )
    return Action.objects.get(lead=result.lead)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/portal/queue/")


def htmx_settled(page) -> None:
    """Wait until htmx has wired what it swapped in: it binds a new element's triggers only when the swap settles
    (htmx's settle delay, 20 ms), and a browser driven faster than a person can type inside that window."""
    busy = ".htmx-added, .htmx-settling, .htmx-swapping, .htmx-request"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")
