import json
from tests.factories import ApiClient, line

def show(r):
    print(r.status_code, r.text[:600])

def test_x(api: ApiClient, make_program) -> None:
    m = api.member()
    show(api.client.get(f"/api/v1/members/{m}"))
    show(api.client.get(f"/api/v1/members/{m}", headers={"Authorization": "Basic abc"}))
    show(api.client.get(f"/api/v1/members/{m}", headers={"Authorization": "Bearer nope"}))
    show(api.client.post("/api/v1/members", content=b'{"external_id": ', headers={**api.headers, "Content-Type": "application/json"}))
    show(api.post("/api/v1/members", []))
    show(api.post("/api/v1/members", {"external_id": 5}))
    show(api.post("/api/v1/members", {"external_id": "x", "nick": 5}))
    show(api.post("/api/v1/members", {}))
    r = api.purchase(m, [line("B", "coffee-beans", 12.5, 2)])
    print(r)
    big = [{"sku": "B", "category": "merch", "quantity": "999999999", "unit_price": "999999999999"}]
    r = api.post("/api/v1/events", {"id": "e-big", "type": "purchase", "member_external_id": m, "occurred_at": "2026-06-01T12:00:00+00:00", "order_id": "ob", "currency": "EUR", "lines": big})
    show(r)
    big = [{"sku": "B", "category": "merch", "quantity": "1", "unit_price": "30000000"}]
    r = api.post("/api/v1/events", {"id": "e-big2", "type": "purchase", "member_external_id": m, "occurred_at": "2026-06-01T12:00:00+00:00", "order_id": "ob2", "currency": "EUR", "lines": big})
    show(r)
    show(api.post("/api/v1/preview", {"order_id": "o", "currency": "EUR", "lines": [line("B", "coffee-beans", "10.00")]}))
    show(api.get("/api/v1/rewards", params={"member": m}))
    show(api.get(f"/api/v1/members/{m}/ledger"))
