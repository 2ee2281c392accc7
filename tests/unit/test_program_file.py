"""Reading program files: the demo file parses, TOML works too, and every invalid file names the field at fault."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from punchcard.celebration.domain import Gift
from punchcard.challenge import domain as challenges
from punchcard.coupon.domain import BenefitKind
from punchcard.i18n.text import Text
from punchcard.kit.calendar import Period
from punchcard.ledger.domain import PointsPolicy, ReturnPolicy
from punchcard.offer.domain import Who
from punchcard.program.errors import ProgramFileInvalid
from punchcard.program.service import parse_text
from punchcard.rules.domain import AwardFixed, AwardPerCurrencyUnit, FiredFewerThan, LineFilter, Multiply, Rounding
from punchcard.tier.domain import Metric, Window, WindowKind
from tests.challenge.games import GAMES
from tests.factories import without_engagement

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo"
DEMO_TEXT = (DEMO_DIR / "program.yaml").read_text(encoding="utf-8")
DEMO_DATA: dict[str, Any] = without_engagement(yaml.safe_load(DEMO_TEXT))
"""The demo without its engagement mechanics: each test below adds what it is about."""

Change = Callable[[dict[str, Any]], object]


def demo_with(change: Change) -> str:
    """The demo program as YAML text, after ``change`` edited a copy of its data."""
    data = copy.deepcopy(DEMO_DATA)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True)


def test_the_demo_is_the_only_program_file_in_its_folder() -> None:
    assert sorted(path.name for path in DEMO_DIR.glob("program.*")) == ["program.yaml"]


def test_the_demo_program_file_parses_into_the_documented_program() -> None:
    program = parse_text(DEMO_TEXT, "yaml").to_domain()

    assert (program.slug, program.currency, program.timezone) == ("bean-there", "EUR", "Europe/Tallinn")
    assert program.languages == ("en", "et", "fi", "sv", "ru")
    assert program.rounding is Rounding.DOWN
    assert program.points == PointsPolicy(expire_after_months=12, pending_days=0, return_policy=ReturnPolicy.UNLIMITED)

    rules = {rule.code: rule for rule in program.rules}
    assert list(rules) == [
        "coffee-beans",
        "everything-else",
        "tier-multiplier",
        "gold-merch-cashback",
        "welcome",
        "review",
    ]
    assert rules["coffee-beans"].action == AwardPerCurrencyUnit(
        Decimal(2), LineFilter(categories=frozenset({"coffee-beans"}))
    )
    assert rules["everything-else"].action == AwardPerCurrencyUnit(
        Decimal(1), LineFilter(exclude_categories=frozenset({"coffee-beans", "gift-cards"}))
    )
    assert rules["tier-multiplier"].action == Multiply("tier")
    assert (rules["welcome"].event_type, rules["welcome"].action) == ("member_enrolled", AwardFixed(Decimal(50)))
    assert rules["review"].event_type == "review_submitted"
    assert rules["review"].limit == FiredFewerThan("review", 3, Period.MONTH)

    assert program.tiers is not None
    assert program.tiers.metric is Metric.POINTS
    assert program.tiers.window == Window(WindowKind.ROLLING_MONTHS, 12)
    assert program.tiers.grace_days == 30
    assert [(t.code, t.threshold, t.multiplier) for t in program.tiers.tiers] == [
        ("bronze", 0, Decimal(1)),
        ("silver", 500, Decimal("1.25")),
        ("gold", 1500, Decimal("1.5")),
    ]
    gold = program.tiers.tiers[2]
    assert [(perk.code, perk.name.default, perk.name.in_language("et")) for perk in gold.perks] == [
        ("free_shipping", "Free shipping on every order", "Tasuta tarne igale tellimusele"),
        ("early_access", "Early access to new roasts", "Uued röstid enne teisi"),
    ]
    assert [tier.name.default for tier in program.tiers.tiers] == ["Bronze", "Silver", "Gold"]
    assert [tier.name.in_language("et") for tier in program.tiers.tiers] == ["Pronks", "Hõbe", "Kuld"]

    five_off, free_drink, free_shipping, seasonal = program.rewards
    assert (five_off.code, five_off.points_cost, five_off.coupon_valid_days) == ("five-euro-off", 500, 30)
    assert (five_off.benefit.kind, five_off.benefit.amount) == (BenefitKind.AMOUNT_OFF, Decimal("5.00"))
    assert five_off.benefit.min_order_total == Decimal("20.00")
    assert (free_drink.code, free_drink.points_cost) == ("free-drink", 150)
    assert (free_drink.benefit.kind, free_drink.benefit.sku) == (BenefitKind.FREE_PRODUCT, "DRINK-ANY")
    assert free_drink.benefit.product is not None
    assert free_drink.benefit.product.in_language("sv") == "Valfri dryck"
    assert (free_shipping.code, free_shipping.points_cost, free_shipping.min_tier) == ("free-shipping", 200, "silver")
    assert free_shipping.benefit.kind is BenefitKind.FREE_SHIPPING
    assert (seasonal.code, seasonal.points_cost, seasonal.benefit.sku) == ("seasonal-beans", 300, "BEANS-SEASONAL")


def test_the_demo_program_has_the_engagement_mechanics_the_issue_states() -> None:
    program = parse_text(DEMO_TEXT, "yaml").to_domain()

    referrals = program.referrals
    assert referrals is not None
    assert (referrals.referrer.points, referrals.referee.points) == (200, 100)
    assert (referrals.min_order_total, referrals.per_month, referrals.reverse_on_refund) == (Decimal(20), 10, True)
    assert referrals.checks.self_referral.value == "reject"
    assert program.birthday is not None
    assert (program.birthday.points, program.birthday.reward) == (100, None)
    explorer = program.challenge("explorer")
    assert explorer is not None
    assert explorer.opt_in
    assert (explorer.goal.kind, explorer.goal.target, explorer.prize.points, explorer.prize.badge) == (
        challenges.GoalKind.CATEGORIES,
        3,
        150,
        "explorer",
    )
    regular = program.streak("regular")
    assert regular is not None
    assert (regular.every.value, regular.milestone, regular.repeat, regular.prize.points) == ("month", 3, True, 100)
    (offer,) = program.offers
    assert (offer.code, offer.target_code) == ("early-beans", "seasonal-beans")
    assert offer.starts_at is not None
    assert offer.starts_at - offer.opens_for(Who("gold", frozenset())) == timedelta(hours=48)  # type: ignore[operator]
    assert offer.opens_for(Who("silver", frozenset())) == offer.starts_at


DEMO_AS_TOML = """
slug = "bean-there"
currency = "EUR"
timezone = "Europe/Tallinn"
languages = ["en", "et", "fi", "sv", "ru"]
point_value = "0.01"
rounding = "down"

