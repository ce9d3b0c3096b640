# Compaction of orset and mvreg columns while a node is partitioned
# (docs/RETIREMENT.md, "Compacting the dots").  Two agents write a tracked
# table's orset and mvreg columns through n1 and n2 and are retired; every
# node acknowledges them; then n3 is cut off and n1, the coordinator,
# assigns their compaction group and renames their dots on n1 and n2.  On
# n3, which does not know the group, a live replica removes an element an
# agent had added and adds it again, and overwrites the registers.  After
# the heal every node has the same values, the element holds only its new
# dot (the removed one, renamed elsewhere, stays removed), the registers
# hold n3's value (and a live concurrent one), nothing was refused, and no
# retired id is left in the contexts or markers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;

my @names = qw(n1 n2 n3);
my %node = crdt_mesh('mesh', q{
CREATE TABLE bag (k int PRIMARY KEY, tags orset NOT NULL DEFAULT '{}', mood mvreg NOT NULL DEFAULT '{}');
SELECT crdt_reconcile.track('bag');
SELECT crdt_reconcile.create_publication('mesh');
}, \@names);
# the subscriptions copy no data: each node announces itself again, so that
# every node knows every mesh member (compaction waits for all of them)
$node{$_}->safe_psql('postgres', "SELECT crdt_reconcile.join_mesh('$_')") for @names;

sub state_of
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres', q{
SELECT coalesce(string_agg(k || ':' || crdt_hash(tags) || ':' || crdt_hash(mood), ',' ORDER BY k), '')
       || ' / ' || (SELECT coalesce(string_agg(replica || '>' || coalesce(compacted_into, '?') || ':'
                                               || crdt_hash(acknowledged_by), ',' ORDER BY replica), '')
                    FROM crdt_reconcile.retired_replicas)
FROM bag});
}

sub converge
{
	converge_nodes(\%node, \&state_of, @_);
}

# compact_replicas() on node name, as often as it takes (at most 30 s)
# until until->() holds
sub compact_until
{
	my ($name, $until, $what) = @_;
	for (1 .. 30)
	{
		$node{$name}->safe_psql('postgres', 'SELECT count(*) FROM crdt_reconcile.compact_replicas()');
		return pass("$name: $what") if $until->();
		sleep 1;
	}
	fail("$name: $what");
	diag($node{$name}->safe_psql('postgres',
		q{SELECT string_agg(step || ' ' || coalesce(waiting_for, ''), '; ') FROM crdt_reconcile.compact_replicas()}));
}

sub acknowledged_by
{
	my ($on, $who) = @_;
	return $node{$on}->safe_psql('postgres', qq{
SELECT count(*) = 2 AND bool_and(crdt_contains(acknowledged_by, '$who')) FROM crdt_reconcile.retired_replicas}) eq 't';
}

# the dots of an element of the orset of row k, as jsonb text
sub dots_of
{
	my ($name, $k, $element) = @_;
	return $node{$name}->safe_psql('postgres', qq{
SELECT coalesce((CASE WHEN jsonb_typeof(j) = 'array' THEN j -> 0 ELSE j END) -> 'elements' -> '$element', 'null')
FROM (SELECT tags::text::jsonb AS j FROM bag WHERE k = $k) s});
}

$node{n1}->safe_psql('postgres', 'INSERT INTO bag (k) VALUES (1), (2)');
converge('rows created');
# agent-a through n1, then agent-b through n2, then a live replica
$node{n1}->safe_psql('postgres', q{
UPDATE bag SET tags = crdt_add(crdt_add(tags, 'apple', 'agent-a'), 'pear', 'agent-a'),
               mood = crdt_set(mood, '"a"', 'agent-a')});
converge('agent-a wrote');
$node{n2}->safe_psql('postgres', q{
UPDATE bag SET tags = crdt_add(tags, 'fig', 'agent-b'), mood = crdt_set(mood, '"b"', 'agent-b')});
converge('agent-b wrote');
$node{n1}->safe_psql('postgres', q{UPDATE bag SET tags = crdt_add(tags, 'plum', 'live-1') WHERE k = 1});
converge('live-1 wrote');

$node{n1}->safe_psql('postgres', q{SELECT crdt_reconcile.retire_replica('agent-a', 'pool')});
$node{n2}->safe_psql('postgres', q{SELECT crdt_reconcile.retire_replica('agent-b', 'pool')});
converge('agents retired');

