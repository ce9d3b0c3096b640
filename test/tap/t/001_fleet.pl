# Real multi-node convergence over PostgreSQL logical replication.
#
# Three nodes, each with crdt_reconcile and its own crdt.replica_id, in a
# full mesh:
#   counts  — replica rows: each node publishes only its own rows (row filter)
#   shared  — merge in place, every node publishes and subscribes (PostgreSQL
#             15 echoes every change back; the trigger's no-op skip ends it)
# Then: a concurrent workload on all nodes, a partition and heal, an
# immediate stop in the middle of a workload, a late joiner with initial
# copy, a node removed, and a node that misses writes repaired by
# anti-entropy (Merkle digest + repair over dblink).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;
use IPC::Run;

my @names = qw(n1 n2 n3);
my %node;

sub setup_node
{
	my ($name) = @_;
	my $n = crdt_node_with($name, q{
CREATE EXTENSION dblink;
CREATE TABLE counts (k int, replica text, n gcounter, tags orset, clk vclock, PRIMARY KEY (k, replica));
CREATE TABLE shared (k int PRIMARY KEY, n pncounter, tags orset, note lwwreg, plan mvreg, label text,
                     clk vclock, writer lwwreg);
SELECT crdt_reconcile.track('counts', shape => 'replica_rows', replica_column => 'replica', clock_column => 'clk');
SELECT crdt_reconcile.track('shared', clock_column => 'clk', writer_column => 'writer');
});
	$n->safe_psql('postgres', qq{
CREATE PUBLICATION pub_counts FOR TABLE counts WHERE (replica = '$name');
CREATE PUBLICATION pub_shared FOR TABLE shared;
});
	return $n;
}

sub subscribe
{
	my ($to, $from, $copy) = @_;
	my $conn = $node{$from}->connstr . ' dbname=postgres';
	$node{$to}->safe_psql('postgres', qq{
CREATE SUBSCRIPTION sub_${to}_from_${from} CONNECTION '$conn'
PUBLICATION pub_counts, pub_shared WITH (copy_data = $copy);
});
}

# The state of a node: per key the crdt_hash of the converged row.
my $state_sql = q{
SELECT (SELECT string_agg(k || ':' || crdt_hash(n) || ':' || crdt_hash(tags) || ':' || crdt_hash(note)
                          || ':' || crdt_hash(plan) || ':' || coalesce(label, '-') || ':' || crdt_hash(clk),
                          ',' ORDER BY k) FROM shared)
    || ' / ' ||
       (SELECT string_agg(k || ':' || h, ',' ORDER BY k)
        FROM (SELECT k, crdt_hash(crdt_merge(n)) || ':' || crdt_hash(crdt_merge(tags)) AS h
              FROM counts GROUP BY k) x)};
sub state_of { return $node{ $_[0] }->safe_psql('postgres', $state_sql) }

# Waits until every listed node shows the same state (replication, echoes
# and all), or fails after a timeout.
sub converge
{
	my ($what, @nodes) = @_;
	my $deadline = time() + 180;
	my @states;
	while (time() < $deadline)
	{
		@states = map { state_of($_) } @nodes;
		my %distinct = map { $_ => 1 } @states;
		if (keys(%distinct) == 1 && $states[0] ne ' / ')
		{
			# stable: still the same a moment later (no change in flight)
			sleep 1;
			my @again = map { state_of($_) } @nodes;
			my %d2 = map { $_ => 1 } (@states, @again);
			if (keys(%d2) == 1)
			{
				pass("$what: @nodes converged");
				return 1;
			}
		}
		sleep 1;
	}
	fail("$what: @nodes converged");
	diag("$_: " . state_of($_)) for @nodes;
	return 0;
}

sub query_all
{
	my ($sql, @nodes) = @_;
	return map { $node{$_}->safe_psql('postgres', $sql) } @nodes;
}

# A workload script: increments, set adds, register writes, replica rows.
sub workload_sql
{
	my ($name, $rounds, $seed) = @_;
	my $sql = '';
	for my $i (1 .. $rounds)
	{
		my $k = 1 + ($i * 7 + $seed) % 10;
		$sql .= qq{INSERT INTO shared AS t (k, n, tags) VALUES ($k, crdt_increment(NULL::pncounter, 1), crdt_add(NULL::orset, '$name-$i'))
ON CONFLICT (k) DO UPDATE SET n = crdt_increment(t.n, 1), tags = crdt_add(t.tags, '$name-$i');
INSERT INTO counts AS t (k, replica, n, tags) VALUES ($k, '$name', crdt_increment(NULL::gcounter, 1), crdt_add(NULL::orset, '$name'))
ON CONFLICT (k, replica) DO UPDATE SET n = crdt_increment(t.n, 1);
};
		$sql .= qq{UPDATE shared SET note = crdt_set(note, '"$name-$i"'), plan = crdt_set(plan, '$i') WHERE k = $k;
} if $i % 10 == 0;
	}
	return $sql;
}

