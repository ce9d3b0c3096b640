-- make demo, part 2: what the agents did, and the converged truth.
\pset footer off

\echo
\echo '== Replica rows after the concurrent run (each agent saw only its own work) =='
SELECT mission, replica, clock, crdt_value(tasks_done) AS tasks, crdt_value(budget) AS net_credits
FROM agent_state ORDER BY mission, replica;

\echo
\echo '== Converged state: SELECT mission, crdt_merge(...) FROM agent_state GROUP BY mission =='
SELECT m.mission, crdt_value(m.tasks) AS tasks_done, crdt_value(m.budget) AS credits_left,
       m.clock AS merged_clock,
       crdt_value(m.tasks) = l.tasks AND crdt_value(m.budget) = 2000 - l.spent AS matches_ops_log
FROM (SELECT mission, crdt_merge(clock) AS clock, crdt_merge(tasks_done) AS tasks,
             crdt_merge(budget) AS budget
      FROM agent_state GROUP BY mission) m
JOIN (SELECT mission, sum(tasks) AS tasks, sum(cost) AS spent FROM ops_log GROUP BY mission) l
USING (mission)
ORDER BY mission;

\echo
\echo '== Causality between agents (vclock_compare) and distance from the merged clock =='
SELECT a.mission, a.replica AS agent, b.replica AS other, vclock_compare(a.clock, b.clock) AS relation,
       vclock_distance(a.clock, m.clock) AS agent_behind_merged
FROM agent_state a
JOIN agent_state b ON b.mission = a.mission AND b.replica > a.replica
JOIN (SELECT mission, crdt_merge(clock) AS clock FROM agent_state GROUP BY mission) m
  ON m.mission = a.mission
WHERE a.replica <> 'hq' AND b.replica <> 'hq'
ORDER BY 1, 2, 3;

\echo
\echo '== What agent-a must receive to catch up on mission-alpha (crdt_delta) =='
SELECT crdt_delta(m.tasks, a.tasks_done) AS tasks_delta, crdt_delta(m.clock, a.clock) AS clock_delta
FROM agent_state a,
     (SELECT crdt_merge(tasks_done) AS tasks, crdt_merge(clock) AS clock
      FROM agent_state WHERE mission = 'mission-alpha') m
WHERE a.mission = 'mission-alpha' AND a.replica = 'agent-a';

\echo
\echo '== Sync: every agent adopts the merged clock; now all agree =='
UPDATE agent_state s SET clock = s.clock || m.clock
FROM (SELECT mission, crdt_merge(clock) AS clock FROM agent_state GROUP BY mission) m
WHERE m.mission = s.mission;
SELECT mission, count(DISTINCT clock) AS distinct_clocks,
       bool_and(vclock_compare(clock, (SELECT crdt_merge(clock) FROM agent_state x
                                       WHERE x.mission = s.mission)) = 'equal') AS all_equal_to_merged,
       count(DISTINCT crdt_hash(clock)) AS distinct_hashes
FROM agent_state s GROUP BY mission ORDER BY mission;
