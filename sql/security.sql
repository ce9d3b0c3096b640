--
-- Security review.  An unprivileged role plants look-alikes in public —
-- functions, operators and aggregates with pg_catalog's names and
-- signatures (or better-matching ones), views named like catalogs — and
-- the extension is created while they are there.  Then every trigger path,
-- arbitration, retention and view runs with public first in search_path,
-- and every function of the extension is called: none of the look-alikes
-- may ever run.  Each one counts its calls in a sequence (which a rollback
-- does not undo) and logs the query that called it.
--
-- Phase 1 installs the extension in public, the usual place, where the
-- scripts' own search_path contains the planted objects.  Phase 2 installs
-- it in its own schema so that look-alikes of the extension's own
-- functions, operators, aggregates and types can be planted in public too.
--
-- Runs last: it drops the extension and creates it again at the end.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS crdt_reconcile CASCADE;
RESET client_min_messages;
-- The test's own queries run with pg_catalog alone in search_path, except
-- where a phase puts public first on purpose.
SET search_path = pg_catalog;

CREATE ROLE crdt_sec_mallory;
CREATE ROLE crdt_sec_owner;
CREATE ROLE crdt_sec_writer;
CREATE ROLE crdt_sec_auditor;
CREATE ROLE crdt_sec_stranger;
-- PostgreSQL 15 no longer lets everyone create in public; a lax database does.
GRANT CREATE ON SCHEMA public TO crdt_sec_mallory, crdt_sec_owner;

-- ---------------------------------------------------------------- the traps
SET ROLE crdt_sec_mallory;
CREATE SEQUENCE public.trap_count;
CREATE TABLE public.trap_log (what text, by_role name, query text);
GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.trap_count TO PUBLIC;
GRANT INSERT, SELECT ON public.trap_log TO PUBLIC;
CREATE FUNCTION public.trap(what text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	PERFORM pg_catalog.nextval('public.trap_count');
	INSERT INTO public.trap_log VALUES (what, CURRENT_USER, pg_catalog.current_query());
	RETURN true;
END $$;

-- Comparison operators on oid-like, string, integer and time types, for
-- every pair within a family (exact matches where pg_catalog needs a
-- coercion, as for oid = regclass), each giving the right answer so that a
-- caller goes on.  Plus arithmetic, json and array operators.
DO $gen$
DECLARE
	o record;
	n int := 0;
BEGIN
	FOR o IN
		WITH family(typ, common) AS (VALUES
			('oid', 'oid'), ('regclass', 'oid'), ('regtype', 'oid'), ('regnamespace', 'oid'),
			('regrole', 'oid'), ('regprocedure', 'oid'),
			('name', 'text'), ('text', 'text'),
			('int2', 'int8'), ('int4', 'int8'), ('int8', 'int8'),
			('timestamptz', 'timestamptz'), ('timestamp', 'timestamptz'), ('date', 'timestamptz'))
		SELECT op, l.typ AS l, r.typ AS r, 'boolean' AS result,
		       pg_catalog.format('$1::%s OPERATOR(pg_catalog.%s) $2::%s', l.common, op, l.common) AS expr
		FROM unnest(ARRAY['=', '<>', '<', '<=', '>', '>=']) AS op, family l JOIN family r USING (common)
		UNION ALL
		SELECT op, l, r, result, pg_catalog.format('$1 OPERATOR(pg_catalog.%s) $2', op)
		FROM (VALUES ('-', 'timestamptz', 'interval', 'timestamptz'), ('+', 'timestamptz', 'interval', 'timestamptz'),
		             ('-', 'int8', 'int8', 'int8'), ('-', 'int8', 'int4', 'int8'), ('+', 'int8', 'int8', 'int8'),
		             ('-', 'numeric', 'numeric', 'numeric'), ('=', 'numeric', 'numeric', 'boolean'),
		             ('=', 'bool', 'bool', 'boolean'), ('=', 'jsonb', 'jsonb', 'boolean'),
		             ('<>', 'jsonb', 'jsonb', 'boolean'), ('->', 'jsonb', 'text', 'jsonb'),
		             ('->>', 'jsonb', 'text', 'text'), ('->', 'jsonb', 'int4', 'jsonb'),
		             ('||', 'jsonb', 'jsonb', 'jsonb'), ('?', 'jsonb', 'text', 'boolean'),
		             ('@>', 'jsonb', 'jsonb', 'boolean'), ('||', 'text', 'text', 'text'),
		             ('||', 'text[]', 'text', 'text[]'), ('||', 'text[]', 'text[]', 'text[]'),
		             ('=', 'text[]', 'text[]', 'boolean'), ('=', 'name[]', 'name[]', 'boolean'),
		             ('~~', 'text', 'text', 'boolean')) AS x(op, l, r, result)
	LOOP
		n := n + 1;
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION public.trap_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog '
			'AS %L', n, o.l, o.r, o.result,
			pg_catalog.format('BEGIN PERFORM public.trap(%L); RETURN %s; END',
			                  pg_catalog.format('operator %s(%s,%s)', o.op, o.l, o.r), o.expr));
		EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_op_%s)',
			o.op, o.l, o.r, n);
	END LOOP;
END
$gen$;

