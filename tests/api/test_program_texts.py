"""Program texts members read come back in their language: the API answers in the language asked for (``?lang=``,
then ``Accept-Language``), else in the member's own for a response about them, else in the program's first; a text
with no translation falls back to the first language, never to nothing."""

from __future__ import annotations

from typing import Any

from tests.factories import ApiClient, ProgramMaker, line


def tier_name(api: ApiClient, member: str, **request: Any) -> str:
    response = api.get(f"/api/v1/members/{member}", **request)
    assert response.status_code == 200, response.text
    return str(response.json()["tier"]["name"])


def test_the_member_view_speaks_the_language_asked_for_then_the_members_own_then_the_programs(api: ApiClient) -> None:
    member = api.member(language="sv")
    assert tier_name(api, member) == "Brons"  # the member's own language
    assert tier_name(api, member, params={"lang": "et"}) == "Pronks"
    assert tier_name(api, member, headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"}) == "Pronssi"
    assert tier_name(api, member, params={"lang": "ru"}, headers={"Accept-Language": "fi"}) == "Бронза"
    assert tier_name(api, member, params={"lang": "de"}) == "Brons"  # not a language of the program: the member's
    assert tier_name(api, api.member(language="de")) == "Bronze"  # the program's first language


def test_the_catalogue_names_rewards_and_free_products_in_the_language_asked_for(api: ApiClient) -> None:
    response = api.get("/api/v1/rewards", params={"lang": "et"})
    assert response.status_code == 200, response.text
    drink = next(item for item in response.json()["items"] if item["code"] == "free-drink")
    assert (drink["name"], drink["description"]) == ("Tasuta jook", "Mis tahes jook meie kohvibaarist, kuum või külm.")
    assert (drink["benefit"]["sku"], drink["benefit"]["product"]) == ("DRINK-ANY", "Mis tahes jook")


def test_a_text_without_a_translation_falls_back_to_the_programs_first_language(make_program: ProgramMaker) -> None:
    api = make_program(
        {"rewards": [{"code": "mug", "name": {"en": "A mug"}, "cost": 10, "benefit": {"free_product": "MUG"}}]}
    )
    [mug] = api.get("/api/v1/rewards", params={"lang": "fi"}).json()["items"]
    assert (mug["name"], mug["benefit"]["product"]) == ("A mug", None)


def test_a_coupon_keeps_its_free_products_name_and_shows_it_in_the_members_language(api: ApiClient) -> None:
    member = api.member(language="ru")
    api.purchase(member, [line("KETTLE", "brewing", "150.00")])
    redeemed = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k-ru"}
    )
    assert redeemed.status_code == 201, redeemed.text
    [coupon] = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert coupon["benefit"]["product"] == "Любой напиток"
    code = coupon["code"]
    assert api.get(f"/api/v1/coupons/{code}", params={"lang": "sv"}).json()["benefit"]["product"] == "Valfri dryck"


def test_the_api_document_declares_the_language_a_client_may_ask_for(api: ApiClient) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/v1/members/{external_id}", "get"),
        ("/api/v1/rewards", "get"),
        ("/api/v1/preview", "post"),
    ]:
        declared = {(parameter["in"], parameter["name"]) for parameter in paths[path][method]["parameters"]}
        assert {("query", "lang"), ("header", "accept-language")} <= declared, path
