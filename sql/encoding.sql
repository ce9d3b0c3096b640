--
-- Values are UTF-8 inside, whatever the database encoding: the same state
-- has the same bytes and the same crdt_hash in a LATIN1 database as in a
-- UTF8 one.  In a database that cannot hold every character, the text form
-- writes non-ASCII characters as JSON \u escapes, so every value prints
-- and reads back; text arguments and results are converted as usual.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
DROP DATABASE IF EXISTS crdt_latin1;
RESET client_min_messages;

SELECT vclock_send('{"é":1,"ö":2}') AS utf8_db_bytes,
       crdt_hash('{"é":1,"ö":2}'::vclock) AS utf8_db_hash \gset
SELECT :'utf8_db_bytes' AS utf8_db_bytes, :'utf8_db_hash' AS utf8_db_hash;

CREATE DATABASE crdt_latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';
\c crdt_latin1
SET client_encoding = 'UTF8';
SET client_min_messages = warning;
CREATE EXTENSION crdt_reconcile;
RESET client_min_messages;

SELECT vclock_send('{"é":1,"ö":2}') = :'utf8_db_bytes'::bytea AS same_bytes,
       crdt_hash('{"é":1,"ö":2}'::vclock) = :'utf8_db_hash' AS same_hash,
       '{"ö":2,"é":1}'::vclock AS text_out;

-- mutators, the setting, jsonb and entries convert too
SET crdt.replica_id = 'nöd';
SELECT crdt_tick('{}'::vclock) AS from_setting, crdt_increment('{}'::gcounter, 2, 'ü') AS from_argument,
       crdt_replica_id() AS setting, '{"é":1}'::vclock::jsonb AS to_jsonb,
       '{"é":1}'::jsonb::gcounter AS from_jsonb;
SELECT * FROM crdt_entries('{"ö":3,"a":1}'::gcounter);

-- an id LATIN1 cannot hold (here from an escape; it could come from a
-- replica over binary replication) still prints, and reads back
SELECT '{"\u0153":1}'::vclock AS oe, '{"\u0153":1}'::vclock::text::vclock = '{"\u0153":1}' AS round_trip,
       vclock_send('{"\u0153":1}') AS utf8_bytes;
-- but it cannot become a LATIN1 text value
SELECT * FROM crdt_entries('{"\u0153":1}'::vclock);

\c crdt_regress
DROP DATABASE crdt_latin1;