-- Functions with pg_catalog's names and signatures.
DO $gen$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM (VALUES
		('now', '', 'timestamptz', 'pg_catalog.now()'),
		('clock_timestamp', '', 'timestamptz', 'pg_catalog.clock_timestamp()'),
		('current_setting', 'text', 'text', 'pg_catalog.current_setting($1)'),
		('set_config', 'text, text, boolean', 'text', 'pg_catalog.set_config($1, $2, $3)'),
		('nextval', 'regclass', 'bigint', 'pg_catalog.nextval($1)'),
		('format', 'text', 'text', 'pg_catalog.format($1)'),
		('format', 'text, text', 'text', 'pg_catalog.format($1, $2)'),
		('format', 'text, text, text', 'text', 'pg_catalog.format($1, $2, $3)'),
		('format', 'text, regclass', 'text', 'pg_catalog.format($1, $2)'),
		('to_jsonb', 'anyelement', 'jsonb', 'pg_catalog.to_jsonb($1)'),
		('jsonb_populate_record', 'anyelement, jsonb', 'anyelement', 'pg_catalog.jsonb_populate_record($1, $2)'),
		('jsonb_build_object', 'text, jsonb', 'jsonb', 'pg_catalog.jsonb_build_object($1, $2)'),
		('jsonb_build_object', 'name, jsonb', 'jsonb', 'pg_catalog.jsonb_build_object($1, $2)'),
		('jsonb_typeof', 'jsonb', 'text', 'pg_catalog.jsonb_typeof($1)'),
		('current_database', '', 'name', 'pg_catalog.current_database()'),
		('has_table_privilege', 'oid, text', 'boolean', 'pg_catalog.has_table_privilege($1, $2)'),
		('has_table_privilege', 'regclass, text', 'boolean', 'pg_catalog.has_table_privilege($1, $2)'),
		('has_table_privilege', 'text, text', 'boolean', 'pg_catalog.has_table_privilege($1, $2)'),
		('pg_has_role', 'name, text', 'boolean', 'pg_catalog.pg_has_role($1, $2)'),
		('pg_has_role', 'oid, text', 'boolean', 'pg_catalog.pg_has_role($1, $2)'),
		('quote_ident', 'text', 'text', 'pg_catalog.quote_ident($1)'),
		('array_to_string', 'anyarray, text', 'text', 'pg_catalog.array_to_string($1, $2)'),
		('lower', 'text', 'text', 'pg_catalog.lower($1)'),
		('length', 'text', 'integer', 'pg_catalog.length($1)')) AS x(name, args, result, expr)
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
			f.name, f.args, f.result,
			pg_catalog.format('BEGIN PERFORM public.trap(%L); RETURN %s; END',
			                  pg_catalog.format('function %s(%s)', f.name, f.args), f.expr));
	END LOOP;
