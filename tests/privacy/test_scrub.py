"""What erasure leaves of a copy of the member's data (``kit.personal.Erasure``): the fields an event declares
personal set to null, and the member's values replaced where they stand as words, but not inside other words or
numbers."""

from __future__ import annotations

from punchcard.kit.personal import ERASED, Erasure, Subject
from punchcard.member.domain import MemberEnrolled  # noqa: F401 (registers the member events' types)
from tests.clock import NOW

ERASURE = Erasure(Subject(1, 7, "42"), "erased-abc", ("kai@example.com", "Kai Virtanen"), NOW)


def test_values_are_replaced_where_they_stand_as_words_in_any_string_of_a_json_value() -> None:
    stored = {
        "message": "member '42' is blocked",
        "to": ["KAI@example.com"],
        "note": "Kai Virtanen asked.",
        "amount": "42.50",
        "order": "O-420",
        "points": 42,
    }
    assert ERASURE.scrub(stored) == {
        "message": "member 'erased-abc' is blocked",
        "to": [ERASED],
        "note": f"{ERASED} asked.",
        "amount": "42.50",
        "order": "O-420",
        "points": 42,
    }


def test_an_event_loses_the_fields_its_type_declares_personal_even_values_the_member_no_longer_has() -> None:
    enrolled = {"email": "old@example.com", "name": "Old Name", "birth_date": "1961-11-30", "language": "fi"}
    updated = {"changes": {"email": "older@example.com", "status": "blocked"}}
    assert ERASURE.payload("member.enrolled", enrolled) == {
        "email": None,
        "name": None,
        "birth_date": None,
        "language": "fi",
    }
    assert ERASURE.payload("member.updated", updated) == {"changes": {"email": None, "status": "blocked"}}
    assert ERASURE.payload("points.earned", {"points": 42, "cause": "Kai Virtanen"}) == {"points": 42, "cause": ERASED}
