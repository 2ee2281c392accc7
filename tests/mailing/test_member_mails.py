"""Member e-mails through a real SMTP server: each moment a member should hear about becomes one mail in their
language, marketing only with consent, at most three marketing mails a week and none at night, points earned in one
digest a day, a one-click unsubscribe that works without a session, and a mail whose reason is gone is not sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.i18n.numbers import number
from punchcard.jobs import service as jobs
from punchcard.mailing.models import MemberMail
from punchcard.member.models import ConsentChange
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, deliver_outbox, line
from tests.smtp import Mailbox


def send(client: TestClient) -> int:
    """What a server does in the background: hand the outbox on, then send the mails that are due."""
    deliver_outbox(client)
    sent: int = client.app.state.mail.drain()  # type: ignore[attr-defined]
    return sent


def mails_to(mailbox: Mailbox, address: str) -> list[Message]:
    return [message for message in mailbox.messages if address in str(message["To"])]


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")
    raise AssertionError("no plain-text part")


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def subjects(mailbox: Mailbox, address: str) -> list[str]:
    from email.header import decode_header, make_header

    return [str(make_header(decode_header(str(message["Subject"])))) for message in mails_to(mailbox, address)]


def rows(engine: Engine, api: ApiClient) -> list[MemberMail]:
    with Session(engine) as session:
        return list(
            session.execute(select(MemberMail).where(MemberMail.program_id == api.program_id).order_by(MemberMail.id))
            .scalars()
            .all()
        )


def member(api: ApiClient, name: str, **fields: Any) -> tuple[str, str]:
    address = f"{name}-{api.slug}@example.com"
    external = api.member(f"{name}-{api.slug}", email=address, name=name.title(), **fields)
    return external, address


def test_a_consenting_members_mails_come_in_their_language_with_one_click_unsubscribe(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock
) -> None:
    kai, address = member(api, "kai", marketing_consent=True)
    send(client)
    assert subjects(mailbox, address) == ["Welcome to Bean There Coffee Roasters", "You earned 50 points"]
    welcome = mails_to(mailbox, address)[0]
    assert "Hello Kai," in text_of(welcome)
    assert "Open your card: http://127.0.0.1:8000/portal/" in text_of(welcome)
    assert '<html lang="en">' in html_of(welcome)
    # RFC 8058: an HTTPS (here the public URL's) link and a mailto, and the one-click POST header
    unsubscribe = str(welcome["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://127.0.0.1:8000/mail/unsubscribe/")
    assert ", <mailto:" in unsubscribe
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A purchase the same day waits for the next day's digest, which gathers every purchase of the day
    api.purchase(kai, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    api.purchase(kai, [line("BEANS", "coffee-beans", "5.00")], occurred_at=NOW.isoformat())
    send(client)
    assert len(mails_to(mailbox, address)) == 2
    clock.set(NOW + timedelta(days=1))
    send(client)
    assert subjects(mailbox, address)[2:] == ["You earned 50 points"]  # 40 + 10, in one mail
    assert "You now have 100 points." in text_of(mails_to(mailbox, address)[2])


def test_an_estonian_member_reads_estonian_with_estonian_numbers(
    api: ApiClient, client: TestClient, mailbox: Mailbox
) -> None:
    mari, address = member(api, "mari", marketing_consent=True, language="et")
    api.purchase(
        mari, [line("BEANS", "coffee-beans", "750.00")], occurred_at=NOW.isoformat()
    )  # 1,500 points with the welcome bonus' 50
    send(client)
    assert subjects(mailbox, address)[0] == "Tere tulemast: Bean There kohvirööstikoda"
    assert subjects(mailbox, address)[1] == f"Teenisid {number(1550, 'et')} punkti"  # Babel's grouping for et
    assert text_of(mails_to(mailbox, address)[0]).startswith("Tere, Mari!\n\nTere tulemast!")
    assert mails_to(mailbox, address)[0]["Content-Language"] == "et"


def test_without_consent_only_transactional_mail_is_sent(api: ApiClient, client: TestClient, mailbox: Mailbox) -> None:
    ott, address = member(api, "ott")
    api.purchase(ott, [line("BEANS", "coffee-beans", "100.00")])
    redeemed = api.post(
        f"/api/v1/members/{ott}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k"}
    )
    assert redeemed.status_code == 201
    send(client)
    assert subjects(mailbox, address) == ["Your coupon for A free drink"]
    coupon = mails_to(mailbox, address)[0]
    assert redeemed.json()["coupon"]["code"] in text_of(coupon)
    assert coupon["List-Unsubscribe"] is None  # a coupon is not marketing


def test_one_click_unsubscribe_needs_no_session_and_stops_marketing_mail(
    api: ApiClient, client: TestClient, mailbox: Mailbox, engine: Engine
) -> None:
    liis, address = member(api, "liis", marketing_consent=True)
    send(client)
    link = str(mails_to(mailbox, address)[0]["List-Unsubscribe"]).split(">")[0].lstrip("<")
    path = httpx.URL(link).path
    # Opening the link asks, and changes nothing (scanners open links)
    page = client.get(path)
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    assert api.get(f"/api/v1/members/{liis}").json()["marketing_consent"] is True
    # The mail client's one-click POST, with no cookie and no CSRF token, unsubscribes
    fresh = TestClient(client.app)
    done = fresh.post(
        path, content=b"List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert done.status_code == 200
    assert "no more of these e-mails" in done.text
    assert api.get(f"/api/v1/members/{liis}").json()["marketing_consent"] is False
    with Session(engine) as session:
        sources = session.execute(
            select(ConsentChange.consent, ConsentChange.source).where(ConsentChange.program_id == api.program_id)
        ).all()
    assert [tuple(row) for row in sources] == [(True, "enrolment"), (False, "unsubscribe")]
    # And no marketing mail follows
    api.purchase(liis, [line("BEANS", "coffee-beans", "100.00")], occurred_at=NOW.isoformat())
    send(client)
    assert len(mails_to(mailbox, address)) == 2
    assert client.post("/mail/unsubscribe/not-a-token").status_code == 404


def test_marketing_mail_waits_out_the_quiet_hours(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    clock.set("2026-11-25T20:30:00+00:00")  # 22:30 in Tallinn
    _, address = member(api, "night", marketing_consent=True)
    send(client)
    assert mails_to(mailbox, address) == []
    assert {row.reason for row in rows(engine, api)} == {"held: quiet hours"}
    clock.set("2026-11-26T05:59:00+00:00")  # 07:59
    send(client)
    assert mails_to(mailbox, address) == []
    clock.set("2026-11-26T06:00:00+00:00")  # 08:00
    send(client)
    assert len(mails_to(mailbox, address)) == 2


def test_at_most_three_marketing_mails_a_week(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    eve, address = member(api, "eve", marketing_consent=True)  # welcome and points earned: two
    send(client)
    api.post(f"/api/v1/members/{eve}/adjustments", {"points": 99, "reason": "gift"})  # 149
    api.purchase(
        eve, [line("MUG", "gear", "1.00")], occurred_at=NOW.isoformat()
    )  # the drink is affordable now: the third
    clock.set(NOW + timedelta(days=1))
    send(client)  # the day's digest would be the fourth: held
    assert len(mails_to(mailbox, address)) == 3
    clock.set(NOW + timedelta(days=7))
    send(client)
    assert {row.status for row in rows(engine, api)} == {"sent"}
    assert len(mails_to(mailbox, address)) == 4


def test_a_mail_whose_reason_is_gone_is_dropped(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    clock.set("2026-11-25T20:30:00+00:00")  # night: everything waits
    ann, address = member(api, "ann", marketing_consent=True)
    api.purchase(
        ann, [line("BEANS", "coffee-beans", "50.00")], occurred_at="2026-11-25T20:30:00+00:00"
    )  # 150: the free drink is affordable
    deliver_outbox(client)
    redeemed = api.post(
        f"/api/v1/members/{ann}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k"}
    )
    assert redeemed.status_code == 201
    clock.set("2026-11-26T06:00:00+00:00")
    send(client)
    affordable = [row for row in rows(engine, api) if row.kind == "reward_affordable"]
    assert [(row.status, row.reason) for row in affordable] == [("dropped", "the member no longer has enough points")]
    assert "You can now get A free drink" not in subjects(mailbox, address)


def test_a_lot_due_in_30_days_gives_one_expiring_mail(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine
) -> None:
    _, address = member(api, "exp", marketing_consent=True, enrolled_at="2026-01-10T10:00:00+00:00")
    deliver_outbox(client)  # its welcome mails are too old to send
    at = datetime.fromisoformat("2026-12-12T12:00:00+00:00")
    clock.set(at)
    jobs.run(engine, at=at, now=at, only=[api.slug])
    send(client)
    jobs.run(engine, at=at, now=at, only=[api.slug])
    send(client)
    expiring = [subject for subject in subjects(mailbox, address) if "expire" in subject]
    assert expiring == ["50 points expire on January 10, 2027"]


def test_a_mail_server_that_is_down_delays_the_mail_with_the_same_message_id(
    api: ApiClient, client: TestClient, mailbox: Mailbox, clock: Clock, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "smtp_port", 9)  # nothing listens there
    ott, address = member(api, "down")
    api.post(f"/api/v1/members/{ott}/adjustments", {"points": 200, "reason": "gift"})
    api.post(f"/api/v1/members/{ott}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k"})
    send(client)
    [row] = rows(engine, api)
    assert (row.status, row.attempts) == ("queued", 1)
    monkeypatch.setattr(settings, "smtp_port", mailbox.port)
    clock.set(NOW + timedelta(minutes=1))
    send(client)
    [mail] = mails_to(mailbox, address)
    assert mail["Message-ID"] == f"<member-mail-{row.id}.{api.slug}@localhost>"
