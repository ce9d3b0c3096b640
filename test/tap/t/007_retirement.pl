# Replica retirement on a three-node mesh (docs/RETIREMENT.md).
# 300 short-lived agents write counters, clocks and sets through all three
# nodes (each agent through its home node); agents are retired on n1 and
# n2 while n3 is partitioned and its agents, some of them retired
# elsewhere already, are still writing.  After the heal and
# compact_replicas() run on two nodes at once: every node has the same
# values (crdt_hash), exactly the counts issued, the same registry, no
# retired replica left as a live entry, and retired agents are refused
# everywhere with 55000.  The orset and mvreg columns are compacted too: no
# retired id is left in their contexts or markers, a final late copy is
# merged and an older one refused (retired_writer), and once converged the
# nodes stop writing (no echo loop).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;

my @names = qw(n1 n2 n3);
my %node;
my $agents = 300;

for my $name (@names)
{
	my $n = crdt_node($name);
	$n->safe_psql('postgres', q{
CREATE TABLE work (k int PRIMARY KEY, hits gcounter NOT NULL DEFAULT '{}', net pncounter NOT NULL DEFAULT '{}',
                   seen vclock NOT NULL DEFAULT '{}', tags orset NOT NULL DEFAULT '{}',
                   mood mvreg NOT NULL DEFAULT '{}');
SELECT crdt_reconcile.track('work');
SELECT crdt_reconcile.create_publication('mesh');
-- one write of an agent: 1 when done, 0 when refused as retired
CREATE FUNCTION agent_write(agent text, row_k int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	UPDATE work SET hits = crdt_increment(hits, 2, agent), net = crdt_decrement(net, 1, agent),
	                seen = crdt_tick(seen, agent), tags = crdt_add(tags, agent, agent),
	                mood = crdt_set(mood, pg_catalog.to_jsonb(agent), agent)
	WHERE k = row_k;
	RETURN 1;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
	RETURN 0;
END $$;
});
	$node{$name} = $n;
}
subscribe_mesh(\%node, 'mesh');
# the subscriptions copy no data: each node announces itself again, so that
# every node knows every mesh member (compaction waits for all of them)
$node{$_}->safe_psql('postgres', "SELECT crdt_reconcile.join_mesh('$_')") for @names;
$node{n1}->safe_psql('postgres', 'INSERT INTO work (k) SELECT generate_series(1, 5)');

sub state_of
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres', q{
SELECT coalesce(string_agg(k || ':' || crdt_hash(hits) || ':' || crdt_hash(net) || ':' || crdt_hash(seen)
                           || ':' || crdt_hash(tags) || ':' || crdt_hash(mood), ',' ORDER BY k), '')
       || ' / ' || (SELECT coalesce(string_agg(replica || '>' || successor, ',' ORDER BY replica), '')
                    FROM crdt_reconcile.retired_replicas)
FROM work});
}

sub converge
{
	converge_nodes(\%node, \&state_of, @_);
}

# Waits until every node's subscribers have confirmed all its WAL: no
# apply still holds row locks that a multi-row write here could meet.
sub settle
{
	for my $name (@names)
	{
		$node{$name}->poll_query_until('postgres', q{
SELECT bool_and(confirmed_flush_lsn >= pg_current_wal_lsn()) FROM pg_replication_slots WHERE slot_type = 'logical'})
			or diag("$name: subscribers did not confirm");
	}
}