[name]
en = "Bean There Coffee Roasters"
et = "Bean There kohvirööstikoda"
fi = "Bean There -kahvipaahtimo"
sv = "Bean There kafferosteri"
ru = "Кофейная обжарка Bean There"

[points]
expiry = { after_months = 12 }
pending_days = 0
return_policy = "unlimited"

[tiers]
metric = "points"
window = { kind = "rolling_months", months = 12 }
grace_days = 30

[[tiers.levels]]
code = "bronze"
name = { en = "Bronze", et = "Pronks", fi = "Pronssi", sv = "Brons", ru = "Бронза" }
threshold = 0
multiplier = 1

[[tiers.levels]]
code = "silver"
name = { en = "Silver", et = "Hõbe", fi = "Hopea", sv = "Silver", ru = "Серебро" }
threshold = 500
multiplier = 1.25

[[tiers.levels]]
code = "gold"
name = { en = "Gold", et = "Kuld", fi = "Kulta", sv = "Guld", ru = "Золото" }
threshold = 1500
multiplier = 1.5

[[tiers.levels.perks]]
code = "free_shipping"
[tiers.levels.perks.name]
en = "Free shipping on every order"
et = "Tasuta tarne igale tellimusele"
fi = "Ilmainen toimitus jokaiseen tilaukseen"
sv = "Fri frakt på alla beställningar"
ru = "Бесплатная доставка каждого заказа"

[[tiers.levels.perks]]
code = "early_access"
[tiers.levels.perks.name]
en = "Early access to new roasts"
et = "Uued röstid enne teisi"
fi = "Uudet paahdot ennen muita"
sv = "Nya rostningar före alla andra"
ru = "Ранний доступ к новой обжарке"

[[earning_rules]]
code = "coffee-beans"
name.en = "2 points per € on coffee beans"
name.et = "2 punkti iga kohviubadele kulutatud euro eest"
name.fi = "2 pistettä jokaisesta kahvipapuihin käytetystä eurosta"
name.sv = "2 poäng per € på kaffebönor"
name.ru = "2 балла за каждый € на кофейные зёрна"
when = "purchase"
priority = 20
then = { points_per_currency_unit = 2, lines = { categories = ["coffee-beans"] } }