# every node acknowledges while connected; n1 first, so that it cannot
# assign the group before n3 is cut off (it assigns when it sees all three)
compact_until('n1', sub { acknowledged_by('n1', 'n1') }, 'acknowledged the retired agents');
for my $name (qw(n2 n3))
{
	compact_until($name, sub { acknowledged_by($name, $name) }, 'acknowledged the retired agents');
}
$node{n1}->poll_query_until('postgres', q{
SELECT bool_and(crdt_contains(acknowledged_by, 'n2') AND crdt_contains(acknowledged_by, 'n3'))
FROM crdt_reconcile.retired_replicas}) or diag('n1 did not receive the acknowledgements');
is($node{n1}->safe_psql('postgres', 'SELECT count(*) FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NULL'),
	'2', 'no group assigned before the partition');

isolate_node(\%node, 'n3', 'DISABLE');
# n1 coordinates: it assigns the group and renames its rows; the rows it
# sends n2 lift n2's stored values through the group
compact_until('n1', sub { retired_in_dots($node{n1}, 'bag', qw(tags mood)) eq '0' }, 'compacted during the partition');
$node{n2}->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NULL}) or diag('n2 has no group');
compact_until('n2', sub { retired_in_dots($node{n2}, 'bag', qw(tags mood)) eq '0' }, 'compacted during the partition');
is($node{n2}->safe_psql('postgres', q{SELECT string_agg(DISTINCT compacted_into, ',') FROM crdt_reconcile.retired_replicas}),
	'~1', 'n2: both agents in group ~1');
is($node{n3}->safe_psql('postgres', 'SELECT count(*) FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NULL'),
	'2', 'n3, partitioned, does not know the group');
isnt(retired_in_dots($node{n3}, 'bag', qw(tags mood)), '0', 'n3 still names the agents in its contexts');

# live writes on both sides of the partition
$node{n1}->safe_psql('postgres', q{UPDATE bag SET tags = crdt_add(tags, 'kiwi', 'live-1') WHERE k = 1});
$node{n1}->safe_psql('postgres', q{UPDATE bag SET mood = crdt_set(mood, '"n1"', 'live-1') WHERE k = 2});
my ($rc, $out, $err) = $node{n3}->psql('postgres', qq{\\set VERBOSITY verbose
UPDATE bag SET tags = crdt_add(tags, 'apple', 'agent-a') WHERE k = 1});
like($err, qr/55000/, 'n3 refuses a write as a retired agent (55000)');
# n3: apple (agent-a's dot) removed, then added again as live-3; registers overwritten
$node{n3}->safe_psql('postgres', q{UPDATE bag SET tags = crdt_remove(tags, 'apple') WHERE k = 1});
is(dots_of('n3', 1, 'apple'), 'null', 'n3: apple removed');
$node{n3}->safe_psql('postgres', q{UPDATE bag SET tags = crdt_add(tags, 'apple', 'live-3') WHERE k = 1});
$node{n3}->safe_psql('postgres', q{UPDATE bag SET mood = crdt_set(mood, '"n3"', 'live-3')});
is(dots_of('n3', 1, 'apple'), '[["live-3", 1]]', 'n3: apple added again by live-3');

isolate_node(\%node, 'n3', 'ENABLE');
converge('partition healed');
my ($waiting, $rounds) = compact_everywhere(\%node, 30);
is($waiting, '', "compact_replicas waits for nothing after the heal ($rounds rounds)");
diag("still waiting for: $waiting") if $waiting ne '';
converge('compacted everywhere');

for my $name (@names)
{
	is($node{$name}->safe_psql('postgres', q{
SELECT string_agg(k || ': ' || array_to_string(crdt_value(tags), ',') || ' / ' || array_to_string(crdt_value(mood), ','),
                  '; ' ORDER BY k) FROM bag}),
		'1: apple,fig,kiwi,pear,plum / "n3"; 2: apple,fig,pear / "n1","n3"',
		"$name: elements and register values (n3's overwrite, n1's concurrent set)");
	is(dots_of($name, 1, 'apple'), '[["live-3", 1]]', "$name: apple holds live-3's dot only (agent-a's stays removed)");
	is(dots_of($name, 1, 'pear'), '[["~1", 2]]', "$name: pear's dot renamed into the group");
	is(retired_in_dots($node{$name}, 'bag', qw(tags mood)), '0',
		"$name: no retired agent is left in the orset and mvreg contexts or markers");
	is($node{$name}->safe_psql('postgres', q{
SELECT count(*) FROM crdt_reconcile.conflicts WHERE kind = 'retired_writer' AND resolution <> 'merged'}),
		'0', "$name: no late copy refused");
}
ok($node{n1}->safe_psql('postgres', q{
SELECT count(*) FROM crdt_reconcile.conflicts WHERE kind = 'retired_writer' AND relation = 'bag'::regclass}) > 0,
	"n1 recorded n3's uncompacted writes as retired_writer, merged");

done_testing();
