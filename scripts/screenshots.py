"""Take the README screenshots from a running demo (`make demo`), with Debian's chromium.

Usage: .venv/bin/python scripts/screenshots.py [--port 8000]
Writes docs/screenshots/*.png.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo password


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    port = parser.parse_args().port
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(viewport={"width": 1200, "height": 720}).new_page()
        page.goto(f"http://acme.localhost:{port}/accounts/login/")
        page.screenshot(path=str(OUT / "acme-sign-in.png"))
        page.get_by_label("E-mail").fill("admin@acme.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"http://acme.localhost:{port}/")
        page.screenshot(path=str(OUT / "acme-home.png"))
        page.goto(f"http://acme.localhost:{port}/admin/accounts/user/")
        page.screenshot(path=str(OUT / "acme-admin-people.png"))
        page.goto(f"http://acme.localhost:{port}/admin/courses/course/")
        page.get_by_role("link", name="Workplace Safety Essentials").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "acme-admin-course-builder.png"), full_page=True)
        page.goto(f"http://acme.localhost:{port}/builder/workplace-safety-essentials/")
        page.screenshot(path=str(OUT / "acme-builder-curriculum.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_role("link", name="Hazards, risks and controls").first.click()
        page.wait_for_selector("#builder-editor")
        page.screenshot(path=str(OUT / "acme-builder-editor.png"))
        page.set_viewport_size({"width": 1200, "height": 720})

        learner = browser.new_context(viewport={"width": 1200, "height": 760}).new_page()
        learner.goto(f"http://acme.localhost:{port}/accounts/login/")
        learner.get_by_label("E-mail").fill("learner@acme.test")
        learner.get_by_label("Password").fill(PASSWORD)
        learner.get_by_role("button", name="Sign in").click()
        learner.wait_for_url(f"http://acme.localhost:{port}/")
        learner.screenshot(path=str(OUT / "acme-catalog.png"), full_page=True)
        learner.goto(f"http://acme.localhost:{port}/learning/")
        learner.screenshot(path=str(OUT / "acme-my-learning.png"))
        learner.goto(f"http://acme.localhost:{port}/courses/workplace-safety-essentials/")
        learner.get_by_role("link", name="Slips, trips and falls").first.click()
        learner.wait_for_load_state()
        learner.screenshot(path=str(OUT / "acme-lesson-player.png"))
        phone = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True).new_page()
        phone.goto(f"http://globex.localhost:{port}/accounts/login/")
        phone.screenshot(path=str(OUT / "globex-sign-in-phone.png"))
        phone.get_by_label("E-mail").fill("learner@globex.test")
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Sign in").click()
        phone.wait_for_url(f"http://globex.localhost:{port}/")
        phone.goto(f"http://globex.localhost:{port}/learning/")
        phone.get_by_role("link", name="Continue").first.click()
        phone.wait_for_load_state()
        phone.screenshot(path=str(OUT / "globex-lesson-phone.png"), full_page=True)
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
