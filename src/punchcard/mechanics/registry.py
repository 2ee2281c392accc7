"""The mechanics of this installation, in the order they run for each event.

A new mechanic is a package of its own that is added here (or, for a trial or a test, with ``MECHANICS.added``);
nothing in the event path, the ledger or the importer changes.
"""

from punchcard.mechanics.affordability import Affordability
from punchcard.mechanics.base import Registry
from punchcard.mechanics.earning import Earning
from punchcard.mechanics.tiers import Tiers

MECHANICS = Registry()
MECHANICS.add(Earning())
MECHANICS.add(Tiers())  # after earning: tiers count what was earned
MECHANICS.add(Affordability())  # after both: the balance they leave, the tier they give