my $scratch = PostgreSQL::Test::Utils::tempdir;
my $workloads = 0;

# Runs a workload in the background: psql reads a file and writes files,
# so nothing has to be pumped while the test does other things.
sub start_workload
{
	my ($name, $rounds, $seed) = @_;
	my $file = "$scratch/workload_" . ++$workloads;
	PostgreSQL::Test::Utils::append_to_file("$file.sql", workload_sql($name, $rounds, $seed));
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$file.sql", '-d', $node{$name}->connstr('postgres') ],
		'<', \undef, '>', "$file.out", '2>', "$file.err");
	return { handle => $h, err => "$file.err", name => $name };
}

sub finish_workload
{
	my ($w) = @_;
	$w->{handle}->finish;
	return PostgreSQL::Test::Utils::slurp_file($w->{err});
}

sub totals
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres', q{
SELECT (SELECT coalesce(sum(crdt_value(n)), 0) FROM shared) || ' ' ||
       (SELECT coalesce(sum(crdt_value(n)), 0) FROM (SELECT crdt_merge(n) AS n FROM counts GROUP BY k) x)});
}

# ---------------------------------------------------------------- the mesh
$node{$_} = setup_node($_) for @names;
for my $to (@names)
{
	subscribe($to, $_, 'false') for grep { $_ ne $to } @names;
}

# ---------------------------------------------------------------- concurrent workload
my @w = map { start_workload($names[$_], 150, $_) } 0 .. 2;
sleep 1;
is(finish_workload($_), '', "workload on $_->{name} ran without errors") for @w;
converge('concurrent workload', @names);
is_deeply([ map { totals($_) } @names ], [ ('450 450') x 3 ],
	'every node counts all 450 increments, none twice (merge in place and replica rows)');
my @tag_counts = query_all(q{SELECT sum(crdt_cardinality(tags)) FROM shared}, @names);
is_deeply(\@tag_counts, [ ('450') x 3 ], 'every set add arrived everywhere');
my @echo = query_all(q{SELECT echoes_skipped > 0 FROM crdt_reconcile.merge_stats WHERE relation = 'shared'::regclass}, @names);
is_deeply(\@echo, [ ('t') x 3 ], 'echoes came back and were skipped on every node');
my @digests = query_all(q{SELECT md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket)) FROM crdt_reconcile.digest('shared')}, @names);
is(scalar(keys %{ { map { $_ => 1 } @digests } }), 1, 'digests agree on every node');

# ---------------------------------------------------------------- partition and heal
isolate_node(\%node, 'n3', 'DISABLE');
$node{n1}->safe_psql('postgres', q{UPDATE shared SET label = 'from n1', n = crdt_increment(n, 5), plan = crdt_set(plan, '"n1 plan"') WHERE k = 1});
$node{n3}->safe_psql('postgres', q{UPDATE shared SET label = 'from n3', n = crdt_decrement(n, 2), plan = crdt_set(plan, '"n3 plan"') WHERE k = 1});
$node{n2}->safe_psql('postgres', q{UPDATE shared SET tags = crdt_add(tags, 'during partition') WHERE k = 2});
# heal n1 <-> n3 first, so that each receives the other's write directly
# (not already merged by n2), then n2 <-> n3
for my $pair ([qw(n3 n1)], [qw(n1 n3)])
{
	my ($to, $from) = @$pair;
	$node{$to}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${to}_from_$from ENABLE");
}
converge('n1 and n3 healed', qw(n1 n3));
for my $pair ([qw(n3 n2)], [qw(n2 n3)])
{
	my ($to, $from) = @$pair;
	$node{$to}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${to}_from_$from ENABLE");
}
converge('partition healed', @names);
is_deeply([ map { totals($_) } @names ], [ ('453 450') x 3 ], 'increments and decrements from both sides of the partition count once');
my @labels = query_all(q{SELECT label FROM shared WHERE k = 1}, @names);
is(scalar(keys %{ { map { $_ => 1 } @labels } }), 1, "every node kept the same label ($labels[0])");
# n1 and n3 each saw the other's write arrive concurrent with their own;
# n2 may only have received the already-merged row, which is not a conflict
my @conflicts = query_all(q{SELECT count(*) FROM crdt_reconcile.conflicts
	WHERE relation = 'shared'::regclass AND kind = 'concurrent_update' AND column_name = 'label' AND row_key = '{"k": 1}'}, @names);
ok($conflicts[0] >= 1 && $conflicts[2] >= 1, "n1 and n3 recorded the concurrent label write (n1 n2 n3: @conflicts)");
my @open = query_all(q{SELECT count(*) FROM crdt_reconcile.conflicts WHERE status = 'open' AND kind = 'multi_value' AND row_key = '{"k": 1}'}, @names);
ok((grep { $_ >= 1 } @open) == 3, "each node holds the concurrent plan values as open conflicts (@open)");