[[earning_rules]]
code = "everything-else"
name.en = "1 point per €"
name.et = "1 punkt iga euro eest"
name.fi = "1 piste jokaisesta eurosta"
name.sv = "1 poäng per €"
name.ru = "1 балл за каждый €"
when = "purchase"
priority = 10
then = { points_per_currency_unit = 1, lines = { exclude_categories = ["coffee-beans", "gift-cards"] } }

[[earning_rules]]
code = "tier-multiplier"
name = { en = "Tier bonus", et = "Taseme boonus", fi = "Tasobonus", sv = "Nivåbonus", ru = "Бонус уровня" }
when = "purchase"
then = { multiply_by = "tier" }

[[earning_rules]]
code = "gold-merch-cashback"
name.en = "2% back on merch for Gold"
name.et = "Kuldliikmetele 2% tagasi kaupadelt"
name.fi = "Kultajäsenille 2 % takaisin tuotteista"
name.sv = "2 % tillbaka på produkter för Guld"
name.ru = "2% кешбэка на товары для уровня «Золото»"
when = "purchase"
if = { tier = ["gold"] }
then = { cashback_percent = 2, lines = { categories = ["merch"] } }

[[earning_rules]]
code = "welcome"
name.en = "Welcome bonus"
name.et = "Tervitusboonus"
name.fi = "Tervetuliaisbonus"
name.sv = "Välkomstbonus"
name.ru = "Приветственный бонус"
when = "member_enrolled"
then = { points = 50 }

[[earning_rules]]
code = "review"
name.en = "Thanks for your review"
name.et = "Aitäh arvustuse eest"
name.fi = "Kiitos arvostelustasi"
name.sv = "Tack för din recension"
name.ru = "Спасибо за отзыв"
when = "review_submitted"
limit = { times = 3, per = "month" }
then = { points = 25 }

[[rewards]]
code = "five-euro-off"
name.en = "5 € off your order"
name.et = "5 € allahindlust tellimuselt"
name.fi = "5 € alennus tilauksesta"
name.sv = "5 € rabatt på din beställning"
name.ru = "Скидка 5 € на заказ"
cost = 500
benefit = { amount_off = "5.00" }
min_order_total = "20.00"
coupon_valid_days = 30

[[rewards]]
code = "free-drink"
name.en = "A free drink"
name.et = "Tasuta jook"
name.fi = "Ilmainen juoma"
name.sv = "En gratis dryck"
name.ru = "Бесплатный напиток"
description.en = "Any drink from our coffee bar, hot or cold."
description.et = "Mis tahes jook meie kohvibaarist, kuum või külm."
description.fi = "Mikä tahansa juoma kahvibaaristamme, kuuma tai kylmä."
description.sv = "Valfri dryck från vår kaffebar, varm eller kall."
description.ru = "Любой напиток из нашего кофе-бара, горячий или холодный."
cost = 150

[rewards.benefit.free_product]
sku = "DRINK-ANY"
name = { en = "Any drink", et = "Mis tahes jook", fi = "Mikä tahansa juoma", sv = "Valfri dryck", ru = "Любой напиток" }

[[rewards]]
code = "free-shipping"
name.en = "Free shipping"
name.et = "Tasuta tarne"
name.fi = "Ilmainen toimitus"
name.sv = "Fri frakt"
name.ru = "Бесплатная доставка"
description.en = "Your next order ships free, whatever it weighs."
description.et = "Järgmine tellimus saadetakse tasuta, olenemata kaalust."
description.fi = "Seuraava tilauksesi toimitetaan ilmaiseksi painosta riippumatta."
description.sv = "Din nästa beställning skickas gratis, oavsett vikt."
description.ru = "Следующий заказ доставим бесплатно, независимо от веса."
cost = 200
benefit = { free_shipping = true }
min_tier = "silver"

[[rewards]]
code = "seasonal-beans"
name.en = "A bag of our seasonal roast"
name.et = "Kotike meie hooaja röstist"
name.fi = "Pussi kauden paahtoamme"
name.sv = "En påse av vår säsongsrostning"
name.ru = "Пачка нашей сезонной обжарки"
cost = 300
limit_per_member = 1

[rewards.benefit.free_product]
sku = "BEANS-SEASONAL"
name.en = "Seasonal roast 250 g"
name.et = "Hooaja röst 250 g"
name.fi = "Kauden paahto 250 g"
name.sv = "Säsongsrostning 250 g"
name.ru = "Сезонная обжарка 250 г"

