-- ------------------------------------------------------------ anti-entropy
--
-- Two nodes compare a Merkle tree over the key hashes.  Every row has a
-- key hash kh (row_hash of its primary-key columns) and a row hash rh
-- (row_hash of the whole row); so has every tombstone of the table (its
-- key's hash, and a hash of its key and clock), so that deletes are
-- compared and repaired along with the rows.  A node of the tree is a
-- prefix of kh: at depth `bits` (0 to 60) node n holds the rows whose kh,
-- read as an unsigned 64-bit number, starts with the `bits` bits of n; its
-- digest is (rows, XOR of rh), so it does not depend on row order.
-- repair() snapshots the hashes on both nodes (a temporary table in each
-- session, indexed on kh), walks down from the root 4 bits (16 children)
-- at a time, one round trip per level, expanding only nodes whose digests
-- differ, and fetches the rows of the differing nodes that hold at most
-- one of the peer's rows (or that this node lacks entirely) — about the
-- rows that differ.
--
-- Every function that prints or parses values pins the settings that change
-- a value's text (the SET clauses below); digests therefore do not depend on
-- the session, and rows cross dblink as text printed and parsed under the
-- same settings on both sides.

CREATE FUNCTION crdt_reconcile.stable_hash(pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_stable_text_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.stable_hash(pg_catalog.text) IS
	'XXH64 of the text''s UTF-8 bytes: the same on every node, platform and database encoding';

CREATE FUNCTION crdt_reconcile.row_hash(pg_catalog.record) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_row_hash' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.row_hash(pg_catalog.record) IS
	'XXH64 of the row''s columns in name order, each as name and output text; depends on the settings digest() pins';
CREATE FUNCTION crdt_reconcile.row_hash(pg_catalog.record, pg_catalog.name[]) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_row_hash' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.row_hash(pg_catalog.record, pg_catalog.name[]) IS
	'row_hash over the named columns only (a key)';

-- The primary-key columns of a table, in index order.
CREATE FUNCTION crdt_reconcile.key_columns(rel pg_catalog.regclass) RETURNS pg_catalog.name[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[];
BEGIN
	SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO keys
	FROM pg_catalog.pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
	JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF keys IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key', rel
			USING ERRCODE = 'invalid_table_definition',
			      HINT = 'Anti-entropy names rows by their primary key.';
	END IF;
	RETURN keys;
END
$$;

-- The node of key hash `kh` at depth `bits`, as SQL: the top bits of kh
-- read unsigned (arithmetic shift, then mask off the sign's copies).
CREATE FUNCTION crdt_reconcile.merkle_node_sql(kh pg_catalog.text, bits pg_catalog.int4) RETURNS pg_catalog.text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF bits IS NULL OR bits < 0 OR bits > 60 THEN
		RAISE EXCEPTION 'bits must be between 0 and 60, not %', coalesce(bits::pg_catalog.text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF bits = 0 THEN
		RETURN '0::pg_catalog.int8';
	END IF;
	RETURN pg_catalog.format('((%s OPERATOR(pg_catalog.>>) %s) OPERATOR(pg_catalog.&) %s::pg_catalog.int8)',
		kh, 64 - bits, ((1::pg_catalog.int8 << bits) - 1));
END
$$;

-- The Merkle tree's entries of a table, as SQL: (kh, rh, key1..keyN, tomb)
-- per row, and per tombstone of the table (tomb: its row_key; its key hash
-- is the one its row had).
CREATE FUNCTION crdt_reconcile.merkle_entries_sql(rel pg_catalog.regclass) RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
	row_keys pg_catalog.text;
	tomb_keys pg_catalog.text;
	key_defs pg_catalog.text;
	relation_name pg_catalog.text;
BEGIN
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO relation_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%I AS key%s', u.k, u.i), ', ' ORDER BY u.i),
	       pg_catalog.string_agg(pg_catalog.format('x.%I AS key%s', u.k, u.i), ', ' ORDER BY u.i),
	       pg_catalog.string_agg(pg_catalog.format('%I %s', u.k, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', '
	                             ORDER BY u.i)
	INTO row_keys, tomb_keys, key_defs
	FROM pg_catalog.unnest(keys) WITH ORDINALITY AS u(k, i)
	JOIN pg_catalog.pg_attribute a ON a.attrelid = rel AND a.attname = u.k;
	RETURN pg_catalog.format(
		'SELECT crdt_reconcile.row_hash(t.*, %1$L::pg_catalog.name[]) AS kh, crdt_reconcile.row_hash(t.*) AS rh, %2$s, '
		'       NULL::pg_catalog.jsonb AS tomb '
		'FROM %3$s t '
		'UNION ALL '
		'SELECT crdt_reconcile.row_hash(x.*, %1$L::pg_catalog.name[]), '
		'       crdt_reconcile.row_hash(ROW(''tombstone''::pg_catalog.text, d.row_key, d.clock)), %4$s, d.row_key '
		'FROM crdt_reconcile.tombstones d CROSS JOIN LATERAL pg_catalog.jsonb_to_record(d.row_key) AS x(%5$s) '
		'WHERE d.relation_name OPERATOR(pg_catalog.=) %6$L',
		keys, row_keys, rel, tomb_keys, key_defs, relation_name);
END
$$;

CREATE FUNCTION crdt_reconcile.digest(rel pg_catalog.regclass, bits pg_catalog.int4 DEFAULT 8,
		OUT bucket pg_catalog.int8, OUT rows pg_catalog.int8, OUT hash pg_catalog.int8)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
BEGIN
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT %s, pg_catalog.count(*), pg_catalog.bit_xor(h.rh) FROM (%s) h GROUP BY 1 ORDER BY 1',
		crdt_reconcile.merkle_node_sql('h.kh', bits), crdt_reconcile.merkle_entries_sql(rel));
END
$$;
COMMENT ON FUNCTION crdt_reconcile.digest(pg_catalog.regclass, pg_catalog.int4) IS
	'Merkle digests at depth bits: per non-empty bucket (the top bits of the key hash) its rows and tombstones and the XOR of their hashes; equal data, equal digests';

-- This session's snapshot of a table's hashes (and keys), for the descent.
CREATE FUNCTION crdt_reconcile.merkle_snapshot(rel pg_catalog.regclass) RETURNS pg_catalog.int8
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	snap pg_catalog.text := 'crdt_reconcile_merkle_' || rel::pg_catalog.oid;
	n pg_catalog.int8;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.' || snap) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', snap);
	END IF;
	EXECUTE pg_catalog.format('CREATE TEMPORARY TABLE %I AS %s ORDER BY 1', snap, crdt_reconcile.merkle_entries_sql(rel));
	EXECUTE pg_catalog.format('CREATE INDEX ON pg_temp.%I (kh)', snap);
	EXECUTE pg_catalog.format('ANALYZE pg_temp.%I', snap);
	EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM pg_temp.%I', snap) INTO n;
	RETURN n;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_snapshot(pg_catalog.regclass) IS
	'anti-entropy: snapshots the hashes of the table''s rows and tombstones in a temporary table of this session; returns how many';

-- The name of this session's snapshot of rel (merkle_snapshot), or an error
-- when there is none.
CREATE FUNCTION crdt_reconcile.merkle_snapshot_of(rel pg_catalog.regclass) RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	snap pg_catalog.text := 'crdt_reconcile_merkle_' || rel::pg_catalog.oid;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.' || snap) IS NULL THEN
		RAISE EXCEPTION 'this session has no snapshot of %', rel
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call crdt_reconcile.merkle_snapshot first.';
	END IF;
	RETURN snap;
END
$$;

-- The rows of the snapshot under the given nodes at depth parent_bits, as
-- a condition on h.kh: an index range per node.  The callers put it in a
-- LATERAL subquery behind OFFSET 0, so that the plan is always one index
-- range scan per node (a join on the range as a filter would compare every
-- node with every row).
CREATE FUNCTION crdt_reconcile.merkle_range_sql(bits pg_catalog.text, node pg_catalog.text) RETURNS pg_catalog.text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.format(
		'h.kh BETWEEN (CASE WHEN %1$s OPERATOR(pg_catalog.=) 0 THEN -9223372036854775808 '
		'                   ELSE %2$s OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s) END) '
		'AND (CASE WHEN %1$s OPERATOR(pg_catalog.=) 0 THEN 9223372036854775807 '
		'          ELSE (%2$s OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s)) OPERATOR(pg_catalog.+) '
		'               ((1::pg_catalog.int8 OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s)) OPERATOR(pg_catalog.-) 1) END)',
		bits, node)
$$;

CREATE FUNCTION crdt_reconcile.merkle_nodes(rel pg_catalog.regclass, parent_bits pg_catalog.int4,
		parents pg_catalog.int8[], bits pg_catalog.int4,
		OUT node pg_catalog.int8, OUT rows pg_catalog.int8, OUT hash pg_catalog.int8)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
BEGIN
	IF parent_bits IS NULL OR bits IS NULL OR parent_bits < 0 OR parent_bits > bits OR bits > 60 THEN
		RAISE EXCEPTION 'need 0 <= parent_bits <= bits <= 60'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT %1$s, pg_catalog.count(*), pg_catalog.bit_xor(h.rh) '
		'FROM (SELECT DISTINCT p FROM pg_catalog.unnest($1) p '
		'      WHERE p BETWEEN 0 AND (1::pg_catalog.int8 << %2$s) - 1) AS p(node) '
		'CROSS JOIN LATERAL (SELECT h.kh, h.rh FROM pg_temp.%3$I h WHERE %4$s OFFSET 0) h GROUP BY 1',
		crdt_reconcile.merkle_node_sql('h.kh', bits), parent_bits, snap,
		crdt_reconcile.merkle_range_sql(parent_bits::pg_catalog.text, 'p.node'))
	USING parents;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_nodes(pg_catalog.regclass, pg_catalog.int4, pg_catalog.int8[], pg_catalog.int4) IS
	'anti-entropy: from this session''s snapshot, the digests at depth bits under the given nodes at depth parent_bits';

-- The rows of the table whose keys the snapshot has under the given nodes
-- (bits[i], nodes[i]), each as the output text of the named columns,
-- printed under the pinned settings.  Looked up by primary key, one at a
-- time: the planner cannot tell how few keys a node range holds, and a
-- hash join would scan the whole table once per node.  (So, below, for the
-- tombstones.)
CREATE FUNCTION crdt_reconcile.merkle_rows(rel pg_catalog.regclass, columns pg_catalog.name[],
		bits pg_catalog.int4[], nodes pg_catalog.int8[])
	RETURNS SETOF pg_catalog.text[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET enable_hashjoin = off SET enable_mergejoin = off
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
BEGIN
	IF pg_catalog.cardinality(columns) = 0 OR pg_catalog.array_position(columns, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'columns must name at least one column and no NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT ARRAY[%1$s]::pg_catalog.text[] '
		'FROM (SELECT DISTINCT b, n FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(b, n) '
		'      WHERE b BETWEEN 0 AND 60 AND n BETWEEN 0 AND (1::pg_catalog.int8 << b) - 1) AS l '
		'CROSS JOIN LATERAL (SELECT h.* FROM pg_temp.%2$I h WHERE %3$s AND h.tomb IS NULL OFFSET 0) h '
		'JOIN %4$s t ON %5$s',
		(SELECT pg_catalog.string_agg(pg_catalog.format(
			'CASE WHEN pg_catalog.num_nulls(t.%1$I) = 0 THEN pg_catalog.format(''%%s'', t.%1$I) END', c), ', ' ORDER BY i)
		 FROM pg_catalog.unnest(columns) WITH ORDINALITY AS u(c, i)),
		snap, crdt_reconcile.merkle_range_sql('l.b', 'l.n'), rel,
		(SELECT pg_catalog.string_agg(pg_catalog.format('t.%I OPERATOR(pg_catalog.=) h.key%s', k, i), ' AND ' ORDER BY i)
		 FROM pg_catalog.unnest(keys) WITH ORDINALITY AS u(k, i)))
	USING bits, nodes;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_rows(pg_catalog.regclass, pg_catalog.name[], pg_catalog.int4[], pg_catalog.int8[]) IS
	'anti-entropy: the current rows under the given snapshot nodes, as the text of the named columns';

-- The tombstones of the table that the snapshot has under the given nodes,
-- as they are now: each as the text of its row_key and clock.
CREATE FUNCTION crdt_reconcile.merkle_tombstones(rel pg_catalog.regclass, bits pg_catalog.int4[], nodes pg_catalog.int8[])
	RETURNS SETOF pg_catalog.text[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET enable_hashjoin = off SET enable_mergejoin = off
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
BEGIN
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT ARRAY[d.row_key::pg_catalog.text, pg_catalog.format(''%%s'', d.clock)] '
		'FROM (SELECT DISTINCT b, n FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(b, n) '
		'      WHERE b BETWEEN 0 AND 60 AND n BETWEEN 0 AND (1::pg_catalog.int8 << b) - 1) AS l '
		'CROSS JOIN LATERAL (SELECT h.tomb FROM pg_temp.%1$I h WHERE %2$s AND h.tomb IS NOT NULL OFFSET 0) h '
		'JOIN crdt_reconcile.tombstones d ON d.relation_name OPERATOR(pg_catalog.=) %3$L AND d.row_key OPERATOR(pg_catalog.=) h.tomb',
		snap, crdt_reconcile.merkle_range_sql('l.b', 'l.n'),
		(SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
		 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel))
	USING bits, nodes;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_tombstones(pg_catalog.regclass, pg_catalog.int4[], pg_catalog.int8[]) IS
	'anti-entropy: the current tombstones under the given snapshot nodes, as text (row_key, clock)';

-- ---- the repairing side

-- dblink's schema, or an error that says to install it.
CREATE FUNCTION crdt_reconcile.dblink_schema() RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s pg_catalog.text;
BEGIN
	SELECT n.nspname INTO s FROM pg_catalog.pg_extension e
	JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
	IF s IS NULL THEN
		RAISE EXCEPTION 'crdt_reconcile.repair needs the dblink extension'
			USING ERRCODE = 'undefined_function', HINT = 'CREATE EXTENSION dblink;';
	END IF;
	RETURN s;
END
$$;

-- Connects to the peer (dblink connection "crdt_reconcile_repair"),
-- snapshots both sides at once, walks down the tree and leaves the nodes to
-- fetch in pg_temp.crdt_reconcile_leaves, numbered in batches of about
-- batch_rows of the peer's rows.
CREATE FUNCTION crdt_reconcile.repair_start(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4,
		OUT rows_here pg_catalog.int8, OUT rows_peer pg_catalog.int8, OUT levels pg_catalog.int4,
		OUT nodes_compared pg_catalog.int8, OUT nodes_differing pg_catalog.int8,
		OUT rows_to_fetch pg_catalog.int8, OUT batches pg_catalog.int4)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	db pg_catalog.text := crdt_reconcile.dblink_schema();
	conn CONSTANT pg_catalog.text := 'crdt_reconcile_repair';
	remote_name pg_catalog.text;
	parent_bits pg_catalog.int4 := 0;
	depth pg_catalog.int4;
	frontier pg_catalog.int8[] := '{0}';
	compared pg_catalog.int8;
	differing pg_catalog.int8;
BEGIN
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RAISE EXCEPTION 'table % is not tracked', rel USING ERRCODE = 'invalid_parameter_value',
			HINT = 'repair merges through the tracked-table trigger; call crdt_reconcile.track first.';
	END IF;
	IF batch_rows IS NULL OR batch_rows < 1 THEN
		RAISE EXCEPTION 'batch_rows must be positive' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the same table on the peer, by its schema-qualified name
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO remote_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;

	-- whatever repair this session still had under way ends here
	PERFORM crdt_reconcile.repair_finish(rel);
	-- (the connection string, which may hold a password, is passed as a
	-- parameter so that it does not appear in the statement's text)
	EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', db) USING conn, peer_conninfo;

	-- both snapshots at once: the peer's runs while this one is taken
	EXECUTE pg_catalog.format('SELECT %I.dblink_send_query(%L, %L)', db, conn,
		pg_catalog.format('SELECT crdt_reconcile.merkle_snapshot(%L::pg_catalog.regclass)', remote_name));
	rows_here := crdt_reconcile.merkle_snapshot(rel);
	EXECUTE pg_catalog.format('SELECT r.n FROM %I.dblink_get_result(%L) AS r(n pg_catalog.int8)', db, conn)
		INTO rows_peer;
	EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.dblink_get_result(%L) AS r(n pg_catalog.int8)', db, conn);

	CREATE TEMPORARY TABLE crdt_reconcile_leaves (bits pg_catalog.int4, node pg_catalog.int8,
		local_rows pg_catalog.int8, remote_rows pg_catalog.int8, batch pg_catalog.int4);
	CREATE TEMPORARY TABLE crdt_reconcile_level (node pg_catalog.int8, local_rows pg_catalog.int8,
		remote_rows pg_catalog.int8, differs pg_catalog.bool, leaf pg_catalog.bool);
	CREATE TEMPORARY TABLE crdt_reconcile_here (node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8);

	levels := 0;
	nodes_compared := 0;
	nodes_differing := 0;
	WHILE pg_catalog.cardinality(frontier) > 0 LOOP
		IF levels = 0 THEN
			-- The first level has 16 to 256 rows per node: the levels
			-- above it would differ everywhere once a few rows differ.
			depth := 4 * GREATEST(1, LEAST(14, pg_catalog.floor(pg_catalog.ln(
				GREATEST(rows_here, rows_peer, 16) / 16.0) / pg_catalog.ln(16.0))::pg_catalog.int4));
		ELSE
			depth := LEAST(parent_bits + 4, 60);
		END IF;
		levels := levels + 1;
		-- the peer computes its digests while this node computes its own
		EXECUTE pg_catalog.format('SELECT %I.dblink_send_query(%L, %L)', db, conn,
			pg_catalog.format('SELECT * FROM crdt_reconcile.merkle_nodes(%L::pg_catalog.regclass, %s, %L::pg_catalog.int8[], %s)',
				remote_name, parent_bits, frontier, depth));
		TRUNCATE pg_temp.crdt_reconcile_here;
		INSERT INTO pg_temp.crdt_reconcile_here
		SELECT * FROM crdt_reconcile.merkle_nodes(rel, parent_bits, frontier, depth);
		TRUNCATE pg_temp.crdt_reconcile_level;
		EXECUTE pg_catalog.format(
			'INSERT INTO pg_temp.crdt_reconcile_level '
			'SELECT coalesce(h.node, r.node), coalesce(h.rows, 0), coalesce(r.rows, 0), '
			'       h.hash IS DISTINCT FROM r.hash OR h.rows IS DISTINCT FROM r.rows, false '
			'FROM pg_temp.crdt_reconcile_here h '
			'FULL JOIN %I.dblink_get_result(%L) AS r(node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8) '
			'ON r.node = h.node',
			db, conn);
		EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.dblink_get_result(%L) '
			'AS r(node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8)', db, conn);
		SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE l.differs)
		INTO compared, differing FROM pg_temp.crdt_reconcile_level l;
		nodes_compared := nodes_compared + compared;
		nodes_differing := nodes_differing + differing;
		-- A differing node is fetched whole when the peer has at most one
		-- row in it, when this node has none of its rows (all differ), or
		-- at the bottom; nodes where the peer has nothing are left alone
		-- (the rows only here reach the peer when it repairs from here).
		UPDATE pg_temp.crdt_reconcile_level l SET leaf = true
		WHERE l.differs AND l.remote_rows > 0
		  AND (l.remote_rows <= 1 OR (l.local_rows = 0 AND l.remote_rows <= batch_rows) OR depth >= 60);
		INSERT INTO pg_temp.crdt_reconcile_leaves (bits, node, local_rows, remote_rows)
		SELECT depth, l.node, l.local_rows, l.remote_rows FROM pg_temp.crdt_reconcile_level l WHERE l.leaf;
		frontier := ARRAY(SELECT l.node FROM pg_temp.crdt_reconcile_level l
		                  WHERE l.differs AND l.remote_rows > 0 AND NOT l.leaf ORDER BY l.node);
		RAISE DEBUG 'crdt_reconcile.repair of %: level % (depth % bits): % nodes compared, % differ, % to descend, at %',
			rel, levels, depth, compared, differing, pg_catalog.cardinality(frontier), pg_catalog.clock_timestamp();
		parent_bits := depth;
	END LOOP;
	DROP TABLE pg_temp.crdt_reconcile_level, pg_temp.crdt_reconcile_here;

	-- batches of about batch_rows of the peer's rows, in key-hash order
	UPDATE pg_temp.crdt_reconcile_leaves l SET batch = b.batch
	FROM (SELECT x.bits, x.node, pg_catalog.dense_rank() OVER (ORDER BY x.start / batch_rows)::pg_catalog.int4 AS batch
	      FROM (SELECT y.bits, y.node,
	                   (pg_catalog.sum(y.remote_rows) OVER (ORDER BY y.bits, y.node))::pg_catalog.int8 - y.remote_rows AS start
	            FROM pg_temp.crdt_reconcile_leaves y) x) b
	WHERE b.bits = l.bits AND b.node = l.node;
	SELECT coalesce(pg_catalog.sum(l.remote_rows), 0), coalesce(pg_catalog.max(l.batch), 0)
	INTO rows_to_fetch, batches FROM pg_temp.crdt_reconcile_leaves l;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
	'anti-entropy, step 1: connects to the peer, snapshots both sides, descends the Merkle tree, plans the batches';

-- Fetches one batch of the planned nodes' tombstones and rows from the peer
-- and merges them in as replicated writes: tombstones into
-- crdt_reconcile.tombstones (which removes the rows here they cover); rows
-- whose key exists here through an UPDATE (the trigger merges, never
-- overwrites), the others through an INSERT (generated columns recomputed,
-- identity values kept).
CREATE FUNCTION crdt_reconcile.repair_batch(rel pg_catalog.regclass, batch pg_catalog.int4,
		OUT rows_fetched pg_catalog.int8, OUT rows_changed pg_catalog.int8, OUT tombstones_fetched pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET session_replication_role = 'replica'
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	db pg_catalog.text := crdt_reconcile.dblink_schema();
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
	remote_name pg_catalog.text;
	bits pg_catalog.int4[];
	nodes pg_catalog.int8[];
	cols pg_catalog.name[];
	col_defs pg_catalog.text;
	set_cols pg_catalog.text;
	set_vals pg_catalog.text;
	key_match pg_catalog.text;
	overriding pg_catalog.text;
	update_cte pg_catalog.text;
	clock pg_catalog.name;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_leaves') IS NULL THEN
		RAISE EXCEPTION 'no repair is under way in this session'
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call crdt_reconcile.repair_start first.';
	END IF;
	SELECT pg_catalog.array_agg(l.bits ORDER BY l.bits, l.node), pg_catalog.array_agg(l.node ORDER BY l.bits, l.node)
	INTO bits, nodes FROM pg_temp.crdt_reconcile_leaves l WHERE l.batch = repair_batch.batch;
	rows_fetched := 0;
	rows_changed := 0;
	tombstones_fetched := 0;
	IF bits IS NULL THEN
		RETURN;
	END IF;
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO remote_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;

	-- Tombstones first, as an apply worker would write them: merged into
	-- the one here, and removing the row here they cover.  (Written with
	-- the caller's rights: a role that may not write tombstones repairs
	-- rows only.)
	BEGIN
		EXECUTE pg_catalog.format(
			'WITH f AS MATERIALIZED (SELECT * FROM %1$I.dblink(%2$L, %3$L) AS r(row_key pg_catalog.jsonb, clock @extschema@.vclock)), '
			'     i AS (INSERT INTO crdt_reconcile.tombstones (relation_name, row_key, clock, origin) '
			'           SELECT %4$L, f.row_key, f.clock, %5$L FROM f RETURNING 1) '
			'SELECT pg_catalog.count(*) FROM f WHERE (SELECT pg_catalog.count(*) FROM i) IS NOT NULL',
			db, 'crdt_reconcile_repair',
			pg_catalog.format('SELECT v[1], v[2] FROM crdt_reconcile.merkle_tombstones(%L::pg_catalog.regclass, '
			                  '%L::pg_catalog.int4[], %L::pg_catalog.int8[]) v', remote_name, bits, nodes),
			remote_name, 'crdt_reconcile.repair')
		INTO tombstones_fetched;
		RAISE DEBUG 'crdt_reconcile.repair of %: batch %: % tombstones merged, at %',
			rel, batch, tombstones_fetched, pg_catalog.clock_timestamp();
	EXCEPTION WHEN insufficient_privilege THEN
		RAISE WARNING 'crdt_reconcile.repair of %: tombstones not repaired: %', rel, SQLERRM
			USING HINT = 'Writing crdt_reconcile.tombstones takes a superuser (or its owner); rows are repaired all the same.';
	END;

	-- every stored column but the generated ones (recomputed here)
	SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum),
	       pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', '
	                             ORDER BY a.attnum),
	       pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum)
	           FILTER (WHERE NOT a.attname = ANY (keys) AND a.attidentity <> 'a'),
	       pg_catalog.string_agg(pg_catalog.format('f.%I', a.attname), ', ' ORDER BY a.attnum)
	           FILTER (WHERE NOT a.attname = ANY (keys) AND a.attidentity <> 'a'),
	       CASE WHEN pg_catalog.bool_or(a.attidentity = 'a') THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END
	INTO cols, col_defs, set_cols, set_vals, overriding
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%1$I OPERATOR(pg_catalog.=) f.%1$I', k), ' AND ')
	INTO key_match FROM pg_catalog.unnest(keys) k;
	-- rows here: an applied UPDATE, which the trigger merges (and skips
	-- when nothing changes, so RETURNING counts the rows changed).  A
	-- peer's row whose clock happened before this row's has nothing new:
	-- it is not written at all (as an applied write the trigger would
	-- record it as a stale update, though it only came along because the
	-- buckets differed).  Rows with equal clocks go through: they may still
	-- differ (written before the table was tracked), and the trigger
	-- merges them.
	SELECT t.clock_column INTO clock FROM crdt_reconcile.tracked t WHERE t.relation = rel;
	update_cte := CASE WHEN set_cols IS NULL THEN 'SELECT 1 WHERE false'
		ELSE pg_catalog.format('UPDATE %s t SET (%s) = ROW(%s) FROM f WHERE %s%s RETURNING 1',
			rel, set_cols, set_vals, key_match,
			CASE WHEN clock IS NOT NULL THEN pg_catalog.format(
				' AND NOT coalesce(f.%1$I, ''{}''::@extschema@.vclock) OPERATOR(@extschema@.<) coalesce(t.%1$I, ''{}''::@extschema@.vclock)',
				clock) ELSE '' END) END;

	EXECUTE pg_catalog.format(
		'WITH f AS MATERIALIZED (SELECT * FROM %1$I.dblink(%2$L, %3$L) AS r(%4$s)), '
		'     u AS (%5$s), '
		'     i AS (INSERT INTO %6$s AS t (%7$s) %8$s SELECT %9$s FROM f '
		'           WHERE NOT EXISTS (SELECT FROM %6$s t WHERE %10$s) RETURNING 1) '
		'SELECT (SELECT pg_catalog.count(*) FROM f), '
		'       (SELECT pg_catalog.count(*) FROM u) OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM i)',
		db, 'crdt_reconcile_repair',
		pg_catalog.format('SELECT %s FROM crdt_reconcile.merkle_rows(%L::pg_catalog.regclass, %L::pg_catalog.name[], '
		                  '%L::pg_catalog.int4[], %L::pg_catalog.int8[]) v',
			(SELECT pg_catalog.string_agg(pg_catalog.format('v[%s]', i), ', ' ORDER BY i)
			 FROM pg_catalog.generate_subscripts(cols, 1) i),
			remote_name, cols, bits, nodes),
		col_defs, update_cte, rel,
		(SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(cols) c),
		overriding,
		(SELECT pg_catalog.string_agg(pg_catalog.format('f.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
		key_match)
	INTO rows_fetched, rows_changed;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) IS
	'anti-entropy, step 2 (per batch): fetches the batch''s rows from the peer and merges them in as replicated writes';

-- Closes the connection to the peer and drops this session's repair tables.
CREATE FUNCTION crdt_reconcile.repair_finish(rel pg_catalog.regclass) RETURNS pg_catalog.void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	db pg_catalog.text;
	connected pg_catalog.bool;
BEGIN
	SELECT n.nspname INTO db FROM pg_catalog.pg_extension e
	JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
	IF db IS NOT NULL THEN
		EXECUTE pg_catalog.format('SELECT %1$L OPERATOR(pg_catalog.=) ANY (%2$I.dblink_get_connections())',
			'crdt_reconcile_repair', db) INTO connected;
		IF connected THEN
			EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect(%L)', db, 'crdt_reconcile_repair');
		END IF;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_leaves') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_leaves;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_level') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_level;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_here') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_here;
	END IF;
	IF rel IS NOT NULL AND pg_catalog.to_regclass('pg_temp.crdt_reconcile_merkle_' || rel::pg_catalog.oid) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', 'crdt_reconcile_merkle_' || rel::pg_catalog.oid);
	END IF;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) IS
	'anti-entropy, step 3: disconnects from the peer and drops the session''s repair tables';

-- One transaction: works inside a caller's transaction, commits nothing
-- itself (see repair_in_batches for big repairs).
CREATE FUNCTION crdt_reconcile.repair(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4 DEFAULT 10000,
		OUT rows_here pg_catalog.int8, OUT rows_peer pg_catalog.int8, OUT levels pg_catalog.int4,
		OUT nodes_compared pg_catalog.int8, OUT nodes_differing pg_catalog.int8,
		OUT rows_fetched pg_catalog.int8, OUT rows_changed pg_catalog.int8, OUT tombstones_fetched pg_catalog.int8,
		OUT batches pg_catalog.int4)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	plan record;
	done record;
BEGIN
	BEGIN
		SELECT * INTO plan FROM crdt_reconcile.repair_start(rel, peer_conninfo, batch_rows);
		rows_fetched := 0;
		rows_changed := 0;
		tombstones_fetched := 0;
		FOR b IN 1 .. plan.batches LOOP
			SELECT * INTO done FROM crdt_reconcile.repair_batch(rel, b);
			rows_fetched := rows_fetched + done.rows_fetched;
			rows_changed := rows_changed + done.rows_changed;
			tombstones_fetched := tombstones_fetched + done.tombstones_fetched;
		END LOOP;
		PERFORM crdt_reconcile.repair_finish(rel);
	EXCEPTION WHEN OTHERS THEN
		PERFORM crdt_reconcile.repair_finish(rel);
		RAISE;
	END;
	rows_here := plan.rows_here;
	rows_peer := plan.rows_peer;
	levels := plan.levels;
	nodes_compared := plan.nodes_compared;
	nodes_differing := plan.nodes_differing;
	batches := plan.batches;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
	'anti-entropy in one transaction: Merkle descent against the peer over dblink, fetches about the rows that differ and merges them in';

-- The same, committing after the descent and after every batch, so an
-- interrupted repair keeps what it merged.  CALL it outside a transaction
-- block.  A procedure that commits cannot pin settings with SET clauses, so
-- its body only calls the pinned functions above, every name and operator
-- qualified.  (Procedures return results through INOUT parameters; their
-- defaults let CALL omit them.)
CREATE PROCEDURE crdt_reconcile.repair_in_batches(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4 DEFAULT 10000,
		INOUT rows_here pg_catalog.int8 DEFAULT NULL, INOUT rows_peer pg_catalog.int8 DEFAULT NULL,
		INOUT levels pg_catalog.int4 DEFAULT NULL, INOUT nodes_compared pg_catalog.int8 DEFAULT NULL,
		INOUT nodes_differing pg_catalog.int8 DEFAULT NULL, INOUT rows_fetched pg_catalog.int8 DEFAULT NULL,
		INOUT rows_changed pg_catalog.int8 DEFAULT NULL, INOUT tombstones_fetched pg_catalog.int8 DEFAULT NULL,
		INOUT batches pg_catalog.int4 DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
DECLARE
	plan record;
	done record;
BEGIN
	SELECT * INTO plan FROM crdt_reconcile.repair_start(rel, peer_conninfo, batch_rows);
	COMMIT;
	rows_fetched := 0;
	rows_changed := 0;
	tombstones_fetched := 0;
	FOR b IN 1 .. plan.batches LOOP
		SELECT * INTO done FROM crdt_reconcile.repair_batch(rel, b);
		rows_fetched := rows_fetched OPERATOR(pg_catalog.+) done.rows_fetched;
		rows_changed := rows_changed OPERATOR(pg_catalog.+) done.rows_changed;
		tombstones_fetched := tombstones_fetched OPERATOR(pg_catalog.+) done.tombstones_fetched;
		COMMIT;
	END LOOP;
	PERFORM crdt_reconcile.repair_finish(rel);
	rows_here := plan.rows_here;
	rows_peer := plan.rows_peer;
	levels := plan.levels;
	nodes_compared := plan.nodes_compared;
	nodes_differing := plan.nodes_differing;
	batches := plan.batches;
END
$$;
COMMENT ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4) IS
	'anti-entropy in batches: like repair(), committing after every batch of about batch_rows fetched rows';

REVOKE ALL ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4)
	TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4)
	TO crdt_reconcile_admin;
GRANT EXECUTE ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4)
	TO crdt_reconcile_admin;