END
$gen$;
CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('function unnest(anyarray)'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.jsonb_object_keys(jsonb) RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('function jsonb_object_keys(jsonb)'); RETURN QUERY SELECT pg_catalog.jsonb_object_keys($1); END $$;
CREATE FUNCTION public.jsonb_array_elements_text(jsonb) RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('function jsonb_array_elements_text(jsonb)'); RETURN QUERY SELECT pg_catalog.jsonb_array_elements_text($1); END $$;
CREATE FUNCTION public.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record LANGUAGE plpgsql
	SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('function jsonb_each(jsonb)'); RETURN QUERY SELECT * FROM pg_catalog.jsonb_each($1); END $$;

-- Aggregates.
CREATE FUNCTION public.trap_count_sfunc(bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate count(*)'); RETURN $1 + 1; END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.trap_count_sfunc, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.trap_max_sfunc(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql
	SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate max(timestamptz)'); RETURN GREATEST($1, $2); END $$;
CREATE AGGREGATE public.max(timestamptz) (SFUNC = public.trap_max_sfunc, STYPE = timestamptz);
CREATE FUNCTION public.trap_max8_sfunc(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate max(bigint)'); RETURN GREATEST($1, $2); END $$;
CREATE AGGREGATE public.max(bigint) (SFUNC = public.trap_max8_sfunc, STYPE = bigint);
CREATE FUNCTION public.trap_sum_sfunc(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate sum(bigint)'); RETURN coalesce($1, 0) + $2; END $$;
CREATE AGGREGATE public.sum(bigint) (SFUNC = public.trap_sum_sfunc, STYPE = bigint);
CREATE FUNCTION public.trap_string_agg_sfunc(text, text, text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate string_agg(text,text)'); RETURN coalesce($1 || $3, '') || $2; END $$;
CREATE AGGREGATE public.string_agg(text, text) (SFUNC = public.trap_string_agg_sfunc, STYPE = text);
CREATE FUNCTION public.trap_array_agg_sfunc(anyarray, anynonarray) RETURNS anyarray LANGUAGE plpgsql
	SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate array_agg(anynonarray)'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE AGGREGATE public.array_agg(anynonarray) (SFUNC = public.trap_array_agg_sfunc, STYPE = anyarray);
CREATE FUNCTION public.trap_object_agg_sfunc(jsonb, text, jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog
	AS $$ BEGIN PERFORM public.trap('aggregate jsonb_object_agg(text,jsonb)'); RETURN coalesce($1, '{}') || pg_catalog.jsonb_build_object($2, $3); END $$;
CREATE AGGREGATE public.jsonb_object_agg(text, jsonb) (SFUNC = public.trap_object_agg_sfunc, STYPE = jsonb);

-- Relations named like catalogs and like the extension's tables.
DO $gen$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['pg_class', 'pg_attribute', 'pg_index', 'pg_type', 'pg_namespace', 'pg_roles',
	                         'pg_database', 'pg_trigger', 'pg_extension', 'tracked', 'conflicts', 'conflicts_id_seq']
	LOOP
		EXECUTE pg_catalog.format('CREATE VIEW public.%I AS SELECT 1 AS trapped WHERE public.trap(%L)',
			r, 'relation ' || r);
		EXECUTE pg_catalog.format('GRANT SELECT ON public.%I TO PUBLIC', r);
	END LOOP;
END
$gen$;
RESET ROLE;

-- What a role planted: counted the same way after each phase's planting.
CREATE FUNCTION pg_temp.planted(role name, OUT planted_operators bigint, OUT planted_functions bigint)
LANGUAGE sql SET search_path = pg_catalog AS $$
	SELECT (SELECT count(*) FROM pg_operator WHERE oprowner = role::text::regrole),
	       (SELECT count(*) FROM pg_proc WHERE proowner = role::text::regrole)
$$;
SELECT * FROM pg_temp.planted('crdt_sec_mallory');
SELECT last_value AS trap_calls, is_called FROM public.trap_count;

-- ============================================================ phase 1: in public
SET search_path = public, pg_catalog;
CREATE EXTENSION crdt_reconcile;
SET search_path = pg_catalog;
GRANT crdt_reconcile_admin TO crdt_sec_auditor;

-- Nothing the scripts created is bound to a planted object: no view, policy,
-- constraint, default, index or function depends on one.
CREATE FUNCTION pg_temp.bound_to_planted(role name) RETURNS SETOF text LANGUAGE sql
SET search_path = pg_catalog AS $$
	WITH planted(cls, oid) AS (
		SELECT 'pg_catalog.pg_proc'::regclass::oid, p.oid FROM pg_proc p WHERE p.proowner = role::text::regrole::oid
		UNION ALL SELECT 'pg_catalog.pg_operator'::regclass::oid, o.oid FROM pg_operator o WHERE o.oprowner = role::text::regrole::oid
		UNION ALL SELECT 'pg_catalog.pg_class'::regclass::oid, c.oid FROM pg_class c WHERE c.relowner = role::text::regrole::oid
		UNION ALL SELECT 'pg_catalog.pg_type'::regclass::oid, t.oid FROM pg_type t WHERE t.typowner = role::text::regrole::oid
		UNION ALL SELECT 'pg_catalog.pg_rewrite'::regclass::oid, w.oid FROM pg_rewrite w
		          JOIN pg_class c ON c.oid = w.ev_class WHERE c.relowner = role::text::regrole::oid
		UNION ALL SELECT 'pg_catalog.pg_constraint'::regclass::oid, k.oid FROM pg_constraint k
		          JOIN pg_type t ON t.oid = k.contypid WHERE t.typowner = role::text::regrole::oid)
	SELECT DISTINCT pg_describe_object(d.classid, d.objid, 0) || ' -> ' || pg_describe_object(d.refclassid, d.refobjid, 0)
	FROM pg_depend d JOIN planted p ON p.cls = d.refclassid AND p.oid = d.refobjid
	WHERE NOT EXISTS (SELECT FROM planted m WHERE m.cls = d.classid AND m.oid = d.objid)
	ORDER BY 1
$$;
SELECT * FROM pg_temp.bound_to_planted('crdt_sec_mallory');
SELECT last_value AS trap_calls, is_called FROM public.trap_count;

-- Both phases track the two tables alike; the invariants name crdt_value
-- through ext, the extension's schema as the phase must write it.  No
-- search_path of its own: track() runs under the caller's, public first.
CREATE FUNCTION pg_temp.track_sec_tables(ext text) RETURNS TABLE (relation regclass, shape text, invariant text,
	log_merges boolean, replica_column name)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT t.relation, t.shape, t.invariant, t.log_merges, t.replica_column
	FROM crdt_reconcile.track('sec_inv', clock_column => 'clk', writer_column => 'writer',
	                          invariant => pg_catalog.concat(ext, 'crdt_value(stock) OPERATOR(pg_catalog.>=) 0'),
	                          log_merges => true) t;
	RETURN QUERY SELECT t.relation, t.shape, t.invariant, t.log_merges, t.replica_column
	FROM crdt_reconcile.track('sec_rows', shape => 'replica_rows', clock_column => 'clk', replica_column => 'replica',
	                          invariant => pg_catalog.concat(ext, 'crdt_value(n) OPERATOR(pg_catalog.<) 100')) t;
END
$$;

-- Every trigger path, with public first in search_path.  The test's own
-- statements qualify their operators: they are not under review.
SET search_path = public, pg_catalog;
SET crdt.replica_id = 'n1';
SET application_name = 'security';
SET ROLE crdt_sec_owner;
CREATE TABLE sec_inv (sku text PRIMARY KEY, stock pncounter, tags orset, seen gset, gone twopset,
                      price numeric, note lwwreg, plan mvreg, clk vclock, writer lwwreg);
CREATE TABLE sec_rows (k text, replica text, n gcounter, plan mvreg, price numeric, clk vclock,
                       PRIMARY KEY (k, replica));
SELECT * FROM pg_temp.track_sec_tables('');
GRANT SELECT, INSERT, UPDATE ON sec_inv, sec_rows TO crdt_sec_writer;
RESET ROLE;

-- local writes by a role with only SELECT, INSERT, UPDATE
SET ROLE crdt_sec_writer;
INSERT INTO sec_inv AS t (sku, stock, tags, seen, gone, price)
VALUES ('a', crdt_increment(NULL::pncounter, 10), crdt_add(NULL::orset, 'red'), crdt_add(NULL::gset, 'x'),
        crdt_add(NULL::twopset, 'y'), 5)
ON CONFLICT (sku) DO UPDATE SET stock = crdt_increment(t.stock, 10);
INSERT INTO sec_inv AS t (sku, stock) VALUES ('a', crdt_increment(NULL::pncounter, 10))
ON CONFLICT (sku) DO UPDATE SET stock = crdt_increment(t.stock, 10);
UPDATE sec_inv SET note = crdt_set(note, '"hello"'), plan = crdt_set(plan, '"A"'), tags = crdt_add(tags, 'green');
INSERT INTO sec_rows VALUES ('k', 'n1', crdt_increment(NULL::gcounter, 3), crdt_set(NULL::mvreg, '"x"'), 1);
SELECT sku, crdt_value(stock) AS stock, crdt_value(tags) AS tags, price, clk FROM sec_inv;
RESET ROLE;

-- applied writes, as in an apply worker
SET session_replication_role = replica;
-- concurrent, later writer tag: n2's price wins, its note (earlier) loses, plan keeps both
UPDATE sec_inv SET price = 7, stock = '{"p":{"n2":4}}', clk = '{"n2":1}',
       writer = crdt_set_at('{}'::lwwreg, 'null', '2100-01-01', 'n2'),
       note = crdt_set_at('{}'::lwwreg, '"n2"', '2000-01-01', 'n2'), plan = crdt_set('{}'::mvreg, '"B"', 'n2');
-- stale: n2's first write again with another price
UPDATE sec_inv SET price = 1, clk = '{"n2":1}';
-- concurrent, earlier tag, and the stock goes negative
UPDATE sec_inv SET price = 8, stock = '{"n":{"n3":100}}', clk = '{"n3":1}',
       writer = crdt_set_at('{}'::lwwreg, 'null', '1990-01-01', 'n3');
-- an applied INSERT of an existing key merges
INSERT INTO sec_inv (sku, stock, tags, seen, gone, clk)
VALUES ('a', '{"p":{"n4":1}}', crdt_add('{}'::orset, 'blue', 'n4'), crdt_add('{}'::gset, 'z'),
        crdt_remove(crdt_add('{}'::twopset, 'w'), 'w'), '{"n4":1}');
-- an echo changes nothing
UPDATE sec_inv SET price = price;
-- replica rows: n2's row arrives, concurrent, with another price and plan; then n2 breaks the invariant
INSERT INTO sec_rows VALUES ('k', 'n2', '{"n2":5}', crdt_set('{}'::mvreg, '"y"', 'n2'), 2, '{"n2":1}');
UPDATE sec_rows SET n = '{"n2":500}', clk = '{"n2":2}' WHERE replica OPERATOR(pg_catalog.=) 'n2';
RESET session_replication_role;

SET search_path = pg_catalog;
SELECT kind, column_name, resolution, status, count(*)
FROM crdt_reconcile.conflicts GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
-- The conflicts each phase arbitrates (a scalar subquery fails, as \gset
-- did, where a kind matched more than one record).
CREATE FUNCTION pg_temp.sec_conflicts(OUT c_price bigint, OUT c_note bigint, OUT c_stale bigint, OUT c_plan bigint,
	OUT c_row bigint, OUT c_rows_price bigint, OUT c_rows_n bigint)
LANGUAGE sql SET search_path = pg_catalog AS $$
	SELECT (SELECT id FROM crdt_reconcile.conflicts WHERE column_name = 'price' AND kind = 'concurrent_update'
	          AND relation::text = 'public.sec_inv' ORDER BY id LIMIT 1),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE column_name = 'note' ORDER BY id LIMIT 1),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE kind = 'stale_update' ORDER BY id LIMIT 1),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE kind = 'multi_value' AND relation::text = 'public.sec_inv'),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE kind = 'invariant_violation' AND relation::text = 'public.sec_inv'),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE column_name = 'price' AND relation::text = 'public.sec_rows'
	          ORDER BY id LIMIT 1),
	       (SELECT id FROM crdt_reconcile.conflicts WHERE kind = 'invariant_violation' AND relation::text = 'public.sec_rows')
$$;
SELECT * FROM pg_temp.sec_conflicts() \gset
SELECT last_value AS trap_calls, is_called FROM public.trap_count;

-- The same arbitrations in both phases, one resolve() after the other.  No
-- search_path of its own: resolve() runs under the caller's, public first.
CREATE FUNCTION pg_temp.arbitrate(c_price bigint, c_note bigint, c_plan bigint, c_stale bigint, c_row bigint,
	c_rows_price bigint, c_rows_n bigint) RETURNS TABLE (conflict text, status text, resolution text)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT 'price', r.status, r.resolution FROM crdt_reconcile.resolve(c_price, '6.5'::jsonb, 'by phone') r;
	RETURN QUERY SELECT 'note', r.status, r.resolution FROM crdt_reconcile.resolve(c_note, '"final"') r;
	RETURN QUERY SELECT 'plan', r.status, r.resolution FROM crdt_reconcile.resolve(c_plan, '"C"') r;
	RETURN QUERY SELECT 'stale', r.status, r.resolution FROM crdt_reconcile.resolve(c_stale, 'keep') r;
	RETURN QUERY SELECT 'row', r.status, r.resolution
	FROM crdt_reconcile.resolve(c_row, '{"stock": 20, "tags": ["red", "zebra"], "seen": ["x", "z", "q"], "gone": ["v"]}') r;
	RETURN QUERY SELECT 'rows price', r.status, r.resolution FROM crdt_reconcile.resolve(c_rows_price, '3'::jsonb) r;
	RETURN QUERY SELECT 'rows n', r.status, r.resolution FROM crdt_reconcile.resolve(c_rows_n, '{"n": 600}') r;
END
$$;
-- arbitration by the writer, with public first
SET search_path = public, pg_catalog;
SET ROLE crdt_sec_writer;
SELECT * FROM pg_temp.arbitrate(:c_price, :c_note, :c_plan, :c_stale, :c_row, :c_rows_price, :c_rows_n);
SELECT sku, crdt_value(stock) AS stock, crdt_value(tags) AS tags, crdt_value(seen) AS seen, crdt_value(gone) AS gone,
       price, crdt_value(note) AS note, crdt_value(plan) AS plan
FROM sec_inv;
SELECT k, replica, crdt_value(n) AS n, price FROM sec_rows ORDER BY replica COLLATE "C";
-- the views and the settings table, as the writer and as others
SELECT relation, local_writes, merges_applied, inserts_merged, stale_skipped, echoes_skipped, conflicts_recorded
FROM crdt_reconcile.merge_stats ORDER BY relation::text COLLATE "C";
SELECT relation, kind, total, open FROM crdt_reconcile.conflict_stats ORDER BY relation::text COLLATE "C", kind COLLATE "C";
SELECT relation, replica, keys, keys_behind, max_distance, total_distance
FROM crdt_reconcile.reconciliation_lag ORDER BY relation::text COLLATE "C", replica COLLATE "C";
SELECT relation, shape FROM crdt_reconcile.tracked ORDER BY relation::text COLLATE "C";
RESET ROLE;
SET ROLE crdt_sec_stranger;
SELECT crdt_reconcile.resolve(:c_note, 'keep');
SELECT relation FROM crdt_reconcile.conflicts;
SELECT relation FROM crdt_reconcile.merge_stats;
SELECT relation FROM crdt_reconcile.reconciliation_lag;
SELECT crdt_reconcile.untrack('sec_inv');
RESET ROLE;
SET ROLE crdt_sec_auditor;
SELECT relation, kind, total FROM crdt_reconcile.conflict_stats ORDER BY relation::text COLLATE "C", kind COLLATE "C";
SELECT crdt_reconcile.reset_merge_stats('sec_inv');
SELECT crdt_reconcile.purge_conflicts('0 seconds') AS purged_resolved;
SELECT crdt_reconcile.purge_conflicts('0 seconds', include_open => true) AS purged_open;
RESET ROLE;
SET ROLE crdt_sec_owner;
SELECT crdt_reconcile.untrack('sec_inv'), crdt_reconcile.untrack('sec_rows');
DROP TABLE sec_inv, sec_rows;
RESET ROLE;
RESET crdt.replica_id;

SET search_path = pg_catalog;
SELECT last_value AS trap_calls, is_called FROM public.trap_count;
SELECT what, by_role, query FROM public.trap_log;

-- ============================================================ phase 2: own schema
SET client_min_messages = warning;
DROP EXTENSION crdt_reconcile CASCADE;
RESET client_min_messages;
CREATE SCHEMA crdt_ext;
GRANT USAGE ON SCHEMA crdt_ext TO PUBLIC;
-- types named like the extension's, planted before it exists
SET ROLE crdt_sec_mallory;
DO $gen$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg', 'bcounter'] LOOP
		EXECUTE pg_catalog.format('CREATE DOMAIN public.%I AS pg_catalog.text CHECK (public.trap(%L))', t, 'type ' || t);
	END LOOP;
END
$gen$;
RESET ROLE;
SET search_path = public, crdt_ext, pg_catalog;
CREATE EXTENSION crdt_reconcile SCHEMA crdt_ext;
SET search_path = pg_catalog;

-- A look-alike in public of every function, aggregate and operator of the
-- extension (crdt_reconcile's management functions included), with the
-- same name and argument types, each logging its call.
SET ROLE crdt_sec_mallory;
DO $gen$
DECLARE
	f record;
	o record;
	n int := 0;
	body text;
BEGIN
	FOR f IN
		SELECT p.oid, p.proname, p.prokind, p.proretset, p.prorettype, p.proargtypes,
		       pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result
		FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
		WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
		  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
		  AND NOT 'pg_catalog.internal'::regtype = ANY (p.proargtypes::oid[] || p.prorettype)
		  AND NOT 'pg_catalog.cstring'::regtype = ANY (p.proargtypes::oid[] || p.prorettype)
		ORDER BY p.oid
	LOOP
		n := n + 1;
		IF f.prokind = 'a' THEN
			EXECUTE pg_catalog.format(
				'CREATE FUNCTION public.trap_agg_%s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
				n, f.result, f.args, f.result,
				pg_catalog.format('BEGIN PERFORM public.trap(%L); RETURN $1; END', 'aggregate ' || f.proname || '(' || f.args || ')'));
			EXECUTE pg_catalog.format('CREATE AGGREGATE public.%I(%s) (SFUNC = public.trap_agg_%s, STYPE = %s)',
				f.proname, f.args, n, f.result);
			CONTINUE;
		END IF;
		IF f.prokind = 'p' THEN
			EXECUTE pg_catalog.format('CREATE PROCEDURE public.%I(%s) LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
				f.proname, f.args,
				pg_catalog.format('BEGIN PERFORM public.trap(%L); END', 'procedure ' || f.proname || '(' || f.args || ')'));
			CONTINUE;
		END IF;
		IF f.prorettype = 'pg_catalog.trigger'::regtype THEN
			body := 'RETURN NEW;';
		ELSIF f.proretset OR f.args LIKE '%OUT %' OR f.prorettype IN ('pg_catalog.void'::regtype, 'pg_catalog.event_trigger'::regtype) THEN
			body := 'RETURN;';
		ELSE
			body := 'RETURN NULL;';
		END IF;
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
			f.proname, f.args, f.result,
			pg_catalog.format('BEGIN PERFORM public.trap(%L); %s END', 'function ' || f.proname || '(' || f.args || ')', body));
	END LOOP;
	FOR o IN
		SELECT op.oprname, op.oprleft::regtype AS l, op.oprright::regtype AS r, op.oprresult::regtype AS result
		FROM pg_depend d JOIN pg_operator op ON op.oid = d.objid
		WHERE d.classid = 'pg_catalog.pg_operator'::regclass AND d.deptype = 'e'
		  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
		ORDER BY op.oid
	LOOP
		n := n + 1;
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION public.trap_op_ext_%s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
			n, o.l, o.r, o.result,
			pg_catalog.format('BEGIN PERFORM public.trap(%L); RETURN NULL; END',
			                  pg_catalog.format('operator %s(%s,%s)', o.oprname, o.l, o.r)));
		EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_op_ext_%s)',
			o.oprname, o.l, o.r, n);
	END LOOP;