[[surveys]]
code = "nps"
kind = "nps"
trigger = { days_after_purchase = 3, at_most_every_days = 90 }
reward_points = 20

[referrals]
referrer = { points = 200 }
referee = { points = 100 }
qualify = { on = "first_purchase", min_order_total = "20.00" }
pay = "at_once"
caps = { per_month = 10 }
on_full_refund = "reverse"
fraud_checks = { self_referral = "reject" }

[birthday]
points = 100

[[badges]]
code = "explorer"
name = { en = "Explorer", et = "Avastaja", fi = "Tutkija", sv = "Upptäckare", ru = "Исследователь" }
shape = "star"

[[badges]]
code = "regular"
name = { en = "Regular", et = "Püsikunde", fi = "Kanta-asiakas", sv = "Stamkund", ru = "Постоянный гость" }
shape = "shield"
levels = { bronze = 1, silver = 2, gold = 4 }

[[challenges]]
code = "explorer"
name = { en = "Explorer", et = "Avastaja", fi = "Tutkija", sv = "Upptäckare", ru = "Исследователь" }
description.en = "Buy from 3 different categories within 30 days of joining."
description.et = "Osta 30 päeva jooksul pärast liitumist kolmest eri kategooriast."
description.fi = "Osta kolmesta eri kategoriasta 30 päivän kuluessa liittymisestä."
description.sv = "Handla från 3 olika kategorier inom 30 dagar efter att du gått med."
description.ru = "Сделайте покупки в 3 разных категориях в течение 30 дней после участия."
goal = { categories = 3 }
window = { days = 30 }
opt_in = true
prize = { points = 150, badge = "explorer" }

[[streaks]]
code = "regular"
name = { en = "Regular", et = "Püsikunde", fi = "Kanta-asiakas", sv = "Stamkund", ru = "Постоянный гость" }
every = "month"
milestone = 3
repeat = true
prize = { points = 100, badge = "regular" }

[[segments]]
code = "bean-lovers"
name = "Ordered coffee beans 4+ times in 90 days"
when = { orders = { at_least = 4, within_days = 90, has_lines = { categories = ["coffee-beans"] } } }

[[segments]]
code = "lapsed"
name = "No order in 60 days"
when = { no_order_within_days = 60 }

[[offers]]
code = "early-beans"
name.en = "Seasonal roast, Gold first"
name.et = "Hooaja röst, kuldliikmetele esimesena"
name.fi = "Kauden paahto, Kulta-jäsenille ensin"
name.sv = "Säsongsrostning, Guld först"
name.ru = "Сезонная обжарка — сначала для уровня «Золото»"
reward = "seasonal-beans"
starts_at = 2027-01-15T09:00:00+02:00
ends_at = 2027-03-31T23:59:59+03:00
early_access = { tiers = ["gold"], hours = 48 }

[[membership_plans]]
code = "bean-club"
name = { en = "Bean Club", et = "Oaklubi", fi = "Papuklubi", sv = "Bönklubben", ru = "Клуб зёрен" }
description.en = "Double points on top of your tier, free shipping and 10% off coffee beans."
description.et = "Topeltpunktid lisaks tasemele, tasuta saatmine ja 10% soodsamad kohvioad."
description.fi = "Tuplapisteet tasosi päälle, ilmainen toimitus ja 10 % alennus kahvipavuista."
description.sv = "Dubbla poäng utöver din nivå, fri frakt och 10 % rabatt på kaffebönor."
description.ru = "Двойные баллы сверх уровня, бесплатная доставка и скидка 10% на кофейные зёрна."
prices = { month = "4.99", year = "49.00" }
trial_days = 14
grace_days = 7
perks = { earn_multiplier = 2, free_shipping = true, percent_off = { percent = 10, categories = ["coffee-beans"] } }

[gift_cards]
expire_after_months = 36
minimum_validity_months = 12
products = [{ sku = "GIFT-25", amount = "25.00" }, { sku = "GIFT-50", amount = "50.00" }]

[store_credit]
conversion = { points = 100, amount = "1.00", minimum_points = 500 }

