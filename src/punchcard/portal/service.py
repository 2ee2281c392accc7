"""Signing members in and out of the portal, the changes a member makes there (profile, redemptions), and a friend
joining from an invitation.

Two ways in, both ending in a session: a one-time link sent by e-mail (valid 15 minutes, used once) and a link from the
shop's own account page, signed with the program's portal secret. Tokens are random, stored only as fingerprints, and
nothing here says whether an e-mail address belongs to a member. Nothing here commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.event import service as events
from punchcard.i18n.catalogue import DEFAULT, supported
from punchcard.i18n.translator import Translator
from punchcard.kit.idempotency import request_hash
from punchcard.mail import compose
from punchcard.member import service as members
from punchcard.member.errors import MemberExists
from punchcard.member.schemas import MemberIn
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.portal import repository
from punchcard.portal.domain import (
    LINK_LIFETIME,
    LINKS_PER_LIFETIME,
    SESSION_LIFETIME,
    SignInLinkRequested,
    check_shop_link,
    fingerprint,
)
from punchcard.portal.errors import ShopLinkInvalid, SignInLinkInvalid
from punchcard.portal.models import MemberSession, PortalSecret, SignInToken
from punchcard.program.domain import Program, ProgramVersion
from punchcard.reward import service as rewards
from punchcard.reward.domain import Lock


def portal_secret(session: Session, program_id: int, now: datetime) -> str:
    """The program's secret for signing shop links, created on first use (a concurrent first use keeps the winner's)."""
    found = repository.secret(session, program_id)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(PortalSecret(program_id=program_id, secret=secrets.token_hex(32), created_at=now))
    except IntegrityError:
        pass
    created = repository.secret(session, program_id)
    assert created is not None
    return created


def request_link(
    session: Session, program_id: int, email: str, now: datetime, *, language: str, source: str
) -> Member | None:
    """Ask for a one-time sign-in link for the member with ``email``; returns the member, or ``None`` when no mail
    should go out: no such member, a blocked one, or one who was just sent several. The caller answers the same in
    every case.

    The request is a token row and a ``member.sign_in_link_requested`` event; the mail is made by the outbox
    consumer ``portal.consumers.SignInMail`` once this transaction has committed, so a mail never announces a link the
    database rolled back, and a mail server that is down delays the mail instead of losing it. The link's token is
    fixed here (``_link_token``: only its fingerprint is stored, the outbox holds neither), so it works the moment the
    mail arrives, even before the consumer's own transaction commits.
    """
    member = members.by_email(session, program_id, email.strip())
    if member is None or member.status == members.BLOCKED:
        return None
    if repository.links_sent_since(session, member.id, now - LINK_LIFETIME) >= LINKS_PER_LIFETIME:
        return None
    request = SignInToken(
        program_id=program_id,
        member_id=member.id,
        token_hash=fingerprint(secrets.token_urlsafe(32)),  # replaced below, once the row has its id
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(request)
    session.flush()
    request.token_hash = fingerprint(_link_token(portal_secret(session, program_id, now), request.id))
    session.flush()
    requested = SignInLinkRequested(
        program_id=program_id,
        member_id=member.id,
        occurred_at=now,
        request_id=request.id,
        language=language,
        source=source,
    )
    outbox.publish(session, [requested], now)
    return member


def arm_link(session: Session, program_id: int, request_id: int, now: datetime) -> tuple[Member, str] | None:
    """A requested sign-in link's token, valid for its full lifetime from ``now`` (a mail delayed by a mail server
    that was down still works that long): (member, token), or ``None`` when the request is gone or was used."""
    token = _link_token(portal_secret(session, program_id, now), request_id)
    member_id = repository.arm_token(session, request_id, fingerprint(token), now + LINK_LIFETIME)
    member = members.by_id(session, program_id, member_id) if member_id is not None else None
    return None if member is None else (member, token)


def _link_token(secret: str, request_id: int) -> str:
    """The token of sign-in request ``request_id``: an HMAC of its id under the program's portal secret, so the
    request and the mail consumer make the same one without the token being stored or put in the outbox. A link
    mailed before the secret is rotated stops working, as shop links do; one mailed after is armed with the new
    secret."""
    digest = hmac.new(secret.encode(), f"sign-in-link:{request_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _active(session: Session, program_id: int, member_id: int | None) -> Member | None:
    member = members.by_id(session, program_id, member_id) if member_id is not None else None
    return member if member is not None and member.status == members.ACTIVE else None


def use_link(session: Session, program_id: int, token: str, now: datetime) -> Member:
    """The member a sign-in link belongs to; the link is spent. Unknown, used, expired or another program's links
    are all ``sign_in_link_invalid``."""
    member = _active(session, program_id, repository.use_token(session, program_id, fingerprint(token), now))
    if member is None:
        raise SignInLinkInvalid("this sign-in link is not valid any more")
    return member


def use_shop_link(
    session: Session, version: ProgramVersion, member: str, expires: int, signature: str, now: datetime
) -> Member:
    """The member a shop's signed link names, if the signature, expiry and member check out."""
    secret = portal_secret(session, version.program_id, now)
    problem = check_shop_link(secret, version.program.slug, member, expires, signature, now)
    if problem is not None:
        raise ShopLinkInvalid(f"the shop link is not valid: {problem.value.replace('_', ' ')}")
    found = members.find(session, version.program_id, member)
    active = _active(session, version.program_id, found.id if found else None)
    if active is None:
        raise ShopLinkInvalid("the shop link names no active member")
    return active


