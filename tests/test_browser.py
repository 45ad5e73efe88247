"""Real browser (Debian chromium via Playwright) against a live server on *.localhost."""

from pathlib import Path

import pytest

from tests.fixtures import PASSWORD

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def page(browser, live_server_port):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _url(slug: str, port: int, path: str = "/") -> str:
    return f"http://{slug}.localhost:{port}{path}"


def _sign_in(page, port: int, slug: str, email: str, password: str = PASSWORD) -> None:
    page.goto(_url(slug, port, "/accounts/login/"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_tenant_admin_signs_in_and_reaches_the_tenant_admin(page, live_server_port):
    _sign_in(page, live_server_port, "acme", "admin@acme.test")
    page.wait_for_url(_url("acme", live_server_port, "/"))
    assert "Welcome back" in page.content()
    page.get_by_role("link", name="Open administration").click()
    page.wait_for_url(_url("acme", live_server_port, "/admin/"))
    assert page.locator("#site-name").inner_text().strip() == "Acme Corp"
    page.get_by_role("link", name="Users").first.click()
    table = page.locator("#result_list").inner_text()
    assert "learner@acme.test" in table and "globex" not in table
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "acme-admin-users.png"))


def test_learner_is_refused_the_admin(page, live_server_port):
    _sign_in(page, live_server_port, "acme", "learner@acme.test")
    page.wait_for_url(_url("acme", live_server_port, "/"))
    response = page.goto(_url("acme", live_server_port, "/admin/"))
    assert response.status == 403
    assert page.get_by_role("heading", name="No access to administration").is_visible()


def test_acme_session_is_not_signed_in_on_globex(page, live_server_port):
    _sign_in(page, live_server_port, "acme", "admin@acme.test")
    page.wait_for_url(_url("acme", live_server_port, "/"))
    page.goto(_url("globex", live_server_port, "/"))
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    assert "Welcome back" not in page.content()


def test_wrong_password_shows_the_error_on_a_phone(browser, live_server_port):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    _sign_in(page, live_server_port, "globex", "admin@globex.test", "not-the-password")
    assert page.get_by_role("alert").first.inner_text().startswith("That e-mail and password do not match")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px phone"
    context.close()
