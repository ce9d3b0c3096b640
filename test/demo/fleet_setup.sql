-- make demo, part 1 (run on every node): the shared state and the agents' work.
CREATE EXTENSION crdt_reconcile;

-- One row per board, updated on every node (merge in place): a task list,
-- a budget, a plan several agents may propose at once, a lead, a status.
CREATE TABLE board (
	name    text PRIMARY KEY,
	tasks   orset,       -- open tasks: add-wins, removable
	budget  bcounter,    -- credits: each node spends only the rights it holds
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

-- What each agent spent, and the spending its rights did not cover, to
-- check the converged budget (not replicated).
CREATE TABLE spent_here (board text, credits int);
CREATE TABLE refused_here (board text, credits int);

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
		-- a task is taken on only if this node's rights on the budget cover it;
		-- otherwise it is refused here and more rights are asked for
		BEGIN
			UPDATE board SET tasks = crdt_add(tasks, t), budget = crdt_decrement(budget, cost) WHERE name = b;
			INSERT INTO spent_here VALUES (b, cost);
		EXCEPTION WHEN check_violation THEN
			INSERT INTO refused_here VALUES (b, cost);
			IF NOT EXISTS (SELECT FROM crdt_reconcile.rights_requests r WHERE r.requester = me
			               AND r.row_key = jsonb_build_object('name', b) AND r.granted_at IS NULL) THEN
				BEGIN
					PERFORM crdt_reconcile.request_rights('board', jsonb_build_object('name', b), 'budget', 5);
				EXCEPTION WHEN check_violation THEN
					NULL;	-- nobody else holds rights on this board any more
				END;
			END IF;
		END;
		-- the application grants what others asked of this node (pg_cron could, too)
		IF i % 2 = 0 THEN
			PERFORM crdt_reconcile.grant_requests();
		END IF;
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