END
$gen$;
RESET ROLE;
SELECT * FROM pg_temp.planted('crdt_sec_mallory');
SELECT * FROM pg_temp.bound_to_planted('crdt_sec_mallory');

-- The same paths again, public first, the extension behind it.
SET search_path = public, crdt_ext, pg_catalog;
SET crdt.replica_id = 'n1';
SET ROLE crdt_sec_owner;
CREATE TABLE sec_inv (sku text PRIMARY KEY, stock crdt_ext.pncounter, tags crdt_ext.orset, seen crdt_ext.gset,
                      gone crdt_ext.twopset, price numeric, note crdt_ext.lwwreg, plan crdt_ext.mvreg,
                      clk crdt_ext.vclock, writer crdt_ext.lwwreg);
CREATE TABLE sec_rows (k text, replica text, n crdt_ext.gcounter, plan crdt_ext.mvreg, price numeric,
                       clk crdt_ext.vclock, PRIMARY KEY (k, replica));
SELECT * FROM pg_temp.track_sec_tables('crdt_ext.');
GRANT SELECT, INSERT, UPDATE ON sec_inv, sec_rows TO crdt_sec_writer;
RESET ROLE;

SET ROLE crdt_sec_writer;
INSERT INTO sec_inv AS t (sku, stock, tags, seen, gone, price)
VALUES ('a', crdt_ext.crdt_increment(NULL::crdt_ext.pncounter, 10), crdt_ext.crdt_add(NULL::crdt_ext.orset, 'red'),
        crdt_ext.crdt_add(NULL::crdt_ext.gset, 'x'), crdt_ext.crdt_add(NULL::crdt_ext.twopset, 'y'), 5)
