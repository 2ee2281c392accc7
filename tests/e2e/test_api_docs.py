"""The interactive API docs work on a machine without internet: Swagger UI comes from the installed
``fastapi-offline`` package and the page asks nothing of any other host. Every request the browser makes to another
host is refused and recorded, so a CDN link anywhere (a script, a font, a validator badge) fails the test."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route

from tests.e2e.conftest import LiveServer

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def outside_requests(page: Page) -> list[str]:
    """Refuse every request to a host other than this machine, and return the list they are recorded in."""
    refused: list[str] = []

    def local_only(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and urlsplit(url).hostname not in LOCAL_HOSTS:
            refused.append(url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", local_only)
    return refused


def test_swagger_ui_shows_every_operation_with_no_request_leaving_the_machine(
    page: Page, live_server: LiveServer
) -> None:
    operations = sum(
        len(methods) for methods in page.request.get(f"{live_server.url}/openapi.json").json()["paths"].values()
    )
    refused = outside_requests(page)
    page.goto(f"{live_server.url}/docs")
    page.get_by_text("/api/v1/events", exact=True).first.wait_for()
    assert page.locator(".opblock").count() == operations
    page.get_by_text("/api/v1/events", exact=True).first.click()  # an operation opens, with its schema
    page.get_by_text("Try it out").first.wait_for()
    assert refused == []


def test_there_is_no_redoc_page_whose_bundle_would_fetch_its_makers_logo(page: Page, live_server: LiveServer) -> None:
    assert page.request.get(f"{live_server.url}/redoc").status == 404


def test_pages_have_the_punchcard_icon(page: Page, live_server: LiveServer) -> None:
    for path in ("/favicon.ico", "/favicon.svg"):
        response = page.request.get(f"{live_server.url}{path}")
        assert response.ok, path
        assert response.headers["content-type"].startswith("image/")
    page.goto(f"{live_server.url}/admin/sign-in")
    assert page.locator("link[rel=icon]").get_attribute("href") == "/favicon.svg"
