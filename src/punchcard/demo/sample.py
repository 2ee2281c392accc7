"""The demo's sample: members of a coffee roaster's shop and a year of what they do, generated from a fixed seed.

Pure and deterministic: the same anchor, member count and seed always give the same people, orders, refunds, reviews
and redemption wishes. Times are relative to the anchor (the start of today, UTC), so the demo always looks current.
Whether a wish to redeem comes true, and whether a coupon is used, depends on the member's balance and coupons at that
moment; ``setup`` decides that while it plays the sample through the real services.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from punchcard.demo import memberships
from punchcard.demo.memberships import MembershipMove

SEED = 20_240_301
SAMPLE_MEMBER = "demo-anna"
NEW_MEMBER = "demo-kai"
DEFAULT_MEMBERS = 300
HISTORY_DAYS = 365
FOUNDERS_EXTRA_DAYS = 90
"""A few founding members joined up to three months before the year shown, so some of their points have expired."""

FREE_SHIPPING_FROM = Decimal("40.00")
SHIPPING = Decimal("4.90")
FREE_DRINK_SKU = "DRINK-ANY"
FREE_DRINK_PRICE = Decimal("3.50")


# --- what is for sale -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    sku: str
    category: str
    price: Decimal


def _products(category: str, *items: tuple[str, str]) -> tuple[Product, ...]:
    return tuple(Product(sku, category, Decimal(price)) for sku, price in items)


BEANS_250 = _products(
    "coffee-beans",
    ("BEANS-ETHIOPIA-YIRGA-250", "12.50"),
    ("BEANS-KENYA-AA-250", "13.90"),
    ("BEANS-COLOMBIA-HUILA-250", "11.50"),
    ("BEANS-GUATEMALA-250", "12.90"),
    ("BEANS-SUMATRA-250", "12.90"),
    ("BEANS-DECAF-250", "11.90"),
    ("BEANS-RWANDA-250", "13.50"),
)
BEANS_1KG = _products(
    "coffee-beans",
    ("BEANS-HOUSE-ESPRESSO-1KG", "29.00"),
    ("BEANS-BRAZIL-SANTOS-1KG", "32.00"),
    ("BEANS-COLOMBIA-1KG", "36.00"),
)
MERCH = _products(
    "merch",
    ("MUG-ENAMEL", "9.99"),
    ("TOTE-BAG", "14.00"),
    ("TSHIRT-LOGO", "24.00"),
    ("KEEPCUP-340", "22.00"),
)
EQUIPMENT = _products(
    "equipment",
    ("FILTERS-V60-100", "6.50"),
    ("V60-DRIPPER", "24.90"),
    ("FRENCH-PRESS", "34.90"),
    ("AEROPRESS", "44.90"),
    ("SCALE-TIMER", "49.00"),
    ("GRINDER-HAND", "89.00"),
)
GIFT_CARDS = _products("gift-cards", ("GIFT-25", "25.00"), ("GIFT-50", "50.00"))
FREE_DRINK = Product(FREE_DRINK_SKU, "drinks", FREE_DRINK_PRICE)


# --- the sample -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    external_id: str
    name: str
    email: str
    language: str
    birth_date: date | None
    marketing_consent: bool
    enrolled_at: datetime


@dataclass(frozen=True)
class Item:
    sku: str
    category: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Enrolment:
    at: datetime
    person: Person
    invited_by: str | None = None
    """The member whose referral link the person followed (their external id)."""


@dataclass(frozen=True)
class ChallengeJoin:
    at: datetime
    member: str
    challenge: str


@dataclass(frozen=True)
class Purchase:
    at: datetime
    member: str
    order_id: str
    items: tuple[Item, ...]
    shipping: Decimal
    coupon_roll: float
    """Below ``COUPON_USE_CHANCE`` the member uses a coupon they hold, if it applies to this order."""

    @property
    def merchandise(self) -> Decimal:
        return sum((item.unit_price * item.quantity for item in self.items), Decimal(0))


@dataclass(frozen=True)
class Refund:
    at: datetime
    member: str
    order_id: str
    event_id: str
    items: tuple[tuple[str, int], ...] | None  # (sku, quantity) given back, or ...
    amount: Decimal | None  # ... an amount of money


@dataclass(frozen=True)
class Review:
    at: datetime
    member: str
    event_id: str
    sku: str
    rating: int


@dataclass(frozen=True)
class RedemptionWish:
    """The member would like one of ``rewards`` (in order of preference) if they can afford it."""

    at: datetime
    member: str
    rewards: tuple[str, ...]
    key: str


Operation = Enrolment | ChallengeJoin | MembershipMove | Purchase | Refund | Review | RedemptionWish

COUPON_USE_CHANCE = 0.75


@dataclass(frozen=True)
class Sample:
    people: tuple[Person, ...]
    operations: tuple[Operation, ...]
    """Every operation, oldest first; a member's enrolment always comes before anything they do."""