[[causes]]
code = "baltic-sea"
name.en = "Baltic Sea Foundation"
name.et = "Läänemere Sihtasutus"
name.fi = "Itämeri-säätiö"
name.sv = "Östersjöstiftelsen"
name.ru = "Фонд Балтийского моря"
description.en = "Cleaner water for the sea our coffee crosses. Every point you give is a cent; we match it."
description.et = "Puhtam vesi merele, mille meie kohv ületab. Iga antud punkt on sent ja meie lisame sama palju."
description.fi = "Puhtaampaa vettä merelle, jonka yli kahvimme kulkee. Piste on sentti, ja me tuplaamme sen."
description.sv = "Renare vatten i havet som vårt kaffe korsar. Varje poäng du ger är en cent, och vi dubblar den."
description.ru = "Чистая вода для моря, через которое идёт наш кофе. Балл — это цент, и мы добавим столько же."
point_value = "0.01"
match = { ratio = 1, budget = "500.00", per = "month" }

[coalition]
code = "bean-and-leaf"
points_per_unit = 1
owner = { unit_value = "0.01", partners = ["leaf-and-cup"] }
"""


def test_toml_works_too_and_says_the_same_as_yaml() -> None:
    from_toml = parse_text(DEMO_AS_TOML, "toml")
    assert from_toml == parse_text(DEMO_TEXT, "yaml")
    assert from_toml.to_domain() == parse_text(DEMO_TEXT, "yaml").to_domain()


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        pytest.param(lambda d: d.update(curency="EUR"), "curency", "Extra inputs are not permitted", id="typo, top"),
        pytest.param(
            lambda d: d["earning_rules"][0].update(priorty=3),
            "earning_rules.0.priorty",
            "Extra inputs are not permitted",
            id="typo in a rule",
        ),
        pytest.param(
            lambda d: d["rewards"][2]["benefit"].update(free_shiping=True),
            "rewards.2.benefit.free_shiping",
            "Extra inputs are not permitted",
            id="typo in a benefit",
        ),
        pytest.param(lambda d: d.update(currency="eur"), "currency", "pattern", id="lower-case currency"),
        pytest.param(lambda d: d.update(currency="EURO"), "currency", "pattern", id="four-letter currency"),
        pytest.param(lambda d: d.pop("currency"), "currency", "Field required", id="missing currency"),
        pytest.param(
            lambda d: d.update(timezone="Europe/Talinn"), "timezone", "unknown time zone 'Europe/Talinn'", id="zone"
        ),
        pytest.param(lambda d: d.update(languages=[]), "languages", "at least 1", id="no languages"),
        pytest.param(lambda d: d.update(slug="Bean There"), "slug", "pattern", id="slug with spaces"),
        pytest.param(
            lambda d: d["tiers"]["levels"][1].update(threshold=2000),
            "tiers",
            "strictly ascending",
            id="tiers not ascending",
        ),
        pytest.param(
            lambda d: d["tiers"]["levels"][2].update(threshold=500),
            "tiers",
            "strictly ascending",
            id="equal thresholds",
        ),
        pytest.param(
            lambda d: d["tiers"]["levels"][0].update(threshold=10), "tiers", "threshold 0", id="first tier not 0"
        ),
        pytest.param(
            lambda d: d["tiers"]["levels"][1].update(multiplier=0),
            "tiers.levels.1.multiplier",
            "greater than 0",
            id="zero multiplier",
        ),
        pytest.param(
            lambda d: d["tiers"]["levels"][1].update(code="bronze"),
            "tiers",
            "tier codes must be unique; repeated: bronze",
            id="duplicate tier",
        ),
        pytest.param(
            lambda d: d["earning_rules"][1].update(code="coffee-beans"),
            "earning_rules",
            "earning rule codes must be unique; repeated: coffee-beans",
            id="duplicate rule",
        ),
        pytest.param(
            lambda d: d["rewards"][1].update(code="five-euro-off"),
            "rewards",
            "reward codes must be unique; repeated: five-euro-off",
            id="duplicate reward",
        ),
        pytest.param(
            lambda d: d["rewards"][2].update(min_tier="platinum"),
            "rewards",
            "min_tier 'platinum' is not one of the tiers",
            id="reward min_tier unknown",
        ),
        pytest.param(
            lambda d: (d.pop("tiers"), d["earning_rules"].pop(3)),
            "rewards",
            "min_tier 'silver' is not one of the tiers",
            id="reward min_tier without tiers",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0].update({"if": {"tier": ["platinum"]}}),
            "earning_rules",
            "unknown tier(s) platinum",
            id="rule tier unknown",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0]["then"].update(points=5),
            "earning_rules.0.then",
            "exactly one of: points, points_per_currency_unit, multiply_by",
            id="action with two kinds",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0].update(then={}),
            "earning_rules.0.then",
            "exactly one of",
            id="action with no kind",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0].update(when="refund"),
            "earning_rules.0",
            "a rule cannot be triggered by 'refund'",
            id="rule on refund",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0].update({"if": {"weekdays": ["monday"]}}),
            "earning_rules.0.if.weekdays.0",
            "'mon'",
            id="weekday spelled out",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0].update({"if": {"attributes": {"stars": {"equals": 5, "min": 4}}}}),
            "earning_rules.0.if.attributes.stars",
            "exactly one of: equals, one_of, min/max",
            id="attribute test with two kinds",
        ),
        pytest.param(
            lambda d: d["earning_rules"][4].update(limit={"times": 3, "per": "fortnight"}),
            "earning_rules.4.limit.per",
            "Input should be",
            id="unknown limit period",
        ),
        pytest.param(
            lambda d: d["earning_rules"][0]["then"].update(points_per_currency_unit=-1),
            "earning_rules.0.then.points_per_currency_unit",
            "greater than or equal to 0",
            id="negative rate",
        ),
        pytest.param(
            lambda d: d["points"].update(return_policy="sometimes"),
            "points.return_policy",
            "'unlimited', 'within_balance' or 'only_pending'",
            id="unknown return policy",
        ),
        pytest.param(
            lambda d: d["rewards"][0]["benefit"].update(percent_off=10),
            "rewards.0.benefit",
            "exactly one of: amount_off, percent_off, free_shipping, free_product",
            id="benefit with two kinds",
        ),
        pytest.param(
            lambda d: d["rewards"][0].update(benefit={"percent_off": 120}),
            "rewards.0.benefit.percent_off",
            "less than or equal to 100",
            id="more than 100 percent off",
        ),
        pytest.param(lambda d: d["rewards"][0].update(cost=0), "rewards.0.cost", "greater than 0", id="free reward"),
        pytest.param(
            lambda d: d["rewards"][0].update(name={"en": "5 € off", "de": "5 € Rabatt"}),
            "rewards.0.name",
            "de: not among the program's languages (en, et, fi, sv, ru)",
            id="text in a language the program does not have",
        ),
        pytest.param(
            lambda d: d["tiers"]["levels"][1].update(name={"et": "Hõbe"}),
            "tiers.levels.1.name",
            "give the text in en, the program's first language",
            id="text without the first language",
        ),
        pytest.param(
            lambda d: d["rewards"][1]["benefit"]["free_product"].update(name=""),
            "rewards.1.benefit.free_product.name",
            "the text is empty",
            id="free product with an empty name",
        ),
        pytest.param(
            lambda d: d.update(birthday={"days_before": 3}),
            "birthday",
            "give points, a reward, or both",
            id="birthday gift of nothing",
        ),
        pytest.param(
            lambda d: d.update(birthday={"reward": "free-coffee"}),
            "birthday",
            "reward 'free-coffee' is not one of the rewards",
            id="birthday reward not in the catalogue",
        ),
        pytest.param(
            lambda d: d.update(anniversary={"points": 100, "reward": "free-cake"}),
            "anniversary",
            "reward 'free-cake' is not one of the rewards",
            id="anniversary reward not in the catalogue",
        ),
        pytest.param(
            lambda d: d.update(birthday={"points": -1}),
            "birthday.points",
            "greater than or equal to 0",
            id="negative birthday points",
        ),
        pytest.param(
            lambda d: d.update(birthday={"points": 100, "days_before": 31}),
            "birthday.days_before",
            "less than or equal to 30",
            id="birthday a month early",
        ),
        pytest.param(
            lambda d: d.update(anniversary={"points": 100, "catch_up_days": 45}),
            "anniversary.catch_up_days",
            "less than or equal to 30",
            id="anniversary caught up too late",
        ),
        pytest.param(
            lambda d: d.update(anniversary={"points": 100, "catch_up_days": -1}),
            "anniversary.catch_up_days",
            "greater than or equal to 0",
            id="negative catch-up",
        ),
        pytest.param(
            lambda d: d.update(anniversary={"points": 100, "min_days_since_birth_date_change": 30}),
            "anniversary.min_days_since_birth_date_change",
            "Extra inputs are not permitted",
            id="birth date rule on anniversaries",
        ),
    ],
)
def test_an_invalid_file_names_the_field_and_what_is_wrong(change: Change, field: str, message_part: str) -> None:
    with pytest.raises(ProgramFileInvalid) as raised:
        parse_text(demo_with(change), "yaml")
    error = raised.value
    assert error.code == "program_file_invalid"
    assert error.status == 422
    assert len(error.details) == 1, error.details
    assert error.details[0]["field"] == field
    assert message_part in error.details[0]["message"]
    assert f"{field}: " in error.message


def test_birthday_and_anniversary_gifts_parse_with_their_defaults() -> None:
    gifts = {"birthday": {"points": 100}, "anniversary": {"reward": "free-drink", "days_before": 2, "catch_up_days": 0}}
    program = parse_text(demo_with(lambda d: d.update(gifts)), "yaml").to_domain()
    assert program.birthday == Gift(points=100, days_before=0, catch_up_days=7, min_days_since_birth_date_change=30)
    assert program.anniversary == Gift(points=0, reward="free-drink", days_before=2, catch_up_days=0)
    without = parse_text(yaml.safe_dump(DEMO_DATA), "yaml").to_domain()
    assert (without.birthday, without.anniversary) == (None, None)


def test_every_mistake_is_reported_at_once() -> None:
    def two_mistakes(data: dict[str, Any]) -> None:
        data["currency"] = "eur"
        data["earning_rules"][0]["priorty"] = 3

    with pytest.raises(ProgramFileInvalid) as raised:
        parse_text(demo_with(two_mistakes), "yaml")
    assert [detail["field"] for detail in raised.value.details] == ["currency", "earning_rules.0.priorty"]


@pytest.mark.parametrize(
    ("text", "source_format", "message_part"),
    [
        pytest.param("slug: [unclosed", "yaml", "not valid YAML", id="broken YAML"),
        pytest.param('slug = "unclosed', "toml", "not valid TOML", id="broken TOML"),
        pytest.param("- just\n- a list\n", "yaml", "mapping of settings at the top level", id="a list"),
        pytest.param("", "yaml", "mapping of settings at the top level", id="empty"),
    ],
)
def test_a_file_that_is_not_a_mapping_of_settings(text: str, source_format: str, message_part: str) -> None:
    with pytest.raises(ProgramFileInvalid) as raised:
        parse_text(text, source_format)
    assert message_part in raised.value.message


def test_a_minimal_toml_program() -> None:
    program = parse_text(
        'slug = "tea-house"\nname = "Tea House"\ncurrency = "JPY"\ntimezone = "Asia/Tokyo"\nlanguages = ["ja"]\n',
        "toml",
    ).to_domain()
    assert (program.slug, program.currency, program.timezone, program.languages) == (
        "tea-house",
        "JPY",
        "Asia/Tokyo",
        ("ja",),
    )
    assert (program.rules, program.rewards, program.tiers) == ((), (), None)
    assert program.points == PointsPolicy()  # points never expire and are available at once by default


def with_games(change: Change) -> Change:
    """The demo with the challenge, badges and streak of ``tests.challenge.games``, then ``change``."""

    def games(data: dict[str, Any]) -> None:
        data.update(copy.deepcopy(GAMES))
        change(data)

    return games


def test_challenges_badges_and_streaks_parse_into_the_program() -> None:
    june = {
        "code": "june",
        "name": "June",
        "goal": {"spend": "99.90"},
        "window": {"from": "2026-06-01", "until": "2026-06-30"},
    }
    program = parse_text(
        demo_with(with_games(lambda d: d["challenges"].append({**june, "prize": {"reward": "free-drink"}}))), "yaml"
    ).to_domain()
    explorer, spend = program.challenges
    assert (explorer.goal, explorer.window, explorer.opt_in, explorer.prize) == (
        challenges.Goal(challenges.GoalKind.CATEGORIES, 3),
        challenges.Window(challenges.WindowKind.ROLLING, days=30),
        True,
        challenges.Prize(points=150, badge="explorer"),
    )
    assert explorer.name.in_language("et") == "Avastaja"
    assert (spend.goal, spend.window.first_day, spend.window.last_day, spend.prize) == (
        challenges.Goal(challenges.GoalKind.SPEND, 9990),  # minor units
        date(2026, 6, 1),
        date(2026, 6, 30),
        challenges.Prize(reward="free-drink"),
    )
    levels = ((challenges.Finish.BRONZE, 1), (challenges.Finish.SILVER, 2), (challenges.Finish.GOLD, 4))
    assert program.badge("regular") == challenges.Badge(
        "regular", Text("Regular"), Text(""), challenges.Shape.SHIELD, levels
    )
    regular = program.streak("regular")
    assert regular is not None
    assert (regular.every, regular.milestone, regular.repeat, regular.freezes) == (challenges.Cadence.MONTH, 3, True, 0)
    assert ("challenge explorer", explorer.name) in program.texts()
    assert parse_text(yaml.safe_dump(DEMO_DATA), "yaml").to_domain().challenges == ()


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        pytest.param(
            lambda d: d["challenges"][0]["goal"].update(count=2),
            "challenges.0.goal",
            "exactly one of: count, spend, categories, skus, days",
            id="two goals",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(window={"from": "2026-06-01"}),
            "challenges.0.window",
            "a fixed window needs both from and until",
            id="fixed window without its end",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(window={"days": 30, "every": "week"}),
            "challenges.0.window",
            "give from and until, or days, or every",
            id="two windows",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(window={"from": "2026-06-30", "until": "2026-06-01"}),
            "challenges.0.window",
            "until is before from",
            id="window backwards",
        ),
        pytest.param(
            lambda d: d["challenges"][0]["prize"].update(badge="nope"),
            "challenges",
            "challenge 'explorer': badge 'nope' is not one of the badges",
            id="unknown badge",
        ),
        pytest.param(
            lambda d: d["streaks"][0]["prize"].update(reward="nope"),
            "streaks",
            "streak 'regular': reward 'nope' is not one of the rewards",
            id="unknown reward",
        ),
        pytest.param(
            lambda d: d["challenges"].append(d["challenges"][0]),
            "challenges",
            "challenge codes must be unique; repeated: explorer",
            id="duplicate challenge",
        ),
        pytest.param(
            lambda d: d["badges"].append(d["badges"][0]),
            "badges",
            "badge codes must be unique; repeated: explorer",
            id="duplicate badge",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(when="store_visit"),
            "challenges.0",
            "a spend, categories or skus goal counts purchases",
            id="categories of a custom event",
        ),
        pytest.param(
            lambda d: d["streaks"][0].update(when="store_visit", min_order="10.00"),
            "streaks.0",
            "lines and min_order apply to purchases only",
            id="minimum order of a custom event",
        ),
        pytest.param(
            lambda d: d["streaks"][0].update(when="refund"),
            "streaks.0",
            "'refund' cannot count",
            id="refunds counted",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(prize={"points": 0}),
            "challenges.0.prize",
            "give points, a reward, a badge, or several",
            id="nothing to win",
        ),
        pytest.param(
            lambda d: d["badges"][1].update(levels={"bronze": 3, "silver": 3}),
            "badges.1",
            "levels must need more times from bronze to silver to gold",
            id="levels not ascending",
        ),
        pytest.param(
            lambda d: d["badges"][0].update(shape="moon"),
            "badges.0.shape",
            "Input should be",
            id="a shape we do not draw",
        ),
        pytest.param(
            lambda d: d["challenges"][0].update(code="c" * 54),
            "challenges.0.code",
            "pattern",
            id="code too long for its points' rule code",
        ),
        pytest.param(
            lambda d: d["streaks"][0].update(milestone=0),
            "streaks.0.milestone",
            "greater than or equal to 1",
            id="milestone of nothing",
        ),
    ],
)
def test_an_invalid_challenge_badge_or_streak_names_the_field(change: Change, field: str, message_part: str) -> None:
    with pytest.raises(ProgramFileInvalid) as raised:
        parse_text(demo_with(with_games(change)), "yaml")
    assert [detail["field"] for detail in raised.value.details] == [field]
    assert message_part in raised.value.details[0]["message"]


def test_the_demo_program_sells_gift_cards_pays_gold_cashback_on_merch_converts_points_and_gives_to_the_sea() -> None:
    from punchcard.cause.domain import Matching, MatchPeriod
    from punchcard.rules.domain import TierIn
    from punchcard.wallet.domain import Cashback, Conversion, GiftCardProduct

    program = parse_text(DEMO_TEXT, "yaml").to_domain()

    assert program.gift_cards.products == (GiftCardProduct("GIFT-25", 2500), GiftCardProduct("GIFT-50", 5000))
    assert (program.gift_cards.expire_after_months, program.gift_cards.minimum_validity_months) == (36, 12)
    [cashback] = program.cashback_rules
    assert cashback.action == Cashback(Decimal(2), LineFilter(categories=frozenset({"merch"})))
    assert cashback.conditions == (TierIn(frozenset({"gold"})),)
    assert program.conversion == Conversion(100, 100, 500)
    [baltic] = program.causes
    assert (baltic.code, baltic.point_value, baltic.matching) == (
        "baltic-sea",
        Decimal("0.01"),
        Matching(Decimal(1), 50000, MatchPeriod.MONTH),
    )
