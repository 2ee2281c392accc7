"""Mechanics: what reacts to a member's events, plugged into the event path instead of written into it.

A mechanic owns a section of the program file, reads the member's state it needs, decides with a pure function of
its own domain, and applies the decision through the member's account (``ledger.account``) and its own service. The
event path runs the registered mechanics in order for every event (``event.service.record``, ``event.service.enrol``);
the built-in ones are earning (``mechanics.earning``: the earning rules, welcome bonus included) and tiers
(``mechanics.tiers``). Mechanics that react later, outside the request (e-mails, webhooks, analytics), are consumers of
the outbox instead (``punchcard.consumers``). ``docs/architecture.md`` shows how to add one.
"""