ON CONFLICT (sku) DO UPDATE SET stock = crdt_ext.crdt_increment(t.stock, 10);
INSERT INTO sec_inv AS t (sku, stock) VALUES ('a', crdt_ext.crdt_increment(NULL::crdt_ext.pncounter, 10))
ON CONFLICT (sku) DO UPDATE SET stock = crdt_ext.crdt_increment(t.stock, 10);
UPDATE sec_inv SET note = crdt_ext.crdt_set(note, '"hello"'), plan = crdt_ext.crdt_set(plan, '"A"'),
                   tags = crdt_ext.crdt_add(tags, 'green');
INSERT INTO sec_rows VALUES ('k', 'n1', crdt_ext.crdt_increment(NULL::crdt_ext.gcounter, 3),
                             crdt_ext.crdt_set(NULL::crdt_ext.mvreg, '"x"'), 1);
RESET ROLE;

SET session_replication_role = replica;
UPDATE sec_inv SET price = 7, stock = '{"p":{"n2":4}}', clk = '{"n2":1}',
       writer = crdt_ext.crdt_set_at('{}'::crdt_ext.lwwreg, 'null', '2100-01-01', 'n2'),
       note = crdt_ext.crdt_set_at('{}'::crdt_ext.lwwreg, '"n2"', '2000-01-01', 'n2'),
       plan = crdt_ext.crdt_set('{}'::crdt_ext.mvreg, '"B"', 'n2');
