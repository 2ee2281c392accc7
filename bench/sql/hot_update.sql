-- The raw baseline for the hot member: one durable single-row update per transaction, all on the same row.
UPDATE bench_hot SET balance = balance + 1 WHERE id = 1;
