"""Steps the portal's browser tests share: signing in by the link the mail brings, in the language the browser
chose, and checking a page in a language (none of its English messages left, fits the width, axe clean at every
impact)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from punchcard.i18n.catalogue import messages
from punchcard.i18n.translator import Translator
from tests.e2e.conftest import axe_violations
from tests.e2e.test_portal import fits_the_width
from tests.portal.conftest import link_in
from tests.smtp import Mailbox

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def ask_for_link(page: Page, portal: str, email: str, ui: Translator) -> None:
    """Ask for a sign-in link on the portal's sign-in page; the page says it was sent."""
    page.goto(f"{portal}/sign-in")
    page.get_by_label(ui.t("sign_in.email")).fill(email)
    page.get_by_role("button", name=ui.t("sign_in.submit")).click()
    expect(page.get_by_role("heading", name=ui.t("sign_in.sent.title"))).to_be_visible()


def sign_in(page: Page, portal: str, email: str, mailbox: Mailbox, ui: Translator, name: str = "Anna Tamm") -> None:
    """Ask for a link and open the one that arrives: the home page greets the member."""
    ask_for_link(page, portal, email, ui)
    page.goto(link_in(mailbox.wait_for(email)))
    expect(page.get_by_role("heading", name=ui.t("home.greeting", name=name), level=1)).to_be_visible()


def english_left(text: str, prefixes: tuple[str, ...]) -> list[str]:
    """English forms (without placeholders) of the messages whose keys start with ``prefixes`` found in ``text``."""
    english = [
        form
        for key, message in messages("en").items()
        if key.startswith(prefixes)
        for form in ([message] if isinstance(message, str) else list(message.values()))
        if "{" not in form
    ]
    return [form for form in english if form in text]


def check(page: Page, language: str, where: str, prefixes: tuple[str, ...]) -> None:
    """The page in ``language``: no English left of its messages (``prefixes``), fits the width, axe clean."""
    if language != "en":
        assert english_left(page.inner_text("body"), prefixes) == [], where
    assert fits_the_width(page), where
    assert axe_violations(page, ALL_IMPACTS) == [], where