# Agent i writes through node (i mod 3); returns the writes that were done.
sub write_round
{
	my ($first, $last, @on) = @_;
	my $done = 0;
	for my $idx (0 .. $#names)
	{
		my $name = $names[$idx];
		next unless grep { $_ eq $name } @on;
		# rows in key order, as every node writes them, so that a local round
		# and an applied one never wait for each other's rows (deadlock)
		$done += $node{$name}->safe_psql('postgres', qq{
SELECT coalesce(sum(agent_write(pg_catalog.format('agent-%s', lpad(i::text, 3, '0')), 1 + i % 5)), 0)
FROM (SELECT i FROM generate_series($first, $last) i WHERE i % 3 = $idx ORDER BY 1 + i % 5, i OFFSET 0) agents});
	}
	return $done;
}

sub set_partition
{
	my ($state) = @_;
	for my $other (qw(n1 n2))
	{
		$node{n3}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_n3_from_$other $state");
		$node{$other}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${other}_from_n3 $state");
	}
}

converge('rows created');
my $issued = write_round(1, $agents, @names);
converge('first round');
# an orset copy from before the retired agents' last writes: renamed, it
# would be wrong, so it is refused when it arrives after compaction
my $older_tags = $node{n1}->safe_psql('postgres', 'SELECT tags FROM work WHERE k = 1');
is($issued, $agents, 'every agent wrote once');

# n3 is cut off; n1 and n2 retire agents 1..200 (half each) while every
# node goes on writing for agents 1..300: n3 does not know yet
set_partition('DISABLE');
$node{n1}->safe_psql('postgres', q{
SELECT crdt_reconcile.retire_replica(pg_catalog.format('agent-%s', lpad(i::text, 3, '0')), 'pool-a')
FROM generate_series(1, 100) i});
$node{n2}->safe_psql('postgres', q{
SELECT crdt_reconcile.retire_replica(pg_catalog.format('agent-%s', lpad(i::text, 3, '0')), 'pool-b')
FROM generate_series(101, 200) i});
# n1 and n2 also retire a few agents both (different successors: the smaller wins)
$node{n2}->safe_psql('postgres', q{SELECT crdt_reconcile.retire_replica('agent-050', 'pool-0')});
my $in_flight = write_round(1, $agents, 'n3');
is($in_flight, 100, 'n3, partitioned, still writes for its agents');
$issued += $in_flight;
$issued += write_round(1, $agents, qw(n1 n2));

my $folded_early = 0;
# While n3 is cut off, compaction folds but drops no marker, and says what
# it waits for (n3's acknowledgement, or the slot of n3's subscription)
for my $name (qw(n1 n2))
{
	$folded_early += $node{$name}->safe_psql('postgres',
		q{SELECT count(*) FROM crdt_reconcile.compact_replicas() WHERE step = 'folded'}) for 1 .. 3;
	my $waiting = $node{$name}->safe_psql('postgres',
		q{SELECT string_agg(waiting_for, '; ') FROM crdt_reconcile.compact_replicas() WHERE step = 'waiting'});
	like($waiting, qr/n3/, "$name, with n3 partitioned, waits for it: $waiting");
	is($node{$name}->safe_psql('postgres', q{
SELECT count(*) FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NOT NULL}), '0',
		"$name: no compaction group while n3 is partitioned");
}
set_partition('ENABLE');
converge('partition healed');

# folds on two nodes at once
my ($bg_out, $bg_err) = ('', '');
my $bg = IPC::Run::start([ 'psql', '-XAtq', '-d', $node{n2}->connstr('postgres'), '-c',
	q{SELECT count(*) FROM crdt_reconcile.compact_replicas() WHERE step = 'folded'} ], '>', \$bg_out, '2>', \$bg_err);
my $folded = $node{n1}->safe_psql('postgres',
	q{SELECT count(*) FROM crdt_reconcile.compact_replicas() WHERE step = 'folded'});
$bg->finish;
is($bg_err, '', 'compact_replicas on n2 at the same time ran without errors');
ok($folded_early + $folded > 0,
	"compact_replicas folded ($folded_early column-replica pairs during the partition, $folded after)");
converge('folded');

# a copy of a row from before compaction, to be written back late
my $old_hits = $node{n2}->safe_psql('postgres', 'SELECT hits FROM work WHERE k = 1');
my $old_tags = $node{n2}->safe_psql('postgres', 'SELECT tags FROM work WHERE k = 2');

# compaction proper: every node runs compact_replicas until none waits
my ($waiting, $rounds) = compact_everywhere(\%node, 40);
is($waiting, '', "compaction completed on every node after the heal ($rounds rounds)");
diag("still waiting for: $waiting") if $waiting ne '';
converge('markers dropped');
for my $name (@names)
{
	$node{$name}->safe_psql('postgres', 'SELECT count(*) FROM crdt_reconcile.compact_replicas()');
}
converge('compacted everywhere');
settle();

# late writes by retired agents are refused on every node
for my $name (@names)
{
	is($node{$name}->safe_psql('postgres', q{SELECT agent_write('agent-001', 1) + agent_write('agent-150', 2)}),
		'0', "$name refuses retired agents (55000)");
}
$issued += write_round(201, $agents, @names);
converge('live agents wrote after the fold');

# the old copy arrives late on n2: lifted through the groups, counted once,
# recorded as retired_writer
$node{n2}->safe_psql('postgres', qq{UPDATE work SET hits = '$old_hits' WHERE k = 1});
# late orset copies: the final one is renamed and merged, the older one refused
$node{n2}->safe_psql('postgres', qq{UPDATE work SET tags = '$old_tags' WHERE k = 2});
$node{n2}->safe_psql('postgres', qq{UPDATE work SET tags = '$older_tags' WHERE k = 1});
is($node{n2}->safe_psql('postgres', q{
SELECT string_agg(column_name || ' ' || resolution, ', ' ORDER BY id) FROM crdt_reconcile.conflicts
WHERE kind = 'retired_writer' AND relation = 'work'::regclass}),
	'hits merged, tags merged, tags kept_local', 'n2 recorded the late copies as retired_writer (the older tags refused)');
converge('late copy merged');

my $live_agents = $agents - 200;
for my $name (@names)
{
	my $r = $node{$name}->safe_psql('postgres', q{
SELECT sum(crdt_value(hits)) || ' ' || sum(crdt_value(net)) || ' ' || sum(crdt_value(seen)) || ' '
       || sum(crdt_cardinality(tags)) FROM work});
	is($r, join(' ', 2 * $issued, -$issued, $issued, $agents), "$name counts exactly what was issued");
	is($node{$name}->safe_psql('postgres', q{
SELECT count(*) FROM work, LATERAL (SELECT e.replica FROM crdt_entries(hits) e UNION ALL SELECT e.replica FROM crdt_entries(net) e
                                    UNION ALL SELECT e.replica FROM crdt_entries(seen) e
                                    UNION ALL SELECT unnest(crdt_retired_ids(hits) || crdt_retired_ids(net) || crdt_retired_ids(seen))) x
WHERE x.replica IN (SELECT replica FROM crdt_reconcile.retired_replicas)}), '0',
		"$name: no retired agent is left, as an entry or a marker");
	is(retired_in_dots($node{$name}, 'work', qw(tags mood)), '0',
		"$name: no retired agent is left in the orset and mvreg contexts or markers");
	is($node{$name}->safe_psql('postgres', q{
SELECT count(*) FROM work, LATERAL (SELECT tags::text UNION ALL SELECT mood::text) x(t)
WHERE x.t ~ '\["agent-(0\d\d|1\d\d|200)",' OR x.t ~ '"agent-(0\d\d|1\d\d|200)":(\d|\[\[\d)'}), '0',
		"$name: no retired agent id in the orset and mvreg text forms");
	is($node{$name}->safe_psql('postgres', q{
SELECT count(*) FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NULL}), '0',
		"$name: every retired agent is in a compaction group");
	is($node{$name}->safe_psql('postgres', q{
SELECT entries || ' ' || (retired_ids <= (SELECT count(DISTINCT compacted_into) FROM crdt_reconcile.retired_replicas))
FROM crdt_reconcile.replica_metadata WHERE column_name = 'hits'}),
		"$live_agents true", "$name: $live_agents live entries, only compaction groups as markers");
	is($node{$name}->safe_psql('postgres',
		q{SELECT successor FROM crdt_reconcile.retired_replicas WHERE replica = 'agent-050'}),
		'pool-0', "$name: a replica retired twice kept the smaller successor");
}

# values whose size depends on the live agents only: each row, rebuilt from
# its live entries alone, is at most 16 bytes smaller per group
is($node{n1}->safe_psql('postgres', q{
SELECT count(*) FROM work
WHERE pg_column_size(hits) > pg_column_size((SELECT coalesce(crdt_merge(crdt_increment('{}'::gcounter, e.count, e.replica)), '{}')
                                             FROM crdt_entries(hits) e))
                             + 16 * (SELECT count(DISTINCT compacted_into) FROM crdt_reconcile.retired_replicas)}),
	'0', 'every hits value is within 16 bytes per compaction group of its live entries alone');

# No echo loop: once converged, nothing writes any more.  The statistics of
# earlier writes reach pg_stat_user_tables within 10 s (idle flush); after
# that, neither the tracked table's updates nor the WAL may move (a WAL
# record of the running-transactions snapshot, < 1 kB, is allowed; a loop
# of row updates writes far more).  Autovacuum is off for the window: its
# ANALYZE alone writes hundreds of kB.
for my $name (@names)
{
	$node{$name}->safe_psql('postgres', 'ALTER SYSTEM SET autovacuum = off');
	$node{$name}->safe_psql('postgres', 'SELECT pg_reload_conf()');
}
settle();
sleep 12;
my $activity = q{SELECT string_agg(schemaname || '.' || relname || '=' || (n_tup_ins + n_tup_upd + n_tup_del), ' ' ORDER BY 1)
FROM pg_stat_all_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0};
my %tables = map { $_ => $node{$_}->safe_psql('postgres', $activity) } @names;
my %before = map { $_ => [ split / /, $node{$_}->safe_psql('postgres', q{
SELECT pg_current_wal_lsn() || ' ' || (SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables WHERE relid = 'work'::regclass)}) ] } @names;
sleep 5;
for my $name (@names)
{
	my ($lsn, $upd) = split / /, $node{$name}->safe_psql('postgres', q{
SELECT pg_current_wal_lsn() || ' ' || (SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables WHERE relid = 'work'::regclass)});
	is($upd, $before{$name}[1], "$name: no row written after convergence (no echo loop)");
	my $moved = $node{$name}->safe_psql('postgres', qq{SELECT pg_wal_lsn_diff('$lsn', '$before{$name}[0]')});
	ok($moved < 1024, "$name: WAL settled ($moved bytes in 5 s)")
		or diag("$name tables before: $tables{$name}\n$name tables after: " . $node{$name}->safe_psql('postgres', $activity)
			. "\n" . $node{$name}->safe_psql('postgres', q{SELECT string_agg(pid || ' ' || backend_type || ' ' || coalesce(query, ''), E'\n') FROM pg_stat_activity}));
}

done_testing();