# --- names ------------------------------------------------------------------------------------------------------------

# language: (weight, female first names, male first names, surnames as (female, male))
_Names = tuple[int, tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]


def _names(weight: int, female: str, male: str, surnames: str) -> _Names:
    """Names from space-separated words; a surname ``Ivanova/Ivanov`` has a female and a male form."""
    forms = tuple((name.split("/") * 2)[:2] for name in surnames.split())
    return weight, tuple(female.split()), tuple(male.split()), tuple((f, m) for f, m in forms)


_NAMES: dict[str, _Names] = {
    "et": _names(
        45,
        "Mari Kadri Liis Kertu Triin Maarja Anu Kristiina Piret Helen Kätlin Eha Merle Getter Sirje Laura",
        "Jaan Tõnu Mart Rasmus Siim Priit Andres Margus Kristjan Indrek Jüri Toomas Urmas Karl Ott Madis",
        "Tamm Saar Sepp Mägi Kask Kukk Rebane Ilves Pärn Koppel Lepp Kuusk Karu Raud Vaher Kõiv Lill Org Põder Luik "
        "Kallas Mets Sild Oja",
    ),
    "ru": _names(
        20,
        "Anastasia Olga Tatjana Natalja Jekaterina Irina Svetlana Maria Julia Jelena",
        "Dmitri Sergei Aleksei Andrei Ivan Mihhail Nikolai Pavel Vladimir Roman",
        "Ivanova/Ivanov Smirnova/Smirnov Kuznetsova/Kuznetsov Popova/Popov Vassiljeva/Vassiljev Petrova/Petrov "
        "Sokolova/Sokolov Volkova/Volkov Fjodorova/Fjodorov Morozova/Morozov Orlova/Orlov Belova/Belov",
    ),
    "fi": _names(
        15,
        "Aino Helmi Emma Sofia Laura Johanna Veera Liisa Sanna Elina",
        "Mikko Juha Matti Antti Jussi Teemu Eero Ville Timo Janne",
        "Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen Lehtonen Lehtinen "
        "Salonen Saarinen",
    ),
    "en": _names(
        12,
        "Olivia Emily Charlotte Grace Sophie Hannah Chloe Lucy",
        "Jack Oliver Thomas James Daniel Samuel Liam George",
        "Smith Jones Taylor Brown Williams Wilson Evans Roberts Walker Wright Hughes Murphy",
    ),
    "sv": _names(
        8,
        "Elsa Alice Maja Ebba Astrid Wilma Karin Ingrid",
        "Erik Lars Johan Oskar Axel Nils Gustav Anders",
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Lindqvist Berg Lindström",
    ),
}
_ASCII = str.maketrans({"õ": "o", "ä": "a", "ö": "o", "ü": "u", "å": "a", "š": "s", "ž": "z"})


def _ascii(text: str) -> str:
    return text.lower().translate(_ASCII)


def _email(rng: random.Random, first: str, last: str, birth: date | None, taken: set[str]) -> str:
    f, s = _ascii(first), _ascii(last)
    shapes = [f"{f}.{s}", f"{f}{s}", f"{f[0]}.{s}", f"{f}.{s}{birth.year % 100:02d}" if birth else f"{s}.{f}"]
    local = rng.choice(shapes)
    candidate, n = f"{local}@example.com", 1
    while candidate in taken:
        n += 1
        candidate = f"{local}{n}@example.com"
    taken.add(candidate)
    return candidate


# --- how people shop --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    name: str
    weight: int
    gap_days: tuple[float, float, float]  # mean, spread, minimum between orders
    max_orders: int
    review_chance: float


