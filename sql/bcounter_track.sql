--
-- bcounter in tracked tables: a local write spends only this replica's
-- rights (23514 beyond them), an applied write merges and is never
-- refused, and rights move between nodes by request and grant, each
-- request granted at most once, with the caller's table privileges.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

CREATE TABLE budget (id int PRIMARY KEY, b bcounter NOT NULL DEFAULT '{}', clk vclock);
SELECT relation, shape FROM crdt_reconcile.track('budget', clock_column => 'clk');

-- ---------------------------------------------------------------- local writes
SET crdt.replica_id = 'n1';
INSERT INTO budget (id, b) VALUES (1, crdt_increment('{}'::bcounter, 100));
UPDATE budget SET b = crdt_transfer(b, 30, 'n2') WHERE id = 1;
UPDATE budget SET b = crdt_decrement(b, 50) WHERE id = 1;
-- beyond n1's rights (20 left): the statement fails, nothing changes
\set VERBOSITY default
UPDATE budget SET b = crdt_decrement(b, 21) WHERE id = 1;
\set VERBOSITY terse
SELECT b, crdt_value(b), crdt_rights(b, 'n1') AS n1, crdt_rights(b, 'n2') AS n2, clk FROM budget;

-- ---------------------------------------------------------------- applied writes
-- n2 spent its 30 and n3 was funded with 5, concurrently: merged, never refused
SET session_replication_role = replica;
SET search_path = '';
UPDATE public.budget SET b = '{"p":{"n1":100},"d":{"n2":30},"t":{"n1":{"n2":30}}}', clk = '{"n1":1,"n2":1}' WHERE id = 1;
UPDATE public.budget SET b = '{"p":{"n3":5}}', clk = '{"n3":1}' WHERE id = 1;
RESET search_path;
RESET session_replication_role;
SELECT b, crdt_value(b) AS value, clk FROM budget;
SELECT * FROM crdt_entries((SELECT b FROM budget WHERE id = 1));

-- ---------------------------------------------------------------- requests and grants
-- n2 has no rights left and asks for 15; by default from the replica holding the most (n1)
SET crdt.replica_id = 'n2';
SELECT regress.state_of($$UPDATE budget SET b = crdt_decrement(b, 1) WHERE id = 1$$) AS n2_spends;
SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 15) IS NOT NULL AS asked;
SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 500, granter => 'n3') IS NOT NULL AS asked_too_much;
SELECT relation_name, row_key, column_name, amount, requester, granter, granted_at IS NULL AS pending
FROM crdt_reconcile.rights_requests ORDER BY amount;
-- only the granter grants: n2 does nothing
SELECT count(*) AS granted_by_n2 FROM crdt_reconcile.grant_requests();
SET crdt.replica_id = 'n1';
SELECT granted, reason FROM crdt_reconcile.grant_requests();
-- granted once: running it again grants nothing
SELECT count(*) AS granted_again FROM crdt_reconcile.grant_requests();
-- n3 holds 5, not 500: that request stays pending, with the reason
SET crdt.replica_id = 'n3';
SELECT granted, reason FROM crdt_reconcile.grant_requests();
SELECT amount, granter, granted_at IS NOT NULL AS granted FROM crdt_reconcile.rights_requests ORDER BY amount;
SET crdt.replica_id = 'n2';
UPDATE budget SET b = crdt_decrement(b, 15) WHERE id = 1;
SELECT crdt_value(b) AS value, crdt_rights(b, 'n1') AS n1, crdt_rights(b, 'n2') AS n2, crdt_rights(b, 'n3') AS n3 FROM budget;

-- an arriving copy of a request (an echo) merges: a grant stamp never goes away
SET session_replication_role = replica;
INSERT INTO crdt_reconcile.rights_requests
SELECT request_id, relation_name, row_key, column_name, amount, requester, granter, requested_by, requested_at, NULL
FROM crdt_reconcile.rights_requests;
UPDATE crdt_reconcile.rights_requests SET granted_at = NULL, amount = amount + 1;
RESET session_replication_role;
SELECT amount, granted_at IS NOT NULL AS granted FROM crdt_reconcile.rights_requests ORDER BY amount;

-- what request_rights refuses
SELECT regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 0)$$) AS zero,
       regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"id":2}', 'b', 1)$$) AS no_row,
       regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"nope":1}', 'b', 1)$$) AS bad_key,
       regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'clk', 1)$$) AS not_bcounter,
       regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 1, 'n2')$$) AS from_itself;

-- ---------------------------------------------------------------- trust boundary
-- a role that may read but not update the table can neither ask nor grant
CREATE ROLE bc_reader;
GRANT SELECT ON budget TO bc_reader;
SET crdt.replica_id = 'n1';
SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 1, 'n2') IS NOT NULL AS n1_asks_n2;
SET ROLE bc_reader;
SELECT regress.state_of($$SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 1)$$) AS reader_asks;
SELECT regress.state_of($$INSERT INTO crdt_reconcile.rights_requests (relation_name, row_key, column_name, amount, requester, granter)
                          VALUES ('public.budget', '{"id":1}', 'b', 1, 'n3', 'n1')$$) AS reader_inserts;
SET crdt.replica_id = 'n2';
SELECT granted, reason FROM crdt_reconcile.grant_requests();
RESET ROLE;
SELECT amount, requester, granter, granted_at IS NOT NULL AS granted FROM crdt_reconcile.rights_requests WHERE amount = 1;
SELECT crdt_value(b) AS value_unchanged FROM budget;
REVOKE ALL ON budget FROM bc_reader;
DROP ROLE bc_reader;
DROP TABLE budget;
DELETE FROM crdt_reconcile.rights_requests;