def start_session(session: Session, member: Member, now: datetime) -> str:
    """A new session for ``member``; returns the token for the cookie (only its fingerprint is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        MemberSession(
            program_id=member.program_id,
            member_id=member.id,
            token_hash=fingerprint(token),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def resume_session(session: Session, program_id: int, token: str, now: datetime) -> Member | None:
    """The active member whose live session ``token`` is; a blocked member's sessions stop working at once."""
    found = repository.live_session(session, program_id, fingerprint(token), now)
    return _active(session, program_id, found.member_id) if found is not None else None


def end_session(session: Session, program_id: int, token: str, now: datetime) -> None:
    found = repository.live_session(session, program_id, fingerprint(token), now)
    if found is not None:
        found.revoked_at = now
        session.flush()


def set_language(session: Session, member: Member, language: str, now: datetime) -> None:
    """The member's language, chosen with the portal's switch."""
    members.update(session, member, {"language": language}, now)


def update_profile(
    session: Session,
    member: Member,
    now: datetime,
    *,
    language: str,
    birth_date: date | None,
    marketing_consent: bool,
) -> None:
    changes: dict[str, object] = {
        "language": language,
        "birth_date": birth_date,
        "marketing_consent": marketing_consent,
    }
    members.update(session, member, changes, now, source="portal")


PORTAL_KEY_PREFIX = "portal:"
"""Redemption keys from the portal's forms share the member's key space with the shop's API calls; the prefix keeps a
form's key from ever matching a key the shop chose."""


def redeem(
    session: Session,
    version: ProgramVersion,
    member: Member,
    reward_code: str,
    key: str,
    now: datetime,
    lock: Lock | None,
) -> str:
    """Redeem ``reward_code`` for the member and return the coupon's code; the same form ``key`` submitted twice
    spends once and returns the same coupon. ``lock``: an offer holds the reward back from them."""
    program = version.program
    catalogue = rewards.Catalogue(version.program_id, version.version, program.rewards, program.tiers, program.zone)
    body = {"reward": reward_code}
    key = PORTAL_KEY_PREFIX + key
    outcome = rewards.redeem(session, catalogue, member, reward_code, key, request_hash(body), now, lock)
    return str(outcome.body["coupon"]["code"])


@dataclass(frozen=True)
class SignUp:
    """What a friend typed on the invitation page (already checked), and where they came from."""

    email: str
    name: str
    language: str
    marketing_consent: bool
    code: str
    """The referrer's code, from the invitation's link."""
    ip: str | None
    """The browser's address: the referral checks count sign-ups per address (``referral.checks``)."""


def join(session: Session, version: ProgramVersion, sign_up: SignUp, now: datetime) -> Member | None:
    """Enrol a friend from the invitation page, referred by ``sign_up.code``, and ask for their sign-in link.

    The enrolment is the API's (``POST /api/v1/members``): ``event.service.enrol`` with the same attributes, so the
    welcome bonus, the referral's fraud checks and ``referral.made`` happen as they do there; an unknown code is
    ``referral_code_not_found``. An address that already belongs to a member enrols nobody and only asks for that
    member's sign-in link: the caller answers the same in both cases, so the page never tells whose address it is.
    Returns the new member, or ``None`` when nobody was enrolled.
    """
    program_id = version.program_id
    enrolled = None
    if members.by_email(session, program_id, sign_up.email) is None:
        enrolled = _enrol(session, version, sign_up, _external_id(session, program_id, sign_up.email, now), now)
        if enrolled is None and members.by_email(session, program_id, sign_up.email) is None:
            # The address's id is held by a member who has changed their address since: enrol under a random one.
            enrolled = _enrol(session, version, sign_up, f"{_JOINED_PREFIX}{secrets.token_hex(8)}", now)
    request_link(session, program_id, sign_up.email, now, language=sign_up.language, source="portal")
    return enrolled


_JOINED_PREFIX = "portal-"
"""Members who join on the portal have no id of the shop's: theirs starts with this."""


def _external_id(session: Session, program_id: int, email: str, now: datetime) -> str:
    """The external id of a member joining with ``email``: fixed by the address (keyed with the portal secret, so it
    does not give the address away), so that a form sent twice at once enrols one member, not two."""
    key = portal_secret(session, program_id, now).encode()
    digest = hmac.new(key, f"joined:{email.strip().lower()}".encode(), hashlib.sha256).hexdigest()
    return f"{_JOINED_PREFIX}{digest[:16]}"


def _enrol(
    session: Session, version: ProgramVersion, sign_up: SignUp, external_id: str, now: datetime
) -> Member | None:
    """Enrol as ``POST /api/v1/members`` does; ``None`` when ``external_id`` is taken (a concurrent join)."""
    body = MemberIn(
        external_id=external_id,
        email=sign_up.email,
        name=sign_up.name,
        language=sign_up.language,
        marketing_consent=sign_up.marketing_consent,
        referred_by=sign_up.code,
        attributes={"ip": sign_up.ip} if sign_up.ip else {},
    )
    profile = members.Profile(body.email, body.name, None, body.language, body.marketing_consent)
    try:
        member, _ = events.enrol(
            session, version, external_id, profile, now, now, attributes=body.enrolment_attributes()
        )
    except MemberExists:
        return None
    return member


def sign_in_mail(program: Program, member: Member, token: str, public_url: str, language: str) -> compose.Mail:
    """The one-time sign-in link e-mail in ``language``: the language of the portal page it was asked from, or for a
    link staff send from the console the member's own. The link opens the portal in the same language."""
    ui = Translator(supported(language) or DEFAULT)
    return compose.render(
        "sign_in_link",
        to=member.email or "",
        subject=ui.t("mail.sign_in.subject", program=program.name),
        language=ui.language,
        t=ui.t,
        program=ui.text(program.name),
        link=f"{public_url.rstrip('/')}/portal/{program.slug}/auth/link?token={token}&lang={ui.language}",
        name=member.name,
    )
