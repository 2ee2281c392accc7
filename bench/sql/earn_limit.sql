-- The earn-limit baseline: an earn's statements, as Punchcard runs them on its own schema, in one server-side
-- function, so that pgbench (a C client, no application, one round trip per earn) measures what this machine can do
-- for this work at best. Same tables, indexes and triggers (the account totals) as the real path; what it leaves out
-- is the application: HTTP, validation, the rules engine (a flat point per euro here), settlement (nothing is due
-- for the bench's members), JSON building beyond a minimal response.
CREATE OR REPLACE FUNCTION bench_earn(p_program integer, p_member text, p_event text, p_total_minor integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := now();
    v_member integer;
    v_event integer;
    v_lot bigint;
    v_points integer := p_total_minor / 100;
    v_available bigint;
    v_credits bigint;
    v_due boolean;
    v_transfer uuid := gen_random_uuid();
BEGIN
    -- the arrival: the member locked, the event and order looked up, what is due, balances and the window's credits
    SELECT m.id,
           EXISTS (SELECT 1 FROM lots WHERE member_id = m.id AND is_pending AND available_at <= v_now)
           OR EXISTS (SELECT 1 FROM lots WHERE member_id = m.id AND remaining > 0 AND expires_at <= v_now),
           (SELECT coalesce(sum(balance), 0) FROM ledger_accounts WHERE member_id = m.id AND account = 'points'),
           (SELECT coalesce(sum(amount), 0) FROM ledger_entries
             WHERE member_id = m.id AND account = 'tier_credits' AND occurred_at >= v_now - interval '1 year'
               AND occurred_at <= v_now)
      INTO v_member, v_due, v_available, v_credits
      FROM members m
     WHERE m.program_id = p_program AND m.external_id = p_member
       FOR NO KEY UPDATE OF m;
    IF EXISTS (SELECT 1 FROM events WHERE program_id = p_program AND external_id = p_event)
       OR EXISTS (SELECT 1 FROM orders WHERE program_id = p_program AND order_id = p_event) THEN
        RETURN NULL;
    END IF;
    INSERT INTO events (program_id, external_id, type, member_id, occurred_at, recorded_at, program_version,
                        request_hash, response)
    VALUES (p_program, p_event, 'purchase', v_member, v_now, v_now, 1, md5(p_event), '{}')
    RETURNING id INTO v_event;
    INSERT INTO lots (program_id, member_id, amount, remaining, earned_at, expires_at, is_pending, available_at)
    VALUES (p_program, v_member, v_points, v_points, v_now, v_now + interval '1 year', false, NULL)
    RETURNING id INTO v_lot;
    INSERT INTO orders (program_id, member_id, order_id, event_id, occurred_at, currency, total_minor,
                        shipping_minor, lines, lot_id, points_earned, tier_credits_earned, points_reversed,
                        tier_credits_reversed, refunded_minor, refunded_fraction, refunded_quantities)
    VALUES (p_program, v_member, p_event, v_event, v_now, 'EUR', p_total_minor, 0,
            '[{"sku": "BEANS-1", "category": "coffee-beans", "quantity": "1", "unit_price": "1", "weight": "1"}]',
            v_lot, v_points, v_points, 0, 0, 0, '0', '{}');
    INSERT INTO ledger_entries (program_id, member_id, account, asset, kind, amount, transfer_id, occurred_at,
                                recorded_at, program_version, lot_id, event_id, order_id, rule_code, operation,
                                description)
    VALUES (p_program, v_member, 'points', 'points', 'earn', v_points, v_transfer, v_now, v_now, 1, v_lot, v_event,
            p_event, 'beans', NULL, 'Order'),
           (p_program, NULL, 'program:issuance', 'points', 'earn', -v_points, v_transfer, v_now, v_now, 1, NULL,
            v_event, p_event, NULL, NULL, 'Order'),
           (p_program, v_member, 'tier_credits', 'tier_credits', 'earn', v_points, v_transfer, v_now, v_now, 1, NULL,
            v_event, p_event, NULL, NULL, 'Order'),
           (p_program, NULL, 'program:issuance', 'tier_credits', 'earn', -v_points, v_transfer, v_now, v_now, 1,
            NULL, v_event, p_event, NULL, NULL, 'Order');
    UPDATE events SET response = json_build_object('event_id', p_event, 'balance',
                                                   json_build_object('available', v_available + v_points))
     WHERE id = v_event;
    INSERT INTO outbox_events (program_id, member_id, type, schema_version, occurred_at, recorded_at, payload,
                               is_fanned_out)
    VALUES (p_program, v_member, 'points.earned', 1, v_now, v_now,
            json_build_object('points', v_points, 'lot_id', v_lot, 'credits', v_credits), false);
    RETURN v_available + v_points;
END $$;