UPDATE sec_inv SET price = 1, clk = '{"n2":1}';
UPDATE sec_inv SET price = 8, stock = '{"n":{"n3":100}}', clk = '{"n3":1}',
       writer = crdt_ext.crdt_set_at('{}'::crdt_ext.lwwreg, 'null', '1990-01-01', 'n3');
INSERT INTO sec_inv (sku, stock, tags, seen, gone, clk)
VALUES ('a', '{"p":{"n4":1}}', crdt_ext.crdt_add('{}'::crdt_ext.orset, 'blue', 'n4'),
        crdt_ext.crdt_add('{}'::crdt_ext.gset, 'z'),
        crdt_ext.crdt_remove(crdt_ext.crdt_add('{}'::crdt_ext.twopset, 'w'), 'w'), '{"n4":1}');
UPDATE sec_inv SET price = price;
INSERT INTO sec_rows VALUES ('k', 'n2', '{"n2":5}', crdt_ext.crdt_set('{}'::crdt_ext.mvreg, '"y"', 'n2'), 2, '{"n2":1}');
UPDATE sec_rows SET n = '{"n2":500}', clk = '{"n2":2}' WHERE replica OPERATOR(pg_catalog.=) 'n2';
RESET session_replication_role;

SET search_path = pg_catalog, crdt_ext;
SELECT kind, column_name, resolution, status, count(*)
FROM crdt_reconcile.conflicts GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
SELECT * FROM pg_temp.sec_conflicts() \gset

