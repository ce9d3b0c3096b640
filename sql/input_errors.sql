--
-- Hostile input: every bad text, jsonb or binary value is an ERROR with
-- its SQLSTATE (22P02 text, 22P03 binary, 22003 out of range, 22023 bad
-- argument), never a crash, and the session goes on.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- Runs a statement and reports its SQLSTATE and detail instead of failing.
CREATE FUNCTION pg_temp.outcome(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	-- syntax errors repeat the input in the message: the detail says it all
	IF SQLSTATE IN ('22P02', '22P03') AND detail <> '' THEN
		RETURN SQLSTATE || ' ' || detail;
	END IF;
	RETURN SQLSTATE || ' ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

-- Text input, the same parser for all three types.
SELECT input, pg_temp.outcome(format('SELECT %L::vclock', input)) AS vclock
FROM (VALUES (''), ('   '), ('[]'), ('{'), ('}'), ('{"a"}'), ('{"a":}'), ('{"a" 1}'),
             ('{"a":1,}'), ('{,"a":1}'), ('{"a":1} x'), ('{"a":1}}'), ('{a:1}'),
             ('{"a":"1"}'), ('{"a":true}'), ('{"a":null}'), ('{"a":{}}'),
             ('{"a":0}'), ('{"a":-1}'), ('{"a":-0}'), ('{"a":1.0}'), ('{"a":1e3}'),
             ('{"a":01}'), ('{"a":9223372036854775808}'), ('{"a":99999999999999999999999}'),
             ('{"a":1,"a":2}'), ('{"b":1,"a":2,"b":3}'), ('{"":1}'), ('{" ":1}'),
             ('{"\u0000":1}'), ('{"a\tb":1}'), ('{"\u007f":1}'), ('{"\u0085":1}'),
             ('{"\ud800":1}'), ('{"\udc00":1}'), ('{"\ud800\u0041":1}'), ('{"\x":1}'),
             ('{"\u12":1}'), ('{"a'), ('{"a":1'), ('{"a":1,"b":2'),
             (format('{"%s":1}', repeat('x', 65))), (format('{"%s":1}', repeat('é', 33)))
     ) AS t(input);

-- The other types share it; zero entries are fine in counters and dropped.
SELECT input, pg_temp.outcome(format('SELECT %L::gcounter', input)) AS gcounter
FROM (VALUES ('{"a":0}'), ('{"a":-5}'), ('{"a":9223372036854775808}'), ('{"a":1,"a":1}')) AS t(input);
SELECT input, pg_temp.outcome(format('SELECT %L::pncounter', input)) AS pncounter
FROM (VALUES ('{"p":{"a":1},"p":{}}'), ('{"x":{}}'), ('{"p":1}'), ('{"p":{"a":1}'),
             ('{"n":{"a":1,"a":2}}'), ('{"p":{"a":-1}}'), ('{"p":{}, "n":{}}')) AS t(input);

-- jsonb is checked like text (jsonb itself has already dropped duplicate keys).
SELECT input, pg_temp.outcome(format('SELECT %L::jsonb::gcounter', input)) AS from_jsonb
FROM (VALUES ('[1,2]'), ('"text"'), ('{"a":1.5}'), ('{"a":"x"}'), ('{"a":-1}'),
             ('{"a":1e2}'), ('{"a":1,"a":2}'), ('{"p":{"a":1}}')) AS t(input);
SELECT pg_temp.outcome($$SELECT '{"p":{"a":1},"z":2}'::jsonb::pncounter$$) AS pncounter_from_jsonb;

-- Binary input: bytes fed to the receive function through COPY (FORMAT
-- binary).  A bytea column's binary form is its raw bytes, so a one-column
-- bytea COPY file is read back as a CRDT value byte for byte.
\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/input_errors.bin'
CREATE TABLE binary_target (v vclock, g gcounter, p pncounter);
CREATE FUNCTION pg_temp.recv_outcome(typ text, bytes bytea, file text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', bytes, file);
	RETURN pg_temp.outcome(format('COPY binary_target (%s) FROM %L (FORMAT binary)',
	                              left(typ, 1), file));
END $$;

SELECT what, left(bytes::text, 34) AS bytes, pg_temp.recv_outcome('vclock', bytes, :'binfile') AS vclock
FROM (VALUES ('valid empty', '\x0100'::bytea),
             ('valid a:1', '\x010100610100'),
             ('nothing at all', ''),
             ('version 2', '\x0200'),
             ('version 0', '\x0000'),
             ('no terminator', '\x01'),
             ('truncated id', '\x0105006162'),
             ('truncated count', '\x0101006180'),
             ('zero count', '\x010100610000'),
             ('count above bigint', '\x01010061ffffffffffffffffff0100'),
             ('varint padding', '\x01010061810000'),
             ('varint over 64 bits', '\x01010061ffffffffffffffffff7f00'),
             ('ids out of order', '\x01010062010100610100'),
             ('duplicate id', '\x01010061010100610100'),
             ('prefix not maximal', '\x010200617801020061790100'),
             ('prefix too long', '\x01010061010105610100'),
             ('id over 64 bytes', '\x014100' || convert_to(repeat('x', 65), 'UTF8') || '\x0100'),
             ('control char in id', '\x010100090100'),
             ('invalid utf-8', '\x010100ff0100'),
             ('utf-8 split by prefix, valid', '\x010200c3a9010101aa0100'),
             ('utf-8 split by prefix, invalid', '\x010200c3a9010101ff0100'),
             ('trailing bytes', '\x010000'),
             ('garbage', '\xdeadbeef')) AS t(what, bytes);

SELECT what, pg_temp.recv_outcome('pncounter', bytes, :'binfile') AS pncounter
FROM (VALUES ('valid', '\x01010061010000'::bytea),
             ('missing N map', '\x010100610100'),
             ('trailing', '\x0100000000')) AS t(what, bytes);

-- What got in is exactly the valid rows.
SELECT v, g, p FROM binary_target ORDER BY v, p;

-- Sets and registers: text input.
SELECT typ, left(input, 60) AS input, pg_temp.outcome(format('SELECT %L::%s', input, typ)) AS outcome
FROM (VALUES ('gset', '["a",'), ('gset', '["a","a"]'), ('gset', '["\u0000"]'), ('gset', '[1]'),
             ('gset', '{"a":1}'), ('gset', format('["%s"]', repeat('x', 4097))),
             ('twopset', '{"elements":["a"],"elements":[]}'), ('twopset', '{"x":[]}'),
             ('orset', '{"elements":{"x":[["a",9]]},"context":{"a":3}}'),
             ('orset', '{"elements":{"x":[["a",1]],"y":[["a",1]]},"context":{"a":1}}'),
             ('orset', '{"elements":{"x":[["a",1],["a",1]]},"context":{"a":1}}'),
             ('orset', '{"elements":{"x":[["a",0]]},"context":{"a":1}}'),
             ('orset', '{"context":{"a":[[0,1]]}}'), ('orset', '{"context":{"a":9223372036854775808}}'),
             ('orset', '{"context":{"":1}}'), ('orset', '{"context":{"a":[]}}'),
             ('mvreg', '{"values":[{"value":{"a":},"dots":[["a",1]]}],"context":{"a":1}}'),
             ('mvreg', '{"values":[{"value":"\u0000","dots":[["a",1]]}],"context":{"a":1}}'),
             ('mvreg', format('{"values":[{"value":%s1%s,"dots":[["a",1]]}],"context":{"a":1}}', repeat('[', 600), repeat(']', 600))),
             ('lwwreg', '{"value":1,"at":"10000-01-01T00:00:00Z","replica":"a"}'),
             ('lwwreg', '{"value":1,"at":"2026-13-01T00:00:00Z","replica":"a"}'),
             ('lwwreg', '{"value":1,"at":"2026-01-01T00:00:00Z","replica":""}'),
             ('lwwreg', '{"value":,"at":"2026-01-01T00:00:00Z","replica":"a"}')) AS t(typ, input);

-- Sets and registers: binary input through COPY, as above.
CREATE TABLE binary_target2 (g gset, t twopset, o orset, l lwwreg, m mvreg);
CREATE FUNCTION pg_temp.recv_outcome2(col text, bytes bytea, file text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', bytes, file);
	RETURN pg_temp.outcome(format('COPY binary_target2 (%s) FROM %L (FORMAT binary)', col, file));
END $$;
SELECT col, what, pg_temp.recv_outcome2(col, bytes, :'binfile') AS outcome
FROM (VALUES ('g', 'valid ["a"]', '\x0102006100'::bytea),
             ('g', 'elements out of order', '\x0102006202006100'),
             ('g', 'duplicate element', '\x0102006102006100'),
             ('g', 'element with NUL', '\x0102000000'),
             ('g', 'invalid UTF-8', '\x010200ff00'),
             ('g', 'no terminator', '\x01020061'),
             ('t', 'present and removed', '\x010200610002006100'),
             ('t', 'second list missing', '\x0102006100'),
             ('o', 'valid', '\x010200610100000002007801000100'),
             ('o', 'dot outside context', '\x010200610100000002007801000500'),
             ('o', 'dot of unknown replica', '\x010200610100000002007801010100'),
             ('o', 'dot in two elements', '\x010200610100000002007801000102007901000100'),
             ('o', 'key without dots', '\x01020061010000000200780000'),
             ('o', 'dots out of order', '\x0102006101000100020078020002000100'),
             ('o', 'counter past bigint', '\x01020061018080808080808080800100000000'),
             ('o', 'context replica id empty', '\x0101000100000000'),
             ('l', 'valid', '\x010001610131'),
             ('l', 'value not canonical JSON', '\x01000161022031'),
             ('l', 'value not JSON', '\x0100016102317d'),
             ('l', 'value with NUL', '\x01000161020031'),
             ('l', 'replica empty', '\x0100000131'),
             ('l', 'trailing bytes', '\x01000161013100'),
             ('m', 'valid', '\x0102006101000000023101000100'),
             ('m', 'valid, two values', '\x01020061010001000231010001023201000200'),
             ('m', 'value not JSON', '\x0102006101000000027b01000100')) AS t(col, what, bytes);
SELECT count(*) AS valid_rows FROM binary_target2;
DROP TABLE binary_target2;

-- Bad arguments.
SELECT pg_temp.outcome($$SELECT crdt_increment('{}'::gcounter, 0, 'a')$$) AS zero_increment,
       pg_temp.outcome($$SELECT crdt_increment('{}'::gcounter, -3, 'a')$$) AS negative_increment,
       pg_temp.outcome($$SELECT crdt_increment('{}'::gcounter, NULL, 'a')$$) AS null_increment,
       pg_temp.outcome($$SELECT crdt_tick('{}'::vclock, repeat('x', 65))$$) AS long_replica,
       pg_temp.outcome($$SELECT crdt_increment('{"a":9223372036854775807}'::gcounter, 1, 'a')$$) AS overflow;

-- And the session is fine.
SELECT '{"a":1}'::vclock || '{"b":2}' AS still_working;
DROP TABLE binary_target;
