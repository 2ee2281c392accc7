"""The ways a member mail reaches the member, and what a push notification says of a mail.

A mail is written once, in the member's language, from the program's words (``service.words``, ``templates``); its
channel only decides how it goes: as an e-mail with the whole text, or as a push notification to the member's
devices with the subject as its title and the first paragraph after the greeting as its body. The same consent,
quiet hours and weekly cap hold for both; the cap counts each channel on its own, since a push and an e-mail about
the same moment are one message to the member, not two.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from punchcard.push.domain import shorten


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"


def push_body(text: str, skipped: Collection[str]) -> str:
    """The first paragraph of a rendered mail's ``text`` that is not in ``skipped`` (the greeting, the line with
    the portal's link, which the notification opens instead), on one line and shortened to about 180 characters."""
    for paragraph in (part.strip() for part in text.strip().split("\n\n")):
        if paragraph and paragraph not in skipped:
            return shorten(paragraph)
    return ""
