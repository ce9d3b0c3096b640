--
-- Randomized convergence: three replicas write concurrently (counters, sets,
-- registers, plain columns, row clocks) and exchange some of their states;
-- every state they emit is logged.  Then the whole log is applied to eight
-- empty copies, each in a different random order with duplicates, as an
-- apply worker would (session_replication_role = replica).  Every copy must
-- end in identical rows, every column, and the counter must hold exactly
-- the sum of all increments issued.
--
\set SHOW_CONTEXT never
SET application_name = 'regress';
SELECT setseed(0.4242);
CREATE TABLE conv (k int PRIMARY KEY, hits gcounter, stock pncounter, tags orset, note lwwreg,
                   plan mvreg, label text, qty int, clk vclock, writer lwwreg);
CREATE TABLE conv_log (id serial PRIMARY KEY, r conv);
CREATE TABLE conv_issued (hits bigint, stock bigint);
DO $$
DECLARE
	origin text;
	key int;
	hits_sum bigint := 0;
	stock_sum bigint := 0;
	n int;
	entry conv;
BEGIN
	FOR i IN 1..3 LOOP
		EXECUTE format('CREATE TABLE conv_o%s (LIKE conv INCLUDING ALL)', i);
		PERFORM crdt_reconcile.track(format('conv_o%s', i)::regclass, clock_column => 'clk', writer_column => 'writer');
	END LOOP;
	FOR step IN 1..240 LOOP
		origin := 'o' || (1 + floor(random() * 3))::int;
		key := 1 + floor(random() * 4)::int;
		IF random() < 0.7 THEN
			-- a local write on replica origin
			PERFORM set_config('crdt.replica_id', origin, true);
			PERFORM set_config('session_replication_role', 'origin', true);
			n := 1 + floor(random() * 5)::int;
			hits_sum := hits_sum + n;
			stock_sum := stock_sum + n - 2;
			EXECUTE format($q$
				INSERT INTO conv_%1$s AS t (k, hits, stock, tags, note, plan, label, qty)
				VALUES (%2$s, crdt_increment('{}'::gcounter, %3$s), crdt_increment('{}'::pncounter, %3$s - 2),
				        crdt_add('{}'::orset, %4$L), crdt_set('{}'::lwwreg, to_jsonb(%4$L::text)),
				        crdt_set('{}'::mvreg, to_jsonb(%3$s)), %4$L, %3$s)
				ON CONFLICT (k) DO UPDATE SET
					hits = crdt_increment(t.hits, %3$s), stock = crdt_increment(t.stock, %3$s - 2),
					tags = CASE WHEN %3$s > 3 THEN crdt_remove(t.tags, 'e' || %3$s) ELSE crdt_add(t.tags, %4$L) END,
					note = crdt_set(t.note, to_jsonb(%4$L::text)), plan = crdt_set(t.plan, to_jsonb(%3$s)),
					label = %4$L, qty = t.qty + %3$s$q$,
				origin, key, n, 'e' || (1 + floor(random() * 6))::int);
			EXECUTE format('SELECT t.* FROM conv_%s t WHERE k = %s', origin, key) INTO entry;
			INSERT INTO conv_log (r) VALUES (entry);
		ELSE
			-- origin receives a state some replica emitted earlier
			PERFORM set_config('session_replication_role', 'replica', true);
			SELECT (l.r).* INTO entry FROM conv_log l ORDER BY random() LIMIT 1;
			IF entry.k IS NOT NULL THEN
				EXECUTE format('INSERT INTO conv_%s SELECT ($1).*', origin) USING entry;
			END IF;
		END IF;
	END LOOP;
	PERFORM set_config('session_replication_role', 'origin', true);
	INSERT INTO conv_issued VALUES (hits_sum, stock_sum);
END
$$;
SELECT count(*) > 100 AS enough_states, count(DISTINCT (r).k) AS keys FROM conv_log;

-- eight copies, eight orders, each state delivered once or more
DO $$
DECLARE
	e conv;
BEGIN
	PERFORM set_config('session_replication_role', 'replica', true);
	FOR c IN 1..8 LOOP
		EXECUTE format('CREATE TABLE conv_c%s (LIKE conv INCLUDING ALL)', c);
		PERFORM crdt_reconcile.track(format('conv_c%s', c)::regclass, clock_column => 'clk', writer_column => 'writer');
		FOR e IN SELECT (l.r).* FROM conv_log l, generate_series(1, 1 + (random() < 0.3)::int) dup ORDER BY random() LOOP
			EXECUTE format('INSERT INTO conv_c%s SELECT ($1).*', c) USING e;
		END LOOP;
	END LOOP;
END
$$;

CREATE FUNCTION conv_digest(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
	EXECUTE format('SELECT md5(string_agg(t::text, %L ORDER BY k)) FROM %s t', '|', rel) INTO d;
	RETURN d;
END $$;
-- identical rows in all eight copies, every column
SELECT count(DISTINCT conv_digest(format('conv_c%s', c)::regclass)) AS distinct_states,
       count(*) AS copies
FROM generate_series(1, 8) c;
-- and no update lost: the counters hold the sum of every increment issued
SELECT sum(crdt_value(hits)) = (SELECT hits FROM conv_issued) AS hits_exact,
       sum(crdt_value(stock)) = (SELECT stock FROM conv_issued) AS stock_exact,
       bool_and(vclock_compare(clk, (SELECT crdt_merge((l.r).clk) FROM conv_log l WHERE (l.r).k = c.k)) = 'equal') AS clocks_complete
FROM conv_c1 c;
-- a replica that has seen everything agrees too: feed the log to the three origins
DO $$
BEGIN
	PERFORM set_config('session_replication_role', 'replica', true);
	FOR o IN 1..3 LOOP
		EXECUTE format('INSERT INTO conv_o%s SELECT (l.r).* FROM conv_log l ORDER BY l.id DESC', o);
	END LOOP;
END
$$;
SELECT count(DISTINCT conv_digest(rel)) AS distinct_states
FROM unnest(ARRAY['conv_c1', 'conv_o1', 'conv_o2', 'conv_o3']::regclass[]) rel;