SET search_path = public, crdt_ext, pg_catalog;
SET ROLE crdt_sec_writer;
SELECT * FROM pg_temp.arbitrate(:c_price, :c_note, :c_plan, :c_stale, :c_row, :c_rows_price, :c_rows_n);
SELECT sku, crdt_ext.crdt_value(stock) AS stock, crdt_ext.crdt_value(tags) AS tags, crdt_ext.crdt_value(seen) AS seen,
       crdt_ext.crdt_value(gone) AS gone, price, crdt_ext.crdt_value(note) AS note, crdt_ext.crdt_value(plan) AS plan
FROM sec_inv;
SELECT k, replica, crdt_ext.crdt_value(n) AS n, price FROM sec_rows ORDER BY replica COLLATE "C";
SELECT relation, local_writes, merges_applied, inserts_merged, stale_skipped, echoes_skipped, conflicts_recorded
FROM crdt_reconcile.merge_stats ORDER BY relation::text COLLATE "C";
SELECT relation, kind, total, open FROM crdt_reconcile.conflict_stats ORDER BY relation::text COLLATE "C", kind COLLATE "C";
SELECT relation, replica, keys, keys_behind, max_distance, total_distance
FROM crdt_reconcile.reconciliation_lag ORDER BY relation::text COLLATE "C", replica COLLATE "C";
RESET ROLE;
SET ROLE crdt_sec_auditor;
SELECT crdt_reconcile.reset_merge_stats('sec_inv');
SELECT crdt_reconcile.purge_conflicts('0 seconds', include_open => true) AS purged;
RESET ROLE;

-- Every function of the extension, called once through its qualified name
-- with public first in search_path (functions taking internal are only
-- reachable through the types and aggregates exercised above).
CREATE TABLE sec_target (k int PRIMARY KEY, c crdt_ext.gcounter);
CREATE FUNCTION pg_temp.call_everything() RETURNS TABLE (outcome text, functions bigint, which text)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	f record;
	args text[];
	state text;
	outcomes text[] := '{}';
	names text[] := '{}';
