-- pgbench script for the earn-limit baseline (bench_earn in earn_limit.sql): members m1..mN drawn as the earn
-- scenario's wrk script draws them (rank = floor(N ^ U)), a unique event and order id per call.
\set rank int(pow(:members, random(0, 1000000) / 1000000.0))
\set id random(1, 9000000000000000000)
\set total random(300, 2999)
SELECT bench_earn(:program, 'm' || greatest(1, least(:rank, :members)), 'limit-' || :id, :total);
