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
        phone = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True).new_page()
        phone.goto(f"http://globex.localhost:{port}/accounts/login/")
        phone.screenshot(path=str(OUT / "globex-sign-in-phone.png"))
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