BEGIN
	FOR f IN
		SELECT p.oid, p.proname, n.nspname, p.prokind, p.proargtypes::oid[] AS types,
		       coalesce(p.proargnames, '{}') AS names
		FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
		  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
		ORDER BY p.oid
	LOOP
		args := ARRAY(
			SELECT CASE
				WHEN t.typ = 'pg_catalog.internal'::regtype THEN NULL
				WHEN f.names[t.i] = 'conflict_id' THEN '-1::pg_catalog.int8'
				WHEN t.typ = 'pg_catalog.regclass'::regtype THEN '''public.sec_target''::pg_catalog.regclass'
				WHEN t.typ = 'pg_catalog.regtype'::regtype THEN '''pg_catalog.int4''::pg_catalog.regtype'
				WHEN t.typ = 'pg_catalog.name'::regtype THEN '''c''::pg_catalog.name'
				WHEN t.typ = 'pg_catalog.text'::regtype THEN '''x''::pg_catalog.text'
				WHEN t.typ = 'pg_catalog.text[]'::regtype THEN '''{x,y}''::pg_catalog.text[]'
				WHEN t.typ = 'pg_catalog.int8'::regtype THEN '2::pg_catalog.int8'
				WHEN t.typ = 'pg_catalog.int4'::regtype THEN '0::pg_catalog.int4'
				WHEN t.typ = 'pg_catalog.bool'::regtype THEN 'false'
				WHEN t.typ = 'pg_catalog.interval'::regtype THEN '''1 day''::pg_catalog.interval'
				WHEN t.typ = 'pg_catalog.timestamptz'::regtype THEN '''2026-01-01 00:00+00''::pg_catalog.timestamptz'
				WHEN t.typ = 'pg_catalog.jsonb'::regtype THEN '''{}''::pg_catalog.jsonb'
				WHEN t.typ = 'pg_catalog.json'::regtype THEN '''{}''::pg_catalog.json'
				WHEN t.typ = 'pg_catalog.cstring'::regtype THEN '''{}''::pg_catalog.cstring'
				WHEN t.typ = 'pg_catalog.bytea'::regtype THEN '''\x0100''::pg_catalog.bytea'
				WHEN (SELECT y.typnamespace = 'crdt_ext'::regnamespace FROM pg_type y WHERE y.oid = t.typ)
				THEN pg_catalog.format('%L::%s', CASE pg_catalog.format_type(t.typ, NULL)
					WHEN 'crdt_ext.pncounter' THEN '{"p":{"a":3},"n":{"b":1}}'
					WHEN 'crdt_ext.bcounter' THEN '{"p":{"a":3},"t":{"a":{"b":1}}}'
					WHEN 'crdt_ext.gset' THEN '["x","y"]'
					WHEN 'crdt_ext.twopset' THEN '{"elements":["x"],"removed":["z"]}'
					WHEN 'crdt_ext.orset' THEN '{"elements":{"x":[["a",1]]},"context":{"a":1}}'
					WHEN 'crdt_ext.lwwreg' THEN '{"value":1,"at":"2026-01-01T00:00:00Z","replica":"a"}'
					WHEN 'crdt_ext.mvreg' THEN '{"values":[{"value":"A","dots":[["a",1]]}],"context":{"a":1}}'
					WHEN 'crdt_ext.rtext' THEN '{"a":[[1,"^","hi"]]}'
					WHEN 'crdt_ext.rlist' THEN '{"a":[[1,"^",[1,"x"]]]}'
					ELSE '{"a":1,"b":2}' END, pg_catalog.format_type(t.typ, NULL))
				END
			FROM pg_catalog.unnest(f.types) WITH ORDINALITY AS t(typ, i) ORDER BY t.i);
		IF pg_catalog.array_position(args, NULL) IS NOT NULL THEN
			outcomes := outcomes || 'not callable from SQL (internal argument)'::text;
			names := names || NULL::text;
			CONTINUE;
		END IF;
		PERFORM pg_catalog.set_config('search_path', 'public, crdt_ext, pg_catalog', true);
		BEGIN
			IF f.prokind = 'a' THEN
				EXECUTE pg_catalog.format('SELECT %I.%I(x) FROM (VALUES (%s), (NULL)) v(x)', f.nspname, f.proname, args[1]);
			ELSE
				EXECUTE pg_catalog.format('SELECT %I.%I(%s)', f.nspname, f.proname, pg_catalog.array_to_string(args, ', '));
			END IF;
			state := 'called';
		EXCEPTION WHEN others THEN
			state := pg_catalog.concat('called, error ', SQLSTATE);
		END;
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);
		outcomes := outcomes || state;
		names := names || CASE WHEN state <> 'called' THEN f.oid::regprocedure::text END;
	END LOOP;
	RETURN QUERY SELECT o, pg_catalog.count(*), pg_catalog.string_agg(w, ', ' ORDER BY w COLLATE "C")
	FROM ROWS FROM (pg_catalog.unnest(outcomes), pg_catalog.unnest(names)) AS x(o, w) GROUP BY o ORDER BY o;
END
$$;
SET crdt.replica_id = 'n1';
SELECT * FROM pg_temp.call_everything();
RESET crdt.replica_id;

SET ROLE crdt_sec_owner;
SELECT crdt_reconcile.untrack('sec_inv'), crdt_reconcile.untrack('sec_rows');
DROP TABLE sec_inv, sec_rows;
RESET ROLE;
DROP TABLE sec_target;

SET search_path = pg_catalog;
SELECT last_value AS trap_calls, is_called FROM public.trap_count;
SELECT what, by_role, query FROM public.trap_log;

-- ------------------------------------------------------------ the functions
-- Every function of the extension: SECURITY DEFINER (only the two event
-- trigger functions, which read catalogs and run no user code), and the
-- search_path it pins.  track() pins none on purpose (it hands the caller's
-- path to track_in_path for the invariant); its body is fully qualified.
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer, p.proconfig AS settings
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
ORDER BY p.oid::regprocedure::text COLLATE "C";
-- no SECURITY DEFINER function without a pinned search_path
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
  AND p.prosecdef AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');
-- SQL and PL/pgSQL functions that do not pin search_path, and their bodies
SELECT p.oid::regprocedure AS unpinned, l.lanname, p.prosrc AS body
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid JOIN pg_language l ON l.oid = p.prolang
WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crdt_reconcile')
  AND l.lanname IN ('sql', 'plpgsql') AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
ORDER BY p.oid::regprocedure::text COLLATE "C";

-- ------------------------------------------------------------ clean up
SET client_min_messages = warning;
DROP EXTENSION crdt_reconcile CASCADE;
DROP SCHEMA crdt_ext;
DROP OWNED BY crdt_sec_mallory, crdt_sec_owner, crdt_sec_writer, crdt_sec_auditor, crdt_sec_stranger;
DROP ROLE crdt_sec_mallory, crdt_sec_owner, crdt_sec_writer, crdt_sec_auditor, crdt_sec_stranger;
RESET search_path;
CREATE EXTENSION crdt_reconcile;
RESET client_min_messages;
