-- make demo, part 1 (run on every node): the shared state and the agents' work.
CREATE EXTENSION crdt_reconcile;

-- One row per board, updated on every node (merge in place): a task list,
-- a budget, a plan several agents may propose at once, a lead, a status.
CREATE TABLE board (
	name    text PRIMARY KEY,
	tasks   orset,       -- open tasks: add-wins, removable
	budget  pncounter,   -- credits granted (+) and spent (-)
	plan    mvreg,       -- concurrent proposals are all kept
	lead    lwwreg,      -- last writer wins
	status  text,        -- a plain column: the writer tag decides
	clk     vclock,      -- row clock, ticked by every local write
	writer  lwwreg       -- writer tag, stamped by every local write
);
-- record_stale => false: in a full mesh (PostgreSQL 15 has no origin
-- filter) every write also arrives late by way of the other nodes; such
-- stale copies are routine, not conflicts worth a person's time.
SELECT relation FROM crdt_reconcile.track('board', clock_column => 'clk', writer_column => 'writer',
                                          invariant => 'crdt_value(budget) >= 0', record_stale => false);

-- Replica rows: each agent counts its own finished tasks.
CREATE TABLE work (board text, replica text, done gcounter, clk vclock, PRIMARY KEY (board, replica));
SELECT relation FROM crdt_reconcile.track('work', shape => 'replica_rows', replica_column => 'replica',
                                          clock_column => 'clk');

-- What each agent spent, to check the converged budget (not replicated).
CREATE TABLE spent_here (board text, credits int);

CREATE PROCEDURE agent_work(steps int, seed float8)
LANGUAGE plpgsql AS $$
DECLARE
	me text := crdt_replica_id();
	b text;
	cost int;
	t text;
BEGIN
	PERFORM setseed(seed);
	FOR i IN 1..steps LOOP
		b := (ARRAY['launch', 'research'])[1 + floor(random() * 2)::int];
		cost := 1 + floor(random() * 3)::int;
		t := me || '-task-' || i;
		INSERT INTO board AS s (name, tasks, budget) VALUES (b, crdt_add(NULL::orset, t), crdt_decrement(NULL::pncounter, cost))
		ON CONFLICT (name) DO UPDATE SET tasks = crdt_add(s.tasks, t), budget = crdt_decrement(s.budget, cost);
		INSERT INTO spent_here VALUES (b, cost);
		IF i > 3 THEN	-- finish an older task of ours
			UPDATE board SET tasks = crdt_remove(tasks, me || '-task-' || (i - 3)) WHERE name = b;
			INSERT INTO work AS w (board, replica, done) VALUES (b, me, crdt_increment(NULL::gcounter))
			ON CONFLICT (board, replica) DO UPDATE SET done = crdt_increment(w.done);
		END IF;
		IF i % 15 = 0 THEN
			UPDATE board SET plan = crdt_set(plan, to_jsonb(me || ' proposes step ' || i)),
			                 lead = crdt_set(lead, to_jsonb(me)), status = me || ' at step ' || i
			WHERE name = b;
		END IF;
		COMMIT;
		PERFORM pg_sleep(0.003);
	END LOOP;
END $$;
