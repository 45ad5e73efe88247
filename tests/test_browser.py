"""Real browser (Debian chromium via Playwright) against a live server on *.localhost."""

from pathlib import Path

import pytest

from tests.fixtures import browser_sign_in, site_url

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def test_tenant_admin_signs_in_and_reaches_the_tenant_admin(page, live_server_port):
    browser_sign_in(page, slug="acme", port=live_server_port, email="admin@acme.test")
    assert "Welcome back" in page.content()
    page.get_by_role("link", name="Open administration").click()
    page.wait_for_url(site_url("acme", live_server_port, "/admin/"))
    assert page.locator("#site-name").inner_text().strip() == "Acme Corp"
    page.get_by_role("link", name="Users").first.click()
    table = page.locator("#result_list").inner_text()
    assert "learner@acme.test" in table and "globex" not in table
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "acme-admin-users.png"))


def test_learner_is_refused_the_admin(page, live_server_port):
    browser_sign_in(page, slug="acme", port=live_server_port, email="learner@acme.test")
    response = page.goto(site_url("acme", live_server_port, "/admin/"))
    assert response.status == 403
    assert page.get_by_role("heading", name="No access to administration").is_visible()


def test_acme_session_is_not_signed_in_on_globex(page, live_server_port):
    browser_sign_in(page, slug="acme", port=live_server_port, email="admin@acme.test")
    page.goto(site_url("globex", live_server_port, "/"))
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    assert "Welcome back" not in page.content()


def test_wrong_password_shows_the_error_on_a_phone(browser, live_server_port):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    browser_sign_in(
        page,
        slug="globex",
        port=live_server_port,
        email="admin@globex.test",
        password="not-the-password",
        wait=False,
    )
    assert page.get_by_role("alert").first.inner_text().startswith("That e-mail and password do not match")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px phone"
    context.close()
