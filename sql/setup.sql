--
-- Set-up shared by the tests that follow (they run in one database): the
-- extension, and a schema of test helpers that outlives each test's
-- session.  Run it first when running a single test by hand.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
DROP SCHEMA IF EXISTS regress CASCADE;
RESET client_min_messages;
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

-- Runs a statement: 'ok', or the SQLSTATE it failed with (and the message
-- when asked), so that a test can list the outcome of many statements.
CREATE FUNCTION regress.state_of(stmt text, with_message boolean DEFAULT false)
	RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN CASE WHEN with_message THEN SQLSTATE || ': ' || SQLERRM ELSE SQLSTATE END;
END $$;

SELECT regress.state_of('SELECT 1') AS ok,
       regress.state_of('SELECT 1/0') AS division,
       regress.state_of('SELECT ''x''::gcounter', true) AS with_message;