# ---------------------------------------------------------------- crash
@w = map { start_workload($_, 150, 5) } qw(n1 n3);
sleep 1;
$node{n2}->stop('immediate');
$node{n2}->start;
is(finish_workload($_), '', "workload on $_->{name} survived n2's crash") for @w;
converge('after an immediate stop of n2', @names);
is_deeply([ map { totals($_) } @names ], [ ('753 750') x 3 ], 'no increment lost, none counted twice across the crash');

# ---------------------------------------------------------------- late joiner
$node{n4} = setup_node('n4');
subscribe('n4', $_, 'true') for @names;
subscribe($_, 'n4', 'false') for @names;
push @names, 'n4';
$node{n4}->safe_psql('postgres', q{
INSERT INTO shared AS t (k, n) VALUES (3, crdt_increment(NULL::pncounter, 10))
ON CONFLICT (k) DO UPDATE SET n = crdt_increment(t.n, 10)});
converge('late joiner n4 with initial copy', @names);
is_deeply([ map { totals($_) } @names ], [ ('763 750') x 4 ], 'n4 caught up and its own writes reached everyone');

# ---------------------------------------------------------------- removing a node
for my $other (qw(n1 n2 n3))
{
	$node{$other}->safe_psql('postgres', "DROP SUBSCRIPTION sub_${other}_from_n4");
	$node{n4}->safe_psql('postgres', "DROP SUBSCRIPTION sub_n4_from_$other");
}
pop @names;
$node{n4}->stop;
$node{n2}->safe_psql('postgres', q{UPDATE shared SET n = crdt_increment(n, 1) WHERE k = 4});
converge('after removing n4', @names);
is_deeply([ map { totals($_) } @names ], [ ('764 750') x 3 ], 'the remaining mesh goes on');

# ---------------------------------------------------------------- anti-entropy repair
# n3 misses some of n1's replica rows: drop its subscription, write,
# re-create it without copy.  Repair must fetch about the rows that differ.
$node{n1}->safe_psql('postgres', q{
INSERT INTO counts (k, replica, n) SELECT k, 'n1', crdt_increment(NULL::gcounter, 1) FROM generate_series(1001, 3000) k});
converge('2,000 more replica rows', @names);
$node{n3}->safe_psql('postgres', 'DROP SUBSCRIPTION sub_n3_from_n1');
$node{n1}->safe_psql('postgres', q{
UPDATE counts SET n = crdt_increment(n, 1) WHERE replica = 'n1' AND k BETWEEN 1001 AND 1020});
subscribe('n3', 'n1', 'false');
$node{n1}->wait_for_catchup('sub_n2_from_n1');
my ($d1, $d3) = map { $node{$_}->safe_psql('postgres', q{SELECT md5(string_agg(bucket || ':' || hash, ',' ORDER BY bucket)) FROM crdt_reconcile.digest('counts')}) } qw(n1 n3);
isnt($d1, $d3, 'n3 missed writes: its digest differs from n1');
my $conn1 = $node{n1}->connstr . ' dbname=postgres';
my $repair = $node{n3}->safe_psql('postgres', "SELECT levels || ' ' || nodes_compared || ' ' || nodes_differing || ' ' || rows_fetched || ' ' || rows_changed FROM crdt_reconcile.repair('counts', '$conn1')");
my $size = $node{n1}->safe_psql('postgres', 'SELECT count(*) FROM counts');
my ($levels, $compared, $differing, $fetched, $changed) = split / /, $repair;
note("repair: $levels levels, $compared Merkle nodes compared, $differing differing, $fetched rows fetched of $size, $changed changed");
is($changed, 20, "repair changed exactly the 20 rows n3 missed ($differing of $compared nodes differed)");
ok($fetched <= 3 * 20, "repair fetched $fetched of $size rows (at most 3 x the 20 that differ)");
converge('after repair', @names);
is_deeply([ map { totals($_) } @names ], [ ('764 2770') x 3 ], 'after repair every node has every increment');
my $again = $node{n3}->safe_psql('postgres', "SELECT nodes_differing || ' ' || rows_fetched FROM crdt_reconcile.repair('counts', '$conn1')");
is($again, '0 0', 'a second repair finds nothing to do');

# ---------------------------------------------------------------- operations view
my $status = $node{n1}->safe_psql('postgres', q{SELECT count(*), bool_and(sync_state = 'ready') FROM crdt_reconcile.replication_status});
is($status, '4|t', 'replication_status: two subscriptions x two tracked tables, all ready');
my $peers = $node{n1}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.peer_status WHERE active});
is($peers, '2', 'peer_status: both peers are streaming from n1');
my $lag = $node{n1}->safe_psql('postgres', q{SELECT count(DISTINCT replica) FROM crdt_reconcile.reconciliation_lag WHERE relation = 'counts'::regclass});
is($lag, '3', 'reconciliation_lag lists every replica that wrote replica rows');

$node{$_}->stop for @names;
done_testing();
