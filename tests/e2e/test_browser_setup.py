"""The browser test harness works: Debian's Chromium opens the live server's API docs page."""

from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer


def test_chromium_opens_the_interactive_api_docs(page: Page, live_server: LiveServer) -> None:
    response = page.goto(f"{live_server.url}/openapi.json")
    assert response is not None
    assert response.status == 200
    assert page.evaluate("() => JSON.parse(document.body.innerText).info.title") == "Punchcard"
