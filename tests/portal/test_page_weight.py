"""Every portal page is light and self-contained: HTML, CSS and JS together under 100 KB, no script from another
origin, and our own assets served from the package."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.portal.conftest import Anna, Browser
from tests.portal.test_pages import redeem

LIMIT = 100 * 1024
ASSETS = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"')


def pages(browser: Browser) -> list[httpx.Response]:
    """Every page, the sign-in page as a signed-out visitor sees it and the rest as Anna, holding a coupon."""
    coupon = redeem(browser, "free-drink")
    signed_out = TestClient(browser.http.app).get(browser.url("/sign-in"))
    paths = ["", "/history", "/rewards", "/rewards/free-drink", "/coupons", f"/coupons/{coupon}", "/card", "/profile"]
    found = [signed_out, *(browser.get(path) for path in paths)]
    assert [page.status_code for page in found] == [200] * len(found)
    return found


def test_each_page_weighs_under_100_kb_with_its_css_and_js(browser: Browser, anna: Anna) -> None:
    for page in pages(browser):
        assets = ASSETS.findall(page.text)
        assert any(asset.startswith("/portal-assets/portal.css?v=") for asset in assets), page.url
        assert any(asset.startswith("/portal-assets/portal.js?v=") for asset in assets), page.url
        weight = len(page.content) + sum(len(browser.http.get(asset).content) for asset in assets)
        assert weight < LIMIT, (page.url, weight)


def test_no_page_loads_a_script_or_stylesheet_from_another_origin(browser: Browser, anna: Anna) -> None:
    for page in pages(browser):
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        sources = [re.search(r'\ssrc="([^"]*)"', tag) for tag in scripts]
        assert None not in sources, page.url  # no inline scripts either
        links = re.findall(r'<link[^>]*\shref="([^"]*)"', page.text)
        for address in [source.group(1) for source in sources if source] + links:
            assert address.startswith("/"), (page.url, address)
            assert not address.startswith("//"), (page.url, address)


def test_assets_are_served_with_their_type(browser: Browser) -> None:
    css = browser.http.get("/portal-assets/portal.css")
    js = browser.http.get("/portal-assets/portal.js")
    assert (css.status_code, js.status_code) == (200, 200)
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
