"""A first walk through the demo program: enrol, buy, refund, redeem, use the coupon."""

from tests.factories import ApiClient, earned, line, reversed_points


def test_the_demo_program_end_to_end(api: ApiClient) -> None:
    member = api.member(email="ann@example.com")
    assert api.available(member) == 50
    response = api.purchase(
        member,
        [line("BEANS-1", "coffee-beans", "12.50", 2), line("MUG", "merch", "9.99")],
        order_id="O-1",
        shipping="4.90",
    )
    assert earned(response) == 59
    assert api.available(member) == 109
    refund = api.refund(member, "O-1", refund_lines=[{"sku": "MUG", "quantity": 1}])
    assert reversed_points(refund) == 9
    assert api.available(member) == 100
    redemption = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "r1"}
    )
    assert redemption.status_code == 422, redemption.text