PERSONAS = (
    Persona("browser", 8, (120, 30, 60), 1, 0.1),
    Persona("occasional", 40, (75, 25, 20), 99, 0.15),
    Persona("regular", 34, (30, 7, 12), 99, 0.2),
    Persona("enthusiast", 13, (24, 6, 10), 99, 0.35),
    Persona("office", 4, (14, 4, 6), 99, 0.05),
)

REWARD_PREFERENCES = (
    ("five-euro-off", "free-drink"),
    ("five-euro-off",),
    ("free-drink",),
    ("free-shipping", "five-euro-off"),
    ("free-drink", "five-euro-off"),
)


def _pick(rng: random.Random, products: Sequence[Product], items: dict[str, Item], quantity: int = 1) -> None:
    product = rng.choice(products)
    already = items.get(product.sku)
    items[product.sku] = Item(
        product.sku, product.category, quantity + (already.quantity if already else 0), product.price
    )


def _basket(rng: random.Random, persona: Persona) -> tuple[Item, ...]:
    items: dict[str, Item] = {}
    if rng.random() < 0.02:  # a present for someone
        _pick(rng, GIFT_CARDS, items)
        return tuple(items.values())
    if persona.name == "office":
        for _ in range(rng.randint(2, 3)):
            _pick(rng, BEANS_1KG, items)
    elif persona.name == "enthusiast":
        for _ in range(rng.randint(2, 3)):
            _pick(rng, BEANS_250, items)
        if rng.random() < 0.3:
            _pick(rng, BEANS_1KG, items)
    elif persona.name == "regular":
        if rng.random() < 0.25:
            _pick(rng, BEANS_1KG, items)
        else:
            for _ in range(rng.randint(2, 3)):
                _pick(rng, BEANS_250, items)
    else:
        for _ in range(rng.randint(1, 2)):
            _pick(rng, BEANS_250, items)
    if rng.random() < 0.10:
        _pick(rng, MERCH, items)
    if rng.random() < (0.15 if persona.name == "enthusiast" else 0.06):
        _pick(rng, EQUIPMENT, items)
    if rng.random() < 0.03:
        _pick(rng, GIFT_CARDS, items)
    return tuple(items.values())


def shipping_for(items: Sequence[Item]) -> Decimal:
    merchandise = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    return Decimal("0.00") if merchandise >= FREE_SHIPPING_FROM else SHIPPING


def _daytime(rng: random.Random, anchor: datetime, days_ago: int) -> datetime:
    """A moment during shop hours (08:00-22:00 in Tallinn, roughly) ``days_ago`` days before the anchor."""
    return anchor - timedelta(days=days_ago) + timedelta(seconds=rng.randint(6 * 3600, 19 * 3600))


# --- one member's plan ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FollowUp:
    """Something a member does after an order: ask for a refund, review it, or wish for a reward."""

    kind: str  # "refund", "review" or "wish"
    days: int  # after the order (0: right after checkout)
    items: tuple[tuple[str, int], ...] | None = None
    amount: Decimal | None = None
    rating: int = 5
    rewards: tuple[str, ...] = ()


@dataclass
class _Draft:
    """An order before orders are numbered; ``script`` replaces the random follow-ups (the fixed demo member)."""

    at: datetime
    items: tuple[Item, ...]
    coupon_roll: float
    persona: Persona | None = None
    script: list[_FollowUp] = field(default_factory=list)


@dataclass
class _Plan:
    person: Person
    drafts: list[_Draft]


