-- bench/sequences.sql — set-up of make bench-sequences (bench/sequences.sh).
--
-- docs(n, base, a, b, plain): base is an rtext of n characters typed by ten
-- writers in runs of 100 (each run continuing after the one before); a and
-- b are two copies of it, each with 1,000 edits of its own (5 characters
-- inserted at a pseudo-random place, every fourth edit also deleting 5),
-- made concurrently; plain is the text of a || b, for the baseline.
CREATE EXTENSION crdt_reconcile;
CREATE TABLE docs (n int PRIMARY KEY, base rtext, a rtext, b rtext, plain text);

CREATE FUNCTION base_doc(n int) RETURNS rtext LANGUAGE sql AS $$
	SELECT ('{' || string_agg(format('%s:[%s]', to_json(w), segs), ',') || '}')::rtext
	FROM (SELECT 'w' || (j % 10) AS w,
	             string_agg(format('[%s,%s,%s]', (j / 10) * 100 + 1,
	                               CASE WHEN j = 0 THEN '"^"'
	                                    ELSE format('[">","w%s",%s]', (j - 1) % 10, ((j - 1) / 10) * 100 + 100) END,
	                               to_json(repeat(chr(97 + j % 26), 100))), ',' ORDER BY j) AS segs
	      FROM generate_series(0, n / 100 - 1) j
	      GROUP BY j % 10) s
$$;

CREATE FUNCTION edited(doc rtext, who text, seed int) RETURNS rtext LANGUAGE plpgsql AS $$
DECLARE
	len int := crdt_length(doc);
	pos int;
BEGIN
	FOR k IN 1 .. 1000 LOOP
		pos := ((k * 7919 + seed * 104729) % len);
		IF k % 4 = 0 AND pos + 5 <= len THEN
			doc := crdt_splice(doc, pos, 5, 'edit!', who);
		ELSE
			doc := crdt_splice(doc, pos, 0, 'edit!', who);
			len := len + 5;
		END IF;
	END LOOP;
	RETURN doc;
END $$;

-- The median and the shortest wall time (ms) of runs executions of sql
-- (the machine is shared: the shortest is the least disturbed).
CREATE FUNCTION timing(sql text, runs int, OUT median float8, OUT shortest float8) LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	times float8[] := '{}';
BEGIN
	EXECUTE sql;	-- warm-up
	FOR i IN 1 .. runs LOOP
		t := clock_timestamp();
		EXECUTE sql;
		times := times || extract(epoch FROM clock_timestamp() - t) * 1000;
	END LOOP;
	SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), min(x) INTO median, shortest FROM unnest(times) x;
END $$;
