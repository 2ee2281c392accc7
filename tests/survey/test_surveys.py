"""NPS and CES surveys: a purchase leads to one invitation some days later, in the member's language, at most once
per member per period; the score in the mail's link opens the answer page with it chosen; an answer is recorded once
per invitation and its points are granted once; an invitation closes after 30 days; answers add up to NPS and CES."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.mailing.models import MemberMail
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.program import service as programs
from punchcard.survey.models import SurveyInvitation
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line
from tests.mailing.test_member_mails import html_of, mails_to, send, subjects, text_of
from tests.smtp import Mailbox

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def member(api: ApiClient, name: str, **fields: Any) -> tuple[str, str]:
    address = f"{name}-{api.slug}@example.com"
    return api.member(f"{name}-{api.slug}", email=address, name=name.title(), **fields), address


def run_jobs(engine: Engine, api: ApiClient, client: TestClient, clock: Clock, at: datetime) -> int:
    """The scheduled jobs at ``at``, then what a server does after them (outbox handed on, mail sent)."""
    clock.set(at)
    deliver_outbox(client)
    report = jobs.run(engine, at=at, now=at, only=[api.slug])
    send(client)
    return report.survey_invitations


def invitations(engine: Engine, api: ApiClient) -> list[SurveyInvitation]:
    with Session(engine) as session:
        query = select(SurveyInvitation).where(SurveyInvitation.program_id == api.program_id)
        return list(session.execute(query.order_by(SurveyInvitation.id)).scalars())


def rows_of(engine: Engine, api: ApiClient, kind: str) -> list[MemberMail]:
    with Session(engine) as session:
        query = select(MemberMail).where(MemberMail.program_id == api.program_id, MemberMail.kind == kind)
        return list(session.execute(query).scalars())


def member_id(engine: Engine, api: ApiClient, external_id: str) -> int:
    with Session(engine) as session:
        query = select(Member.id).where(Member.program_id == api.program_id, Member.external_id == external_id)
        return int(session.execute(query).scalar_one())


def answer_link(mailbox: Mailbox, address: str) -> str:
    """The answer page's path, from the survey mail's plain-text part."""
    found = re.search(
        r"(/portal/[a-z0-9-]+/surveys/[A-Za-z0-9_-]+)(\?lang=[a-z]+)?", text_of(mails_to(mailbox, address)[-1])
    )
    assert found is not None, "the mail holds no answer link"
    return found.group(0)


def invited(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock, name: str
) -> tuple[str, str]:
    """A consenting member who bought at NOW and was sent the survey three days later; with its answer link."""
    external, address = member(api, name, marketing_consent=True)
    api.purchase(external, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=1))
    return external, answer_link(mailbox, address)


def answer(client: TestClient, link: str, score: str, comment: str = "") -> httpx.Response:
    page = client.get(link)
    token = CSRF.search(page.text)
    assert token is not None, page.text
    path = link.split("?")[0]
    sent: httpx.Response = client.post(
        path, data={"score": score, "comment": comment, "csrf": token.group(1)}, follow_redirects=False
    )
    return sent


def events_of(engine: Engine, api: ApiClient, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == event_type)
        ).scalars()
        return [row.payload for row in rows]


def test_a_purchase_leads_to_one_invitation_three_days_later_in_the_members_language(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    mari, address = member(api, "mari", marketing_consent=True, language="et")
    api.purchase(mari, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    assert run_jobs(engine, api, client, clock, NOW + timedelta(days=2, hours=23)) == 0
    assert [row.status for row in invitations(engine, api)] == ["scheduled"]
    assert run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=1)) == 1
    survey_mails = [subject for subject in subjects(mailbox, address) if "kuidas meil läks" in subject]
    assert survey_mails == ["Bean There kohvirööstikoda: kuidas meil läks?"]
    text = text_of(mails_to(mailbox, address)[-1])
    assert "Kui tõenäoliselt soovitaksite Bean There kohvirööstikoda sõbrale või kolleegile?" in text
    html = html_of(mails_to(mailbox, address)[-1])
    assert [int(score) for score in re.findall(r"score=(\d+)", html)] == list(range(11))  # one click per score
    assert "Üldse mitte tõenäoliselt" in html
    assert "Väga tõenäoliselt" in html
    # The next day's run finds nothing more to send
    assert run_jobs(engine, api, client, clock, NOW + timedelta(days=4)) == 0
    assert len([s for s in subjects(mailbox, address) if "kuidas meil läks" in s]) == 1


def test_a_member_is_asked_at_most_once_in_the_surveys_period(
    api: ApiClient, client: TestClient, engine: Engine, clock: Clock
) -> None:
    kai, _ = member(api, "kai", marketing_consent=True)
    first = "K-1"
    api.purchase(kai, [line("BEANS", "coffee-beans", "20.00")], order_id=first, occurred_at=NOW.isoformat())
    api.purchase(kai, [line("BEANS", "coffee-beans", "20.00")], occurred_at=(NOW - timedelta(hours=1)).isoformat())
    run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=2))
    later = NOW + timedelta(days=10)
    clock.set(later)
    api.purchase(kai, [line("BEANS", "coffee-beans", "20.00")], occurred_at=later.isoformat())
    run_jobs(engine, api, client, clock, later + timedelta(days=3))
    assert [(row.status, row.order_id) for row in invitations(engine, api)] == [("invited", first)]
    # 90 days after the invitation a purchase is asked about again
    quarter = NOW + timedelta(days=3, hours=2) + timedelta(days=90)
    clock.set(quarter)
    api.purchase(kai, [line("BEANS", "coffee-beans", "20.00")], order_id="K-4", occurred_at=quarter.isoformat())
    run_jobs(engine, api, client, clock, quarter + timedelta(days=3))
    assert [(row.status, row.order_id) for row in invitations(engine, api)] == [
        ("invited", first),
        ("invited", "K-4"),
    ]


def test_the_score_link_opens_the_page_with_it_chosen_and_answering_twice_records_once(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    kai, link = invited(api, client, engine, mailbox, clock, "kai")
    before = api.get(f"/api/v1/members/{kai}").json()["points"]["available"]
    page = client.get(f"{link}&score=9")
    assert page.status_code == 200
    assert 'id="score-9" value="9" checked' in page.text
    assert invitations(engine, api)[0].status == "invited"  # opening the link (a mail scanner, too) answers nothing
    done = answer(client, link, "9", "Great beans, slow delivery")
    assert done.status_code == 303
    thanks = client.get(done.headers["location"])
    assert "Thank you for your answer!" in thanks.text
    assert "20 points have been added to your balance." in thanks.text
    again = answer(client, link, "2", "changed my mind")
    assert again.status_code == 303
    assert "You have already answered this survey." in client.get(link).text
    row = invitations(engine, api)[0]
    assert (row.status, row.score, row.comment, row.points) == ("answered", 9, "Great beans, slow delivery", 20)
    assert api.get(f"/api/v1/members/{kai}").json()["points"]["available"] == before + 20
    answered = events_of(engine, api, "survey.answered")
    assert [(event["score"], event["group"], event["points"]) for event in answered] == [(9, "promoter", 20)]
    earned = [event for event in events_of(engine, api, "points.earned") if event["cause"] == "survey"]
    assert [event["points"] for event in earned] == [20]


def test_a_score_off_the_scale_is_refused_and_changes_nothing(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    _, link = invited(api, client, engine, mailbox, clock, "kai")
    for score in ("11", "", "nine"):
        refused = answer(client, link, score)
        assert refused.status_code == 400
        assert "Choose a score." in refused.text
    too_long = answer(client, link, "7", "x" * 2001)
    assert too_long.status_code == 400
    assert "The text is too long." in too_long.text
    assert invitations(engine, api)[0].status == "invited"
    assert events_of(engine, api, "survey.answered") == []


def test_an_invitation_closes_after_30_days_and_an_unknown_link_is_not_found(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    _, link = invited(api, client, engine, mailbox, clock, "kai")
    sent = NOW + timedelta(days=3, hours=1)
    clock.set(sent + timedelta(days=29, hours=23))
    assert client.get(link).status_code == 200
    clock.set(sent + timedelta(days=30))
    closed = client.get(link)
    assert closed.status_code == 410
    assert "This survey has closed." in closed.text
    assert client.get(f"/portal/{api.slug}/surveys/no-such-link").status_code == 404


def test_without_consent_there_is_no_mail_but_the_invitation_waits_in_the_portal(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    ott, address = member(api, "ott")
    api.purchase(ott, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=1))
    assert [row.status for row in invitations(engine, api)] == ["invited"]
    assert not [subject for subject in subjects(mailbox, address) if "how did we do" in subject]


def test_results_add_up_to_nps_with_its_authors_groups(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    scores = [10, 9, 8, 7, 6, 3, 0, 10]  # 3 promoters, 2 passives, 3 detractors: NPS 0
    for number, score in enumerate(scores):
        someone, address = member(api, f"m{number}", marketing_consent=True)
        clock.set(NOW)
        api.purchase(someone, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
        run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=1, minutes=10 * number))
        assert answer(client, answer_link(mailbox, address), str(score)).status_code == 303
    results = api.get("/api/v1/surveys/nps/results")
    assert results.status_code == 200
    assert results.json() == {
        "survey": "nps",
        "kind": "nps",
        "from": None,
        "to": None,
        "responses": 8,
        "nps": 0,
        "promoters": 3,
        "passives": 2,
        "detractors": 3,
        "ces_average": None,
    }
    # the first four answers only: 2 promoters, 2 passives
    since = (NOW + timedelta(days=3)).isoformat()
    until = (NOW + timedelta(days=3, hours=1, minutes=35)).isoformat()
    window = api.get("/api/v1/surveys/nps/results", params={"from": since, "to": until}).json()
    assert (window["responses"], window["nps"], window["promoters"], window["passives"]) == (4, 50, 2, 2)


def test_results_refuse_bad_requests_with_structured_errors(api: ApiClient) -> None:
    unknown = api.get("/api/v1/surveys/csat/results")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "survey_not_found"
    backwards = api.get(
        "/api/v1/surveys/nps/results", params={"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "validation_error"
    zoneless = api.get("/api/v1/surveys/nps/results", params={"from": "2026-12-01T00:00:00"})
    assert zoneless.status_code == 422
    assert zoneless.json()["error"]["code"] == "validation_error"
    till = api.as_integration().get("/api/v1/surveys/nps/results")
    assert till.status_code == 403


def test_an_invitation_waiting_for_the_morning_is_not_sent_once_answered_or_once_the_survey_is_gone(
    make_program: ProgramMaker, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock
) -> None:
    api = make_program()
    kai, kai_address = member(api, "kai", marketing_consent=True)
    ann, ann_address = member(api, "ann", marketing_consent=True)
    for someone in (kai, ann):
        api.purchase(someone, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
    evening = NOW + timedelta(days=3, hours=8)  # 22:00 in Tallinn: the invitations wait for the quiet hours' end
    run_jobs(engine, api, client, clock, evening)
    assert {row.reason for row in rows_of(engine, api, "survey_invitation")} == {"held: quiet hours"}
    kai_token = next(row.token for row in invitations(engine, api) if row.member_id == member_id(engine, api, kai))
    assert answer(client, f"/portal/{api.slug}/surveys/{kai_token}", "8").status_code == 303  # from the portal
    definition = {key: value for key, value in make_program.definition.items() if key != "surveys"}
    text = yaml.safe_dump({**definition, "slug": api.slug})
    with unit_of_work(engine) as session:
        programs.apply(session, programs.parse_text(text, "yaml"), text, "yaml", evening)
    clock.set(evening + timedelta(hours=11))  # 09:00 in Tallinn
    send(client)
    assert sorted(row.reason for row in rows_of(engine, api, "survey_invitation")) == [
        "the member has answered the survey",
        "the survey was removed from the program",
    ]
    assert not [s for s in subjects(mailbox, kai_address) + subjects(mailbox, ann_address) if "how did we do" in s]
    assert client.get(f"/portal/{api.slug}/surveys/{kai_token}").status_code == 404
