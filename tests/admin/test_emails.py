"""Member e-mails in the console: a marketer switches a mail off or changes its words in any of the program's
languages, sees each language's preview, sends a test to themselves, and cannot save words that name what the mail
does not have; the sender then uses the program's words."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.admin.conftest import Console, audit_entries
from tests.admin.test_program import field_error
from tests.clock import NOW
from tests.factories import ApiClient, deliver_outbox, line
from tests.mailing.test_member_mails import subjects
from tests.smtp import Mailbox

from punchcard.mailing.domain import MailKind
from punchcard.mailing.templates import default
from punchcard.staff.domain import Action, Role

LANGUAGES = ("en", "et", "fi", "sv", "ru")


def form_of(kind: MailKind, **changes: str) -> dict[str, str]:
    found = {"enabled": "on", "action": "save"}
    for language in LANGUAGES:
        words = default(kind, language)
        found[f"{language}.subject"], found[f"{language}.body"] = words.subject, words.body
    return {**found, **changes}


def test_a_marketer_changes_the_estonian_words_and_members_read_them(
    api: ApiClient, signed_in: Callable[[Role], Console], client: TestClient, mailbox: Mailbox, engine: Engine
) -> None:
    console = signed_in(Role.MARKETER)
    base = f"/admin/p/{api.slug}/emails"
    assert 'href="' + base + '/points_earned"' in console.page(base)
    page = console.page(f"{base}/points_earned")
    assert page.count("<iframe") == 5  # a preview in each of the program's languages
    assert "Preview in et: “Teenisid 40 punkti”" in html.unescape(page)
    saved = console.post(
        f"{base}/points_earned",
        form_of(MailKind.POINTS_EARNED, **{"et.subject": "Uued punktid: {{ points }}", "note": "warmer"}),
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"{base}?notice=saved%3Apoints_earned")
    assert "<td>et</td>" in console.page(base)  # own words in Estonian only
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.MAIL_CHANGED.value)
    assert (entry.target, entry.reason) == ("e-mail points_earned", "warmer")
    # An Estonian member now reads them; an English one still reads ours
    address = f"tiit-{api.slug}@example.com"
    member = api.member(f"tiit-{api.slug}", email=address, language="et", marketing_consent=True)
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    deliver_outbox(client)
    client.app.state.mail.drain()  # type: ignore[attr-defined]
    assert "Uued punktid: 90 punkti" in subjects(mailbox, address)
    # And the member's page lists their mails and their consent's history
    member_page = html.unescape(console.page(f"/admin/p/{api.slug}/members/{member}"))
    assert '<tr data-mail="points_earned" data-channel="email">' in member_page
    assert "Uued punktid: 90 punkti" in member_page
    assert ": given (enrolment)</li>" in member_page


def test_words_that_name_what_the_mail_has_not_are_refused_by_their_field(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.MARKETER)
    response = console.post(
        f"/admin/p/{api.slug}/emails/welcome", form_of(MailKind.WELCOME, **{"fi.body": "Hei {{ reward }}"})
    )
    assert response.status_code == 422
    assert field_error(response.text, "fi.body").startswith("unknown placeholder {{ reward }}")
    assert 'value="Tervetuloa: {{ program }}"' in html.unescape(response.text)  # what was typed stays
    assert "<td>–</td>" in console.page(f"/admin/p/{api.slug}/emails")  # nothing saved


def test_a_switched_off_mail_is_not_sent(
    api: ApiClient, signed_in: Callable[[Role], Console], client: TestClient, mailbox: Mailbox
) -> None:
    console = signed_in(Role.OWNER)
    form = form_of(MailKind.WELCOME)
    del form["enabled"]
    assert console.post(f"/admin/p/{api.slug}/emails/welcome", form).status_code == 303
    assert "switched off" in console.page(f"/admin/p/{api.slug}/emails")
    address = f"quiet-{api.slug}@example.com"
    api.member(f"quiet-{api.slug}", email=address, marketing_consent=True)
    deliver_outbox(client)
    client.app.state.mail.drain()  # type: ignore[attr-defined]
    assert subjects(mailbox, address) == ["You earned 50 points"]


def test_a_test_goes_to_the_staff_member_in_the_chosen_language(
    api: ApiClient, signed_in: Callable[[Role], Console], mailbox: Mailbox
) -> None:
    console = signed_in(Role.MARKETER)
    form = form_of(MailKind.BIRTHDAY, action="test", test_language="sv")
    response = console.post(f"/admin/p/{api.slug}/emails/birthday", form)
    assert response.status_code == 200
    sent_to = re.search(r"A test in sv was sent to ([^.]+@example\.com)", response.text)
    assert sent_to is not None
    assert subjects(mailbox, sent_to.group(1))[-1] == "[test] Grattis på födelsedagen!"


def test_viewers_read_the_words_but_cannot_change_them(api: ApiClient, signed_in: Callable[[Role], Console]) -> None:
    viewer = signed_in(Role.VIEWER)
    page = viewer.page(f"/admin/p/{api.slug}/emails/welcome")
    assert "readonly" in page
    assert viewer.post(f"/admin/p/{api.slug}/emails/welcome", form_of(MailKind.WELCOME)).status_code == 403
