"""The mechanics of this installation, in the order they run for each event.

A new mechanic is a package of its own that is added here (or, for a trial or a test, with ``MECHANICS.added``);
nothing in the event path, the ledger or the importer changes.
"""

from punchcard.mechanics.affordability import Affordability
from punchcard.mechanics.base import Registry
from punchcard.mechanics.cashback import CashbackMechanic
from punchcard.mechanics.challenges import Challenges
from punchcard.mechanics.earning import Earning
from punchcard.mechanics.gift_card_sales import GiftCardSales
from punchcard.mechanics.memberships import Memberships
from punchcard.mechanics.referrals import ReferralMechanic
from punchcard.mechanics.tiers import Tiers

MECHANICS = Registry()
MECHANICS.add(Earning())
MECHANICS.add(Tiers())  # after earning: tiers count what was earned
MECHANICS.add(Affordability())  # after both: the balance they leave, the tier they give
# Before tiers, which read the balance the event answers with: a friend's referral points are part of it.
MECHANICS.add(ReferralMechanic(), before="tiers", live_only=True)
# Before tiers too, for the same reason: a completed challenge's points are part of the answer's balance.
MECHANICS.add(Challenges(), before="tiers", live_only=True)
# First: a membership event's earning rules (points for renewing) see the membership it makes.
MECHANICS.add(Memberships(), before="earning", live_only=True)
# After earning, whose evaluation carries the cashback rules' grants; live only: imported orders pay no cashback.
MECHANICS.add(CashbackMechanic(), before="tiers", live_only=True)
# Last among the live ones: a gift card a purchase sells changes nothing the others decide.
MECHANICS.add(GiftCardSales(), live_only=True)
