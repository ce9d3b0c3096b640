-- Data for the dump/restore check: every type, a tracked table with
-- conflicts, and the tracking settings.
CREATE EXTENSION crdt_reconcile;
SET crdt.replica_id = 'node_a';
CREATE TABLE every_type (id int PRIMARY KEY, v vclock, g gcounter, p pncounter, gs gset,
                         tp twopset, o orset, l lwwreg, m mvreg);
INSERT INTO every_type
SELECT i, crdt_tick(crdt_tick(NULL, 'r' || i), 'ü' || i % 7), crdt_increment(NULL::gcounter, i, 'r' || i % 5),
       crdt_decrement(crdt_increment(NULL::pncounter, 2 * i, 'a'), i, 'b' || i % 3),
       crdt_add(crdt_add(NULL::gset, 'x' || i), 'ÿ' || i % 4),
       crdt_remove(crdt_add(crdt_add(NULL::twopset, 'a' || i), 'b'), 'b'),
       crdt_remove(crdt_add(crdt_add(NULL::orset, 'e' || i, 'n1'), 'f', 'n2'), 'f'),
       crdt_set_at(NULL::lwwreg, jsonb_build_object('i', i, 'name', 'ñ'), '2026-01-01'::timestamptz + i * interval '1 s', 'w' || i % 3),
       crdt_set(crdt_merge(crdt_set(NULL::mvreg, to_jsonb(i), 'p'), crdt_set(NULL::mvreg, '"other"', 'q')), to_jsonb(-i), 'p')
FROM generate_series(1, 200) i;

CREATE TABLE inventory (sku text PRIMARY KEY, stock pncounter, tags orset, price numeric, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('inventory', clock_column => 'clk', writer_column => 'writer',
                                           invariant => 'crdt_value(stock) >= 0');
INSERT INTO inventory AS t (sku, stock) VALUES ('apple', crdt_increment(NULL::pncounter, 5));
UPDATE inventory SET tags = crdt_add(tags, 'fruit'), price = 2.5 WHERE sku = 'apple';
SET session_replication_role = replica;
UPDATE inventory SET price = 3, stock = '{"n":{"node_b":50}}', clk = '{"node_b":1}',
       writer = crdt_set_at(NULL::lwwreg, '1', '2000-01-01', 'node_b') WHERE sku = 'apple';
RESET session_replication_role;