def _random_plan(rng: random.Random, anchor: datetime, taken: set[str]) -> _Plan:
    language = rng.choices(list(_NAMES), weights=[spec[0] for spec in _NAMES.values()])[0]
    _, female, male, surnames = _NAMES[language]
    is_female = rng.random() < 0.55
    first = rng.choice(female if is_female else male)
    last = rng.choice(surnames)[0 if is_female else 1]
    birth: date | None = None
    if rng.random() < 0.75:
        year = min(max(round(rng.gauss(1984, 11)), 1945), 2006)
        birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    founder = rng.random() < 0.15
    days_ago = rng.randint(HISTORY_DAYS + 1, HISTORY_DAYS + FOUNDERS_EXTRA_DAYS) if founder else rng.randint(1, 364)
    enrolled_at = _daytime(rng, anchor, days_ago)
    person = Person(
        external_id="",
        name=f"{first} {last}",
        email=_email(rng, first, last, birth, taken),
        language=language,
        birth_date=birth,
        marketing_consent=rng.random() < 0.6,
        enrolled_at=enrolled_at,
    )
    persona = rng.choices(PERSONAS, weights=[p.weight for p in PERSONAS])[0]
    churns_at = anchor
    if persona.name != "browser" and rng.random() < 0.15:
        churns_at = enrolled_at + (anchor - enrolled_at) * rng.uniform(0.2, 0.8)
    drafts: list[_Draft] = []
    if persona.name == "browser" and rng.random() < 0.5:
        return _Plan(person, drafts)
    if rng.random() < 0.65:
        at = enrolled_at + timedelta(minutes=rng.randint(3, 40))
    else:
        at = enrolled_at + timedelta(days=rng.uniform(1, 20))
    mean, spread, minimum = persona.gap_days
    while at < churns_at and at < anchor and len(drafts) < persona.max_orders:
        drafts.append(_Draft(at, _basket(rng, persona), rng.random(), persona))
        at += timedelta(days=max(rng.gauss(mean, spread), minimum), seconds=rng.randint(-3 * 3600, 3 * 3600))
    return _Plan(person, drafts)


def _anna(anchor: datetime) -> _Plan:
    """The fixed demo member: a Silver regular with a refund, a coupon she used and one she still holds. Her first
    points expire within the week and today is her birthday, so the demo's mail catcher shows both mails."""
    rng = random.Random(SEED + 1)
    person = Person(
        external_id=SAMPLE_MEMBER,
        name="Anna Tamm",
        email="anna@example.com",
        language="et",
        birth_date=date(1988, anchor.month, anchor.day),  # 1988 is a leap year: 29 February is a birthday too
        marketing_consent=True,
        enrolled_at=anchor - timedelta(days=359) + timedelta(hours=7, minutes=12),
    )
    ethiopia, kenya, colombia, guatemala = BEANS_250[0], BEANS_250[1], BEANS_250[2], BEANS_250[3]
    espresso_1kg, mug, dripper = BEANS_1KG[0], MERCH[0], EQUIPMENT[1]

    def basket(*products: tuple[Product, int]) -> tuple[Item, ...]:
        return tuple(Item(p.sku, p.category, quantity, p.price) for p, quantity in products)

    usual = [basket((ethiopia, 1), (kenya, 1)), basket((colombia, 2)), basket((guatemala, 1), (ethiopia, 1))]
    days = [359, 296, 271, 249, 226, 203, 181, 158, 136, 112, 90, 67, 45, 24, 9]
    drafts = [
        _Draft(_daytime(rng, anchor, d) if i else person.enrolled_at + timedelta(minutes=25), usual[i % 3], 1.0)
        for i, d in enumerate(days)
    ]
    drafts[2].items = basket((ethiopia, 1), (kenya, 1), (mug, 1))
    drafts[2].script.append(_FollowUp("refund", 5, items=(("MUG-ENAMEL", 1),)))  # the mug arrived chipped
    drafts[6].items = basket((espresso_1kg, 1), (dripper, 1))
    for index in (1, 4, 7, 11):
        drafts[index].script.append(_FollowUp("review", 6, rating=5))
    drafts[8].script.append(_FollowUp("wish", 0, rewards=("five-euro-off",)))
    drafts[9].coupon_roll = 0.0  # she uses the five-euro coupon on her next order
    drafts[14].script.append(_FollowUp("wish", 0, rewards=("free-drink",)))  # and still holds a free drink
    return _Plan(person, drafts)


def _kai(anchor: datetime) -> _Plan:
    """A new member who joined yesterday and stocked up for his café at once: the demo's mail catcher shows his
    welcome, his points and his move up to Silver."""
    person = Person(
        external_id=NEW_MEMBER,
        name="Kai Virtanen",
        email="kai@example.com",
        language="fi",
        birth_date=None,
        marketing_consent=True,
        enrolled_at=anchor - timedelta(days=1) + timedelta(hours=9, minutes=5),
    )
    colombia, brazil, aeropress = BEANS_1KG[2], BEANS_1KG[1], EQUIPMENT[3]
    items = tuple(
        Item(p.sku, p.category, quantity, p.price) for p, quantity in ((colombia, 4), (brazil, 3), (aeropress, 1))
    )
    return _Plan(person, [_Draft(person.enrolled_at + timedelta(minutes=20), items, 1.0)])


