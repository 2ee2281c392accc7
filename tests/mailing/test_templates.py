"""Mail templates: ours say something in every language for every mail, and a marketer's template may name only
its mail's placeholders, in the sandbox, or it is refused with a message that says what is wrong."""

from __future__ import annotations

import pytest

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.mailing.domain import PLACEHOLDERS, MailKind
from punchcard.mailing.templates import Frame, Words, default, problems, render

FRAME = Frame("Bean There", "#6b3e26", "https://shop.example/portal/bean-there", "Open", "Why", None, "Unsub", "en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MailKind))
def test_our_words_for_every_mail_in_every_language_render(kind: MailKind, language: str) -> None:
    words = default(kind, language)
    assert problems(kind, words) == []
    rendered = render(words, {name: f"<{name}>" for name in PLACEHOLDERS[kind]}, FRAME)
    assert rendered.subject
    assert "<greeting>" in rendered.text
    assert "&lt;greeting&gt;" in rendered.html  # values are escaped in the HTML part


@pytest.mark.parametrize(
    ("words", "field", "message"),
    [
        (Words("Hi {{ nmae }}", "x"), "subject", "unknown placeholder {{ nmae }}"),
        (Words("Hi", "{{ points }}"), "body", "unknown placeholder {{ points }}; this mail has {{ balance }}"),
        (Words("Hi", "{% if %}"), "body", "line 1:"),
        (Words("", "x"), "subject", "must not be empty"),
        (Words("Hi", "{{ name.__class__ }}"), "body", "cannot be used"),
    ],
)
def test_a_template_that_names_what_its_mail_has_not_is_refused(words: Words, field: str, message: str) -> None:
    [problem] = problems(MailKind.WELCOME, words)
    assert problem["field"] == field
    assert message in problem["message"]


def test_a_marketing_mail_ends_with_its_unsubscribe_link_in_both_parts() -> None:
    frame = Frame("Bean There", "#6b3e26", "https://p", "Open", "You agreed.", "https://u/1", "Unsubscribe", "en")
    rendered = render(Words("S", "Line one\nline two\n\nSecond"), {}, frame)
    assert rendered.text == "Line one\nline two\n\nSecond\n\nOpen: https://p\n\n--\nYou agreed.\nhttps://u/1\n"
    assert '<a href="https://u/1"' in rendered.html
    assert "Line one<br>line two" in rendered.html
