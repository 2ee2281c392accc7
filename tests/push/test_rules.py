"""The pure rules of push, as tables: what each answer of a push service means, what becomes of a mail after its
devices answered, the VAPID claims, which device keys are usable, which endpoints we post to, and what a
notification says of a rendered mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from punchcard.mailing.channels import push_body
from punchcard.push.domain import (
    Attempt,
    Notification,
    Outcome,
    Result,
    Verdict,
    claims,
    decode,
    encode,
    key_problems,
    origin,
    outcome,
    result_of,
    retry_after,
    shorten,
)
from punchcard.push.errors import PushEndpointNotAllowed
from punchcard.push.transport import check_endpoint

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (201, Result.DELIVERED),
        (202, Result.DELIVERED),
        (200, Result.DELIVERED),
        (404, Result.GONE),
        (410, Result.GONE),
        (429, Result.TRY_AGAIN),
        (408, Result.TRY_AGAIN),
        (500, Result.TRY_AGAIN),
        (502, Result.TRY_AGAIN),
        (503, Result.TRY_AGAIN),
        (None, Result.TRY_AGAIN),  # no answer: a timeout, a refused connection
        (400, Result.REFUSED),
        (401, Result.REFUSED),
        (403, Result.REFUSED),  # a VAPID key the subscription was not made with
        (413, Result.REFUSED),
        (301, Result.REFUSED),  # redirects are not followed
    ],
)
def test_what_a_push_services_answer_means(status: int | None, result: Result) -> None:
    assert result_of(status) is result


def _attempt(number: int, status: int | None, wait: int | None = None) -> Attempt:
    result = result_of(status)
    error = "" if result is Result.DELIVERED else f"HTTP {status} from push.example"
    return Attempt(number, result, status, error, timedelta(seconds=wait) if wait else None)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([201], Outcome(Verdict.SENT)),
        ([201, 202], Outcome(Verdict.SENT)),
        ([410, 201], Outcome(Verdict.SENT, "reached 1 of 2 devices; HTTP 410 from push.example")),
        ([503, 201, 201], Outcome(Verdict.SENT, "reached 2 of 3 devices; HTTP 503 from push.example")),
        ([503], Outcome(Verdict.TRY_AGAIN, "HTTP 503 from push.example")),
        ([410, 503], Outcome(Verdict.TRY_AGAIN, "HTTP 503 from push.example")),
        ([400, 503], Outcome(Verdict.TRY_AGAIN, "HTTP 503 from push.example")),
        ([410], Outcome(Verdict.NO_DEVICE, "every device unsubscribed (the push service answered 410)")),
        ([404, 410], Outcome(Verdict.NO_DEVICE, "every device unsubscribed (the push service answered 404, 410)")),
        ([403], Outcome(Verdict.REFUSED, "HTTP 403 from push.example")),
        ([410, 400], Outcome(Verdict.REFUSED, "HTTP 400 from push.example")),
    ],
)
def test_what_becomes_of_a_mail_after_its_devices_answered(statuses: list[int], expected: Outcome) -> None:
    assert outcome([_attempt(number, status) for number, status in enumerate(statuses)]) == expected


def test_a_retry_waits_as_long_as_the_longest_retry_after() -> None:
    attempts = [_attempt(1, 429, 30), _attempt(2, 503, 600), _attempt(3, 503)]
    assert outcome(attempts).retry_after == timedelta(seconds=600)
    assert retry_after("120") == timedelta(seconds=120)
    assert retry_after("999999") == timedelta(days=1)
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert retry_after(None) is None


def test_the_vapid_claims_name_the_push_service_and_hold_for_twelve_hours() -> None:
    assert claims("https://fcm.googleapis.com/fcm/send/abc:def", "mailto:shop@example.com", NOW) == {
        "aud": "https://fcm.googleapis.com",
        "exp": int((NOW + timedelta(hours=12)).timestamp()),
        "sub": "mailto:shop@example.com",
    }
    assert origin("https://Push.Example.NET:8443/wpush/v2/x") == "https://push.example.net:8443"


@pytest.mark.parametrize(
    ("p256dh", "auth", "fields"),
    [
        (encode(b"\x04" + b"\x01" * 64), encode(b"s" * 16), []),
        (encode(b"\x04" + b"\x01" * 64) + "=", encode(b"s" * 16) + "==", []),  # padded, as some browsers send it
        (encode(b"\x02" + b"\x01" * 32), encode(b"s" * 16), ["keys.p256dh"]),  # compressed
        (encode(b"\x04" + b"\x01" * 63), encode(b"s" * 16), ["keys.p256dh"]),
        ("not+base64/url", encode(b"s" * 16), ["keys.p256dh"]),
        (encode(b"\x04" + b"\x01" * 64), encode(b"s" * 15), ["keys.auth"]),
        ("", "", ["keys.p256dh", "keys.auth"]),
    ],
)
def test_which_device_keys_can_be_encrypted_to(p256dh: str, auth: str, fields: list[str]) -> None:
    assert [problem["field"] for problem in key_problems(p256dh, auth)] == fields


def test_base64url_both_ways() -> None:
    assert decode(encode(b"\xfb\xff")) == b"\xfb\xff"
    assert encode(b"\xfb\xff") == "-_8"
    assert decode("a b") is None


@pytest.mark.parametrize(
    ("url", "allow_private", "allowed"),
    [
        ("https://93.184.215.14/push/x", False, True),
        ("https://127.0.0.1/push/x", False, False),
        ("https://10.0.0.7/push/x", False, False),
        ("https://[::ffff:127.0.0.1]/push/x", False, False),
        ("https://127.0.0.1/push/x", True, True),
        ("http://127.0.0.1:8080/push/x", True, True),  # the tests' stand-in
        ("http://127.0.0.1:8080/push/x", False, False),
        ("http://93.184.215.14/push/x", True, False),  # plain http to the internet: never
        ("ftp://127.0.0.1/push/x", True, False),
    ],
)
def test_which_endpoints_are_posted_to(url: str, allow_private: bool, allowed: bool) -> None:
    if allowed:
        check_endpoint(url, allow_private)
    else:
        with pytest.raises(PushEndpointNotAllowed):
            check_endpoint(url, allow_private)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short and sweet.", 180, "Short and sweet."),
        ("Lines\nare  joined.", 180, "Lines are joined."),
        ("one two three four", 12, "one two…"),
        ("one two, three four", 12, "one two…"),  # no dangling comma
        ("abcdefghijklmnop", 8, "abcdefg…"),  # no space to cut at
    ],
)
def test_a_body_is_one_line_cut_at_a_word(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


def test_the_notification_is_the_paragraph_after_the_greeting() -> None:
    text = "Hello Kai,\n\nYou earned 40 points.\nYou now have 90 points.\n\nOpen your card: http://shop/portal/x\n"
    skipped = {"Hello Kai,", "Hello,", "Open your card: http://shop/portal/x"}
    assert push_body(text, skipped) == "You earned 40 points. You now have 90 points."
    assert push_body("Hello Kai,\n\nOpen your card: http://shop/portal/x", skipped) == ""
    assert push_body("No greeting here.\n\nMore.", skipped) == "No greeting here."


def test_the_payload_is_the_json_the_service_worker_reads() -> None:
    shown = Notification("Teenisid 40 punkti", "Aitäh!", "https://shop/portal/x?lang=et", "mail-7", "et")
    assert (
        shown.payload()
        == (
            '{"title":"Teenisid 40 punkti","body":"Aitäh!","url":"https://shop/portal/x?lang=et","tag":"mail-7","lang":"et"}'
        ).encode()
    )


def test_a_push_that_cannot_be_signed_is_refused_for_that_device_without_stopping_the_sender() -> None:
    from punchcard.push.keys import new_pair
    from punchcard.push.transport import Device, Pusher

    device = Device(1, "https://[2001:db8::1]/push/x", encode(b"\x04" + b"\x01" * 64), encode(b"s" * 16))
    shown = Notification("Title", "Body", "https://shop/portal/x", "mail-1", "en")
    for subject in ("mailto:shop@example.com", "not an address"):
        # py_vapid takes no IPv6 literal as an audience, nor a subject that is not mailto: or https:
        [attempt] = Pusher(subject, allow_private=True).send([device], new_pair(), shown, NOW)
        assert (attempt.subscription_id, attempt.result, attempt.status_code) == (1, Result.REFUSED, None)
        assert attempt.error.startswith("cannot sign or encrypt the push: VapidException")