# --- the whole sample -------------------------------------------------------------------------------------------------


def generate(anchor: datetime, members: int = DEFAULT_MEMBERS, seed: int = SEED) -> Sample:
    """``members`` people (the fixed demo member first) and everything they do until ``anchor``, oldest first."""
    rng = random.Random(seed)
    taken = {"anna@example.com", "kai@example.com"}
    fixed = [_anna(anchor), _kai(anchor)][:members]
    plans = fixed + [_random_plan(rng, anchor, taken) for _ in range(max(members - len(fixed), 0))]
    # Shop ids in order of joining, like a real shop's customer numbers.
    others = sorted(plans[len(fixed) :], key=lambda plan: plan.person.enrolled_at)
    for number, plan in enumerate(others, start=10_001):
        plan.person = replace(plan.person, external_id=f"cust-{number}")
    operations: list[Operation] = [*_enrolments(plans, len(fixed), seed), *_explorers(others, anchor, seed)]
    joiners = [(plan.person.external_id, plan.person.enrolled_at) for plan in others]
    operations += memberships.moves(joiners, anchor, seed, member_of_the_club=SAMPLE_MEMBER) if fixed else []
    drafts = sorted(
        ((draft, plan.person.external_id) for plan in plans for draft in plan.drafts),
        key=lambda pair: (pair[0].at, pair[1]),
    )
    counters = {"review": 0, "wish": 0}
    for number, (draft, member) in enumerate(drafts, start=100_001):
        purchase = Purchase(draft.at, member, f"BT-{number}", draft.items, shipping_for(draft.items), draft.coupon_roll)
        operations.append(purchase)
        follow_ups = draft.script if draft.persona is None else _random_follow_ups(rng, draft.persona, purchase)
        for follow_up in follow_ups:
            at = purchase.at + (timedelta(days=follow_up.days, hours=2) if follow_up.days else timedelta(minutes=2))
            if at >= anchor:
                continue
            if follow_up.kind == "refund":
                operations.append(
                    Refund(
                        at, member, purchase.order_id, f"refund-{purchase.order_id}", follow_up.items, follow_up.amount
                    )
                )
            elif follow_up.kind == "review":
                counters["review"] += 1
                sku = next((i.sku for i in purchase.items if i.category == "coffee-beans"), purchase.items[0].sku)
                operations.append(Review(at, member, f"review-{counters['review']}", sku, follow_up.rating))
            else:
                counters["wish"] += 1
                operations.append(RedemptionWish(at, member, follow_up.rewards, f"demo-redemption-{counters['wish']}"))
    kinds = (Enrolment, ChallengeJoin, MembershipMove, Purchase, Refund, Review, RedemptionWish)
    operations.sort(key=lambda op: (op.at, kinds.index(type(op))))
    people = tuple(plan.person for plan in plans)
    return Sample(people, tuple(operations))


INVITED_SHARE = 0.12
"""About one in eight members joined through another member's referral link."""
EXPLORER_SHARE = 0.2
"""About one in five joined the ``explorer`` challenge, a few days after they enrolled."""


def _enrolments(plans: Sequence[_Plan], fixed: int, seed: int) -> list[Enrolment]:
    """Everyone's enrolment; some of the sample's own people were invited by one who joined before them. A random
    stream of its own, so the rest of the sample is what it was before referrals."""
    rng = random.Random(seed + 1)
    fixed_ids = {plan.person.external_id for plan in plans[:fixed]}
    joined: list[str] = []
    found = []
    for plan in sorted(plans, key=lambda plan: plan.person.enrolled_at):
        person = plan.person
        invited = len(joined) >= 10 and person.external_id not in fixed_ids and rng.random() < INVITED_SHARE
        found.append(Enrolment(person.enrolled_at, person, rng.choice(joined) if invited else None))
        joined.append(person.external_id)
    return found


def _explorers(plans: Sequence[_Plan], anchor: datetime, seed: int) -> list[ChallengeJoin]:
    rng = random.Random(seed + 2)
    joins = [
        ChallengeJoin(plan.person.enrolled_at + timedelta(days=rng.randint(1, 10)), plan.person.external_id, "explorer")
        for plan in plans
        if rng.random() < EXPLORER_SHARE
    ]
    return [join for join in joins if join.at < anchor]


