-- make demo, part 1: the shared state and the agents' work loop.
CREATE EXTENSION crdt_reconcile;

-- Replica rows: every agent writes only its own row per mission, so the
-- agents never wait for each other; the truth is the merge of all rows.
CREATE TABLE agent_state (
	mission    text,
	replica    text,
	clock      vclock,     -- what this agent has seen
	tasks_done gcounter,   -- tasks completed
	budget     pncounter,  -- credits granted (+) and spent (-)
	PRIMARY KEY (mission, replica)
);

-- An independent log of every operation, only to check the merge.
CREATE TABLE ops_log (replica text, mission text, tasks int, cost int);

-- Headquarters grants each mission 2,000 credits.
INSERT INTO agent_state
SELECT mission, 'hq', crdt_tick('{}', 'hq'), '{}', crdt_increment('{}'::pncounter, 2000, 'hq')
FROM unnest(ARRAY['mission-alpha', 'mission-beta']) AS mission;

-- One agent: completes tasks, spends credits, ticks its clock, and every
-- 25 steps gossips (merges the other agents' clocks into its own) — but not
-- in its last 20 steps, so each agent ends with work the others have not
-- seen.  crdt.replica_id, set per session, says which agent this is.
CREATE PROCEDURE agent_work(steps int, seed float8)
LANGUAGE plpgsql AS $$
DECLARE
	me text := crdt_replica_id();
	m text;
	cost int;
BEGIN
	PERFORM setseed(seed);
	FOR i IN 1..steps LOOP
		m := (ARRAY['mission-alpha', 'mission-beta'])[1 + floor(random() * 2)::int];
		cost := 1 + floor(random() * 4)::int;
		INSERT INTO agent_state AS s (mission, replica, clock, tasks_done, budget)
		VALUES (m, me, crdt_tick('{}'), crdt_increment('{}'::gcounter),
		        crdt_decrement('{}'::pncounter, cost))
		ON CONFLICT (mission, replica) DO UPDATE
		SET clock = crdt_tick(s.clock),
		    tasks_done = crdt_increment(s.tasks_done),
		    budget = crdt_decrement(s.budget, cost);
		INSERT INTO ops_log VALUES (me, m, 1, cost);
		IF i % 25 = 0 AND i <= steps - 20 THEN
			UPDATE agent_state s
			SET clock = s.clock || (SELECT crdt_merge(o.clock) FROM agent_state o
			                        WHERE o.mission = s.mission)
			WHERE s.replica = me;
		END IF;
		COMMIT;
		PERFORM pg_sleep(0.002);	-- the agent "thinks" between actions
	END LOOP;
END $$;
