"""Paid membership mails through a real SMTP server: a member without marketing consent hears, in their language and
at any hour, that their membership began (in the trial or paid, with the price it renews at), that a payment failed
(and until when the perks hold), and that it ended (lapsed or as asked); a failure made good before the mail goes
is not sent; the console lists the three as transactional and previews them with the program's plan."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.conftest import Console, make_staff, new_console, signed_in  # noqa: F401 (fixtures, found by name)
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, run_jobs
from tests.mailing.test_member_mails import mails_to, member, rows, send, subjects, text_of
from tests.membership.test_memberships_api import BEAN_CLUB, membership_event, start
from tests.smtp import Mailbox

STARTED = "2026-11-25T10:00:00+00:00"  # 12:00 in Tallinn
TRIAL_ENDS = "2026-12-09T10:00:00+00:00"  # 14 days later
GRACE_ENDS = "2026-12-16T10:00:00+00:00"  # 7 days after the failed payment at the trial's end


def program(make_program: ProgramMaker, **plan: Any) -> ApiClient:
    return make_program({"membership_plans": [{**BEAN_CLUB, **plan}]})


def body_of(mailbox: Mailbox, address: str, index: int = 0) -> str:
    """The mail's words between the greeting and the portal's link."""
    text = text_of(mails_to(mailbox, address)[index])
    return text.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]


def test_a_trial_start_reaches_a_member_without_marketing_consent_at_night_in_their_language(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    api = program(make_program)
    clock.set("2026-11-25T20:30:00+00:00")  # 22:30 in Tallinn: the quiet hours hold marketing mail, not these
    kai, kai_address = member(api, "kai")
    mari, mari_address = member(api, "mari", language="et")
    start(api, kai, started_at="2026-11-25T20:00:00+00:00")
    start(api, mari, started_at="2026-11-25T20:00:00+00:00")
    send(client)
    # Only the membership mail: the welcome and the points are marketing, and neither member agreed to it
    assert subjects(mailbox, kai_address) == ["Welcome to Bean Club"]
    assert body_of(mailbox, kai_address) == (
        "Welcome to Bean Club! Your membership has begun, and its perks are waiting for you in the portal.\n\n"
        "Your free trial runs until December 9, 2026. Then your membership renews at €4.99 a month, unless you "
        "cancel it at the shop before then."
    )
    assert text_of(mails_to(mailbox, kai_address)[0]).startswith("Hello Kai,\n\n")
    assert subjects(mailbox, mari_address) == ["Tere tulemast: Oaklubi"]
    assert body_of(mailbox, mari_address) == (
        "Tere tulemast! Sinu liikmesus „Oaklubi” on alanud ja selle soodustused ootavad sind portaalis.\n\n"
        "Tasuta prooviaeg kestab kuni 9. detsember 2026. Seejärel uueneb liikmesus hinnaga 4,99\xa0€ kuus, kui sa "
        "seda enne poes ei tühista."
    )
    assert mails_to(mailbox, kai_address)[0]["List-Unsubscribe"] is None  # not marketing: nothing to unsubscribe from
    assert [(row.kind, row.marketing, row.status) for row in rows(engine, api)] == [
        ("membership_started", False, "sent"),
        ("membership_started", False, "sent"),
    ]


def test_a_paid_start_says_until_when_it_is_paid_and_what_it_renews_at(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox
) -> None:
    api = program(make_program, trial_days=0)
    olga, olga_address = member(api, "olga", language="ru")
    sven, sven_address = member(api, "sven", language="sv")
    start(api, olga, started_at=STARTED)
    start(api, sven, started_at=STARTED, period="year")
    send(client)
    assert subjects(mailbox, olga_address) == ["Добро пожаловать в «Bean Club»"]
    assert body_of(mailbox, olga_address).endswith(
        "Подписка оплачена до 25 декабря 2026\u202fг., затем она продлится по цене 4,99\xa0€ в месяц, если вы не "
        "отмените её в магазине."
    )
    assert subjects(mailbox, sven_address) == ["Välkommen till Bean Club"]
    assert body_of(mailbox, sven_address).endswith(
        "Ditt medlemskap är betalt till den 25 november 2027 och förnyas sedan för 49,00\xa0€ om året, om du inte "
        "säger upp det i butiken."
    )


def test_a_failed_payment_then_the_lapse_are_told_with_their_dates(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    api = program(make_program)
    anna, anna_address = member(api, "anna")
    aino, aino_address = member(api, "aino", language="fi")
    for each in (anna, aino):
        start(api, each, started_at=STARTED)
    send(client)
    clock.set("2026-12-09T12:00:00+00:00")
    for each in (anna, aino):
        membership_event(api, each, "membership_payment_failed", TRIAL_ENDS)
    send(client)
    assert subjects(mailbox, anna_address)[1:] == ["Your payment for Bean Club did not go through"]
    assert body_of(mailbox, anna_address, 1) == (
        "The payment for your Bean Club membership did not go through. You keep your perks until December 16, 2026."
        "\n\nPlease update your payment details at the shop before then, so that your membership continues."
    )
    assert subjects(mailbox, aino_address)[1:] == ["Jäsenyytesi Bean Club maksu epäonnistui"]  # no Finnish name
    assert body_of(mailbox, aino_address, 1) == (
        "Jäsenyytesi Bean Club maksu ei mennyt läpi. Etusi ovat voimassa 16. joulukuuta 2026 asti.\n\n"
        "Päivitä maksutietosi kaupassa sitä ennen, niin jäsenyytesi jatkuu."
    )
    # No payment in the grace: the jobs lapse it as the grace ends
    run_jobs(api, engine, GRACE_ENDS)
    clock.set("2026-12-16T10:05:00+00:00")
    send(client)
    assert subjects(mailbox, anna_address)[2:] == ["Your Bean Club membership has ended"]
    assert body_of(mailbox, anna_address, 2) == (
        "Your Bean Club membership ended on December 16, 2026, as its payment never came through. Its perks are "
        "over now.\n\nYou are welcome to join again at the shop whenever you like."
    )
    assert subjects(mailbox, aino_address)[2:] == ["Jäsenyytesi Bean Club on päättynyt"]
    assert body_of(mailbox, aino_address, 2) == (
        "Jäsenyytesi Bean Club päättyi 16. joulukuuta 2026, koska maksua ei saatu. Sen edut eivät ole enää "
        "voimassa.\n\nVoit liittyä uudelleen kaupassa milloin tahansa."
    )
    assert [row.kind for row in rows(engine, api) if row.status != "sent"] == []


def test_a_membership_cancelled_at_its_periods_end_ends_as_asked(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    api = program(make_program)
    sven, address = member(api, "sven", language="sv")
    mari, mari_address = member(api, "mari", language="et")
    for each in (sven, mari):
        start(api, each, started_at=STARTED)
        membership_event(api, each, "membership_cancelled", "2026-11-25T11:00:00+00:00")
    send(client)
    assert subjects(mailbox, address) == ["Välkommen till Bean Club"]  # cancelling at the period's end ends nothing yet
    run_jobs(api, engine, TRIAL_ENDS)
    clock.set("2026-12-09T10:05:00+00:00")
    send(client)
    assert subjects(mailbox, address)[1:] == ["Ditt medlemskap i Bean Club har upphört"]
    assert body_of(mailbox, address, 1) == (
        "Ditt medlemskap i Bean Club upphörde den 9 december 2026, som du bad om. Förmånerna gäller inte längre."
        "\n\nDu är välkommen att gå med igen i butiken när du vill."
    )
    assert subjects(mailbox, mari_address)[1:] == ["Sinu liikmesus „Oaklubi” on lõppenud"]
    assert body_of(mailbox, mari_address, 1).startswith(
        "Sinu liikmesus „Oaklubi” lõppes 9. detsember 2026, nagu soovisid. Selle soodustused on nüüd läbi."
    )


def test_a_payment_failure_made_good_before_its_mail_goes_is_not_sent(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    api = program(make_program)
    anna, address = member(api, "anna")
    start(api, anna, started_at=STARTED)
    send(client)
    clock.set("2026-12-09T12:00:00+00:00")
    membership_event(api, anna, "membership_payment_failed", TRIAL_ENDS)
    membership_event(api, anna, "membership_renewed", "2026-12-09T11:00:00+00:00", attributes={"payment_ref": "in_2"})
    send(client)
    assert subjects(mailbox, address) == ["Welcome to Bean Club"]
    failed = [row for row in rows(engine, api) if row.kind == "membership_payment_failed"]
    assert [(row.status, row.reason) for row in failed] == [
        ("dropped", "the membership was paid for or has ended since")
    ]


def test_the_console_lists_them_as_transactional_and_previews_them_with_the_programs_plan(
    make_program: ProgramMaker,
    signed_in: Callable[[Role], Console],  # noqa: F811 (the fixture imported above)
) -> None:
    api = program(make_program)
    console = signed_in(Role.MARKETER)
    base = f"/admin/p/{api.slug}/emails"
    listed = console.page(base)
    for kind in ("membership_started", "membership_payment_failed", "membership_ended"):
        assert f'<tr data-kind="{kind}">' in listed
        assert listed.split(f'<tr data-kind="{kind}">')[1].split("</tr>")[0].count("<td>transactional</td>") == 1
    page = html.unescape(console.page(f"{base}/membership_started"))
    assert page.count("<iframe") == 5
    assert "A transactional mail: sent to every member with an address." in page
    assert "Preview in et: “Tere tulemast: Oaklubi”" in page
    assert "Then your membership renews at €4.99 a month, unless you cancel it at the shop before then." in page