def _random_follow_ups(rng: random.Random, persona: Persona, purchase: Purchase) -> list[_FollowUp]:
    follow_ups: list[_FollowUp] = []
    if rng.random() < 0.05:
        items, amount = _refund_of(rng, purchase)
        follow_ups.append(_FollowUp("refund", rng.randint(2, 21), items=items, amount=amount))
    if rng.random() < persona.review_chance:
        follow_ups.append(_FollowUp("review", rng.randint(4, 14), rating=rng.choice((3, 4, 4, 5, 5, 5))))
    if rng.random() < 0.3:
        follow_ups.append(_FollowUp("wish", 0, rewards=rng.choice(REWARD_PREFERENCES)))
    return follow_ups


def _refund_of(rng: random.Random, purchase: Purchase) -> tuple[tuple[tuple[str, int], ...] | None, Decimal | None]:
    """A partial refund by lines, a full one by lines, or a refund of an amount (part or all of what was paid)."""
    items = purchase.items
    roll = rng.random()
    if roll < 0.45 and (len(items) > 1 or items[0].quantity > 1):
        item = rng.choice(items)
        quantity = 1 if len(items) == 1 or rng.random() < 0.7 else item.quantity
        return ((item.sku, quantity),), None
    if roll < 0.8:
        return tuple((item.sku, item.quantity) for item in items), None
    paid = purchase.merchandise + purchase.shipping
    if rng.random() < 0.5:
        return None, paid
    return None, (purchase.merchandise * Decimal(str(round(rng.uniform(0.2, 0.6), 2)))).quantize(Decimal("0.01"))


# --- survey answers ---------------------------------------------------------------------------------------------------

ANSWER_CHANCE = 0.45
"""The share of survey invitations a sample member answers."""
_COMMENTS = {
    "promoter": {
        "en": ("The Ethiopian roast is the best I have had.", "Fast delivery and lovely packaging."),
        "et": ("Etioopia röst on parim, mida olen joonud.", "Kiire tarne ja ilus pakend."),
        "fi": ("Etiopialainen paahto on paras, jota olen juonut.", "Nopea toimitus ja kaunis pakkaus."),
        "sv": ("Den etiopiska rostningen är den bästa jag har druckit.", "Snabb leverans och fin förpackning."),
        "ru": ("Эфиопская обжарка лучшая из всех, что я пробовал.", "Быстрая доставка и красивая упаковка."),
    },
    "passive": {
        "en": ("Good coffee, but shipping is a bit expensive.", ""),
        "et": ("Hea kohv, aga tarne on veidi kallis.", ""),
        "fi": ("Hyvää kahvia, mutta toimitus on hieman kallis.", ""),
        "sv": ("Gott kaffe, men frakten är lite dyr.", ""),
        "ru": ("Хороший кофе, но доставка дороговата.", ""),
    },
    "detractor": {
        "en": ("My parcel arrived a week late.", "The grind was too coarse for my espresso machine."),
        "et": ("Pakk jõudis nädal hiljem kohale.", "Jahvatus oli mu espressomasina jaoks liiga jäme."),
        "fi": ("Pakettini tuli viikon myöhässä.", "Jauhatus oli liian karkea espressokoneelleni."),
        "sv": ("Mitt paket kom en vecka för sent.", "Malningen var för grov för min espressomaskin."),
        "ru": ("Посылка пришла на неделю позже.", "Помол был слишком крупным для моей кофемашины."),
    },
}


def survey_answer(seed: int, invitation_id: int, language: str) -> tuple[int, str] | None:
    """Whether a sample member answers an NPS invitation, and with what score and words (``None``: no answer);
    the same seed and invitation give the same answer. Most answer well, some are lukewarm, a few unhappy."""
    rng = random.Random(f"{seed}-survey-{invitation_id}")
    if rng.random() >= ANSWER_CHANCE:
        return None
    group = rng.choices(("promoter", "passive", "detractor"), weights=(55, 30, 15))[0]
    score = {"promoter": rng.choice((9, 10, 10)), "passive": rng.choice((7, 8)), "detractor": rng.randint(2, 6)}[group]
    words = _COMMENTS[group].get(language, _COMMENTS[group]["en"])
    comment = rng.choice(words) if rng.random() < 0.6 else ""
    return score, comment
