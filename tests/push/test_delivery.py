"""Push notifications through a stand-in push service that checks every push as a real one would (VAPID, aes128gcm,
TTL) and decrypts it: the moments a member hears about by e-mail reach their devices too, in their language, with
the same consent, quiet hours and weekly cap; a device that is gone is forgotten, and a push sent again replaces
itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.i18n.translator import Translator
from punchcard.jobs import service as jobs
from punchcard.kit.calendar import last_usable_day
from punchcard.kit.db import unit_of_work
from punchcard.mailing import service as mailing
from punchcard.mailing.domain import MailKind
from punchcard.mailing.models import MemberMail
from punchcard.mailing.templates import Words
from punchcard.push.models import PushSubscription
from punchcard.survey.models import SurveyInvitation
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, deliver_outbox, line
from tests.push.conftest import Portal, sign_in
from tests.push.standin import BrowserSubscription, PushService
from tests.smtp import Mailbox


def send(client: TestClient) -> int:
    """What a server does in the background: hand the outbox on, then send the mails and pushes that are due."""
    deliver_outbox(client)
    sent: int = client.app.state.mail.drain()  # type: ignore[attr-defined]
    return sent


def rows(engine: Engine, api: ApiClient, channel: str = "push") -> list[MemberMail]:
    with Session(engine) as session:
        query = select(MemberMail).where(MemberMail.program_id == api.program_id, MemberMail.channel == channel)
        return list(session.execute(query.order_by(MemberMail.id)).scalars().all())


def devices(engine: Engine, api: ApiClient) -> list[str]:
    with Session(engine) as session:
        query = select(PushSubscription.endpoint).where(PushSubscription.program_id == api.program_id)
        return list(session.execute(query.order_by(PushSubscription.id)).scalars().all())


@dataclass(frozen=True)
class Member:
    external_id: str
    email: str
    portal: Portal
    device: BrowserSubscription


def member(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, name: str, **fields: Any
) -> Member:
    """A member who signed in to the portal and turned notifications on for one device."""
    email = f"{name}-{api.slug}@example.com"
    external = api.member(f"{name}-{api.slug}", email=email, name=name.title(), **fields)
    portal = sign_in(client, api, mailbox, email)
    device = pushes.subscribe()
    portal.turn_on(device)
    return Member(external, email, portal, device)


def portal_of(api: ApiClient, language: str) -> str:
    return f"http://127.0.0.1:8000/portal/{api.slug}?lang={language}"


def test_a_purchase_reaches_the_members_device_in_their_language(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine
) -> None:
    mari = member(api, client, mailbox, pushes, "mari", marketing_consent=True, language="et")
    api.purchase(mari.external_id, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())  # 40
    send(client)
    [row] = rows(engine, api)
    assert pushes.messages(mari.device) == [
        {
            "title": "Teenisid 40 punkti",
            "body": "Aitäh ostu eest: teenisid 40 punkti. Sul on nüüd 90 punkti.",
            "url": portal_of(api, "et"),
            "tag": f"mail-{row.id}",
            "lang": "et",
        }
    ]
    [push] = pushes.pushes(mari.device)
    assert push.claims == {
        "aud": pushes.base,
        "exp": int((NOW + timedelta(hours=12)).timestamp()),
        "sub": "mailto:no-reply@localhost",
    }
    assert (push.ttl, push.topic) == (86400, f"mail-{row.id}")
    assert (row.kind, row.status, row.attempts, row.reason) == ("points_earned", "sent", 1, "")
    assert (row.subject, row.language, row.to_address, row.sent_at) == ("Teenisid 40 punkti", "et", "127.0.0.1", NOW)
    # The digest gathers per channel: the e-mail one, waiting since the welcome bonus, took the purchase in too
    [email] = [mail for mail in rows(engine, api, "email") if mail.kind == "points_earned"]
    assert (email.status, email.subject) == ("sent", "Teenisid 90 punkti")
    assert pushes.problems() == []


def test_without_consent_only_the_coupon_is_pushed_and_no_address_is_needed(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine
) -> None:
    ott = member(api, client, mailbox, pushes, "ott")
    assert api.patch(f"/api/v1/members/{ott.external_id}", {"email": None}).status_code == 200
    api.purchase(ott.external_id, [line("BEANS", "coffee-beans", "100.00")], occurred_at=NOW.isoformat())  # 250
    redeemed = api.post(
        f"/api/v1/members/{ott.external_id}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k1"}
    )
    assert redeemed.status_code == 201, redeemed.text
    coupon = redeemed.json()["coupon"]
    send(client)
    [row] = rows(engine, api)
    until = Translator("en").date(last_usable_day(datetime.fromisoformat(coupon["expires_at"]), _zone()))
    assert pushes.messages(ott.device) == [
        {
            "title": "Your coupon for A free drink",
            "body": f"Here is your coupon for A free drink: {coupon['code']}. It can be used until {until}.",
            "url": portal_of(api, "en"),
            "tag": f"mail-{row.id}",
            "lang": "en",
        }
    ]
    assert (row.kind, row.marketing, row.status) == ("coupon_issued", False, "sent")
    assert [mail.kind for mail in rows(engine, api, "email")] == []  # no address, and no consent for the welcome


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Tallinn")


def test_a_push_waits_out_the_quiet_hours(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine, clock: Clock
) -> None:
    night = datetime.fromisoformat("2026-11-25T20:30:00+00:00")  # 22:30 in Tallinn
    clock.set(night)
    kai = member(api, client, mailbox, pushes, "kai", marketing_consent=True)
    api.purchase(kai.external_id, [line("MUG", "gear", "5.00")], occurred_at=night.isoformat())
    send(client)
    assert pushes.pushes(kai.device) == []
    [row] = rows(engine, api)
    assert (row.status, row.reason, row.send_after) == (
        "queued",
        "held: quiet hours",
        datetime.fromisoformat("2026-11-26T06:00:00+00:00"),
    )
    clock.set("2026-11-26T05:59:00+00:00")  # 07:59
    send(client)
    assert pushes.pushes(kai.device) == []
    clock.set("2026-11-26T06:00:00+00:00")  # 08:00
    send(client)
    assert [message["title"] for message in pushes.messages(kai.device)] == ["You earned 5 points"]
    assert pushes.problems() == []  # the token was made for 08:00, and valid then


def test_the_weekly_cap_counts_pushes_apart_from_e_mails(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine, clock: Clock
) -> None:
    eve = member(api, client, mailbox, pushes, "eve", marketing_consent=True)
    send(client)  # two e-mails: the welcome and the welcome bonus
    days = [NOW + timedelta(days=day) for day in range(4)]
    for day in days:  # a small purchase a day: one digest a day on each channel
        clock.set(day)
        api.purchase(eve.external_id, [line("MUG", "gear", "1.00")], occurred_at=day.isoformat())
        send(client)
    pushed = rows(engine, api)
    assert [(row.status, row.sent_at) for row in pushed[:3]] == [("sent", day) for day in days[:3]]
    assert (pushed[3].status, pushed[3].reason) == ("queued", "held: weekly limit of marketing mail reached")
    assert pushed[3].send_after == days[0] + timedelta(days=7)
    emails = [row for row in rows(engine, api, "email") if row.status == "sent"]
    assert len(emails) == 3  # the e-mails' own limit was reached a day earlier, and did not hold the pushes
    clock.set(days[0] + timedelta(days=7))
    send(client)
    assert len(pushes.messages(eve.device)) == 4
    assert pushes.problems() == []


def test_a_device_that_is_gone_is_forgotten_and_the_mail_says_why(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine, clock: Clock
) -> None:
    liis = member(api, client, mailbox, pushes, "liis", marketing_consent=True)
    laptop = pushes.subscribe()
    liis.portal.turn_on(laptop)
    pushes.gone(liis.device)  # the phone's browser unsubscribed
    api.purchase(liis.external_id, [line("MUG", "gear", "2.00")], occurred_at=NOW.isoformat())
    send(client)
    [first] = rows(engine, api)
    assert (first.status, first.reason) == ("sent", "reached 1 of 2 devices; HTTP 410 from 127.0.0.1")
    assert devices(engine, api) == [laptop.endpoint]
    pushes.gone(laptop)
    clock.set(NOW + timedelta(days=1))
    api.purchase(liis.external_id, [line("MUG", "gear", "3.00")], occurred_at=(NOW + timedelta(days=1)).isoformat())
    send(client)
    second = rows(engine, api)[1]
    assert (second.status, second.reason) == ("dropped", "every device unsubscribed (the push service answered 410)")
    assert devices(engine, api) == []
    # With no device left, the next moment makes no push at all
    clock.set(NOW + timedelta(days=2))
    api.purchase(liis.external_id, [line("MUG", "gear", "4.00")], occurred_at=(NOW + timedelta(days=2)).isoformat())
    send(client)
    assert len(rows(engine, api)) == 2
    assert [push.status for push in pushes.pushes(liis.device)] == [410]
    assert [push.status for push in pushes.pushes(laptop)] == [201, 410]


def test_a_push_tried_again_carries_the_same_tag(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine, clock: Clock
) -> None:
    ann = member(api, client, mailbox, pushes, "ann", marketing_consent=True)
    pushes.answer(ann.device, 503)
    pushes.answer(ann.device, 429, retry_after=600)
    api.purchase(ann.external_id, [line("MUG", "gear", "7.00")], occurred_at=NOW.isoformat())
    send(client)
    [row] = rows(engine, api)
    assert (row.status, row.attempts, row.reason) == ("queued", 1, "HTTP 503 from 127.0.0.1")
    assert row.send_after == NOW + timedelta(minutes=1)
    clock.set(NOW + timedelta(minutes=1))
    send(client)
    [row] = rows(engine, api)
    assert (row.attempts, row.reason) == (2, "HTTP 429 from 127.0.0.1")
    assert row.send_after == NOW + timedelta(minutes=11)  # the service asked for ten minutes, more than our two
    clock.set(NOW + timedelta(minutes=11))
    send(client)
    [row] = rows(engine, api)
    assert (row.status, row.attempts) == ("sent", 3)
    tried = pushes.pushes(ann.device)
    assert [push.status for push in tried] == [503, 429, 201]
    assert {push.message["tag"] for push in tried if push.message} == {f"mail-{row.id}"}
    assert {push.topic for push in tried} == {f"mail-{row.id}"}
    assert [push.claims["exp"] for push in tried] == [
        int((moment + timedelta(hours=12)).timestamp())
        for moment in (NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=11))
    ]  # each attempt signed afresh


def test_a_marketers_own_words_are_pushed_with_the_body_shortened(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine
) -> None:
    long_text = "Thank you for shopping with us: you earned {{ points }}. " + "Our beans are roasted weekly. " * 8
    with unit_of_work(engine) as session:
        problems = mailing.save(
            session,
            api.program_id,
            MailKind.POINTS_EARNED,
            {"en": Words("{{ name }}, {{ points }} more!", "{{ greeting }}\n\n" + long_text + "\n\nSee you soon.")},
            True,
            NOW,
        )
    assert problems == []
    kai = member(api, client, mailbox, pushes, "kai", marketing_consent=True)
    api.purchase(kai.external_id, [line("MUG", "gear", "9.00")], occurred_at=NOW.isoformat())
    send(client)
    [message] = pushes.messages(kai.device)
    assert message["title"] == "Kai, 9 points more!"
    body = message["body"]
    assert body.startswith("Thank you for shopping with us: you earned 9 points. Our beans are roasted weekly.")
    assert body.endswith("…")
    assert 150 < len(body) <= 180
    assert "See you soon" not in body


def test_a_survey_invitation_opens_its_answer_page(
    api: ApiClient, client: TestClient, mailbox: Mailbox, pushes: PushService, engine: Engine, clock: Clock
) -> None:
    kai = member(api, client, mailbox, pushes, "kai", marketing_consent=True, language="fi")
    api.purchase(kai.external_id, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    send(client)
    invited = NOW + timedelta(days=3, hours=1)
    clock.set(invited)
    jobs.run(engine, at=invited, now=invited, only=[api.slug])
    send(client)
    with Session(engine) as session:
        token = session.execute(
            select(SurveyInvitation.token).where(SurveyInvitation.program_id == api.program_id)
        ).scalar_one()
    [survey] = [message for message in pushes.messages(kai.device) if "miten onnistuimme" in message["title"]]
    assert survey["url"] == f"http://127.0.0.1:8000/portal/{api.slug}/surveys/{token}?lang=fi"
    assert survey["body"].startswith("Kiitos äskettäisestä ostoksestasi. Kuinka todennäköisesti suosittelisit")
