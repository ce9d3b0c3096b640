# History on three nodes (issue 15): a counter changed on every node of a
# full mesh; once the nodes agree, each node's history of the row explains
# its value (the deltas it recorded, merged in its own order of arrival,
# equal the row), as_of gives the row back, echoes left no records, and a
# conflict recorded open is announced on crdt_reconcile_conflicts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;

my @names = qw(n1 n2 n3);
my %node;

for my $name (@names)
{
	$node{$name} = crdt_node($name);
	$node{$name}->safe_psql('postgres', q{
CREATE TABLE stock (id int PRIMARY KEY, qty pncounter, clk vclock);
SELECT crdt_reconcile.track('stock', clock_column => 'clk', history => true);
CREATE TABLE bal (id int PRIMARY KEY, b pncounter, clk vclock);
SELECT crdt_reconcile.track('bal', clock_column => 'clk', invariant => 'crdt_value(b) >= 0');
SELECT crdt_reconcile.create_publication('mesh');
});
}
subscribe_mesh(\%node, 'mesh');

sub value_on
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres',
		q{SELECT coalesce((SELECT crdt_value(qty) || ' ' || qty::text FROM stock WHERE id = 1), '-')});
}

sub converge
{
	my ($what, $want) = @_;
	my $deadline = time() + 120;
	my %seen;
	while (time() < $deadline)
	{
		%seen = map { $_ => value_on($_) } @names;
		last if (grep { $seen{$_} =~ /^$want / } @names) == @names;
		sleep 1;
	}
	is((grep { $seen{$_} =~ /^$want / } @names) + 0, scalar @names, "$what: every node holds $want")
		or diag(join(', ', map { "$_: $seen{$_}" } @names));
	# echoes die out before the records are checked
	sleep 3;
}

$node{n1}->safe_psql('postgres', q{INSERT INTO stock VALUES (1, crdt_increment('{}'::pncounter, 5), '{}')});
converge('insert on n1', 5);
$node{n2}->safe_psql('postgres', q{UPDATE stock SET qty = crdt_increment(qty, 7) WHERE id = 1});
$node{n3}->safe_psql('postgres', q{UPDATE stock SET qty = crdt_decrement(qty, 1) WHERE id = 1});
$node{n1}->safe_psql('postgres', q{UPDATE stock SET qty = crdt_increment(qty, 2) WHERE id = 1});
converge('writes on three nodes', 13);

for my $name (@names)
{
	my $n = $node{$name};
	# the deltas of the row's records, merged one by one in the order this node recorded them
	my $explained = $n->safe_psql('postgres', q{
DO $$
DECLARE
	state pncounter;
	h record;
BEGIN
	FOR h IN SELECT change FROM crdt_reconcile.history
	         WHERE relation = 'stock'::regclass AND row_key = '{"id": 1}' ORDER BY id LOOP
		state := crdt_merge(state, (h.change -> 'qty' -> 'd')::pncounter);
	END LOOP;
	CREATE TEMP TABLE explained AS SELECT state;
END $$;
SELECT (SELECT state FROM explained) = qty FROM stock WHERE id = 1});
	is($explained, 't', "$name: its history's deltas merged in order equal the row");
	is($n->safe_psql('postgres', q{
SELECT (crdt_reconcile.as_of('stock', '{"id": 1}', clock_timestamp()) -> 'qty')::pncounter = qty
   AND (crdt_reconcile.as_of('stock', '{"id": 1}', clock_timestamp()) -> 'clk')::vclock = clk
FROM stock WHERE id = 1}), 't', "$name: as_of now is the row");
	# one record per change that reached the node: its own writes are local,
	# the others' applied; the echoes of the mesh added nothing
	my $kinds = $n->safe_psql('postgres', q{
SELECT string_agg(kind, ',' ORDER BY kind) FROM crdt_reconcile.history WHERE relation = 'stock'::regclass});
	my $own = $name eq 'n1' ? 2 : 1;
	my @kinds = split /,/, $kinds;
	is(scalar(grep { /^local_/ } @kinds), $own, "$name: $own local record(s)");
	is(scalar(grep { /^applied_|insert_merged/ } @kinds), 4 - $own, "$name: one applied record per other write ($kinds)");
	my $origins = $n->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE kind LIKE 'applied%' AND origin LIKE 'origin %')
     = count(*) FILTER (WHERE kind LIKE 'applied%')
FROM crdt_reconcile.history});
	is($origins, 't', "$name: applied records name their replication origin");
	note("$name: " . $n->safe_psql('postgres', q{
SELECT string_agg(kind || ' | ' || origin || ' | ' || change::text, E'\n' ORDER BY id) FROM crdt_reconcile.history}));
}

# The conflict feed: an open conflict is announced after commit.
my ($out, $err) = ('', '');
$node{n2}->psql('postgres', q{
LISTEN crdt_reconcile_conflicts;
INSERT INTO bal VALUES (1, crdt_increment('{}'::pncounter, 1), '{}');
UPDATE bal SET b = crdt_decrement(b, 3) WHERE id = 1;
SELECT 1;
}, stdout => \$out, stderr => \$err);
my ($payload) = $out =~ /Asynchronous notification "crdt_reconcile_conflicts" with payload "(.*)" received/;
ok(defined $payload, 'an open conflict is announced on crdt_reconcile_conflicts') or diag($out . $err);
is($node{n2}->safe_psql('postgres', qq{
SELECT p ->> 'kind', p ->> 'relation', p -> 'row_key', p -> 'column', (p ->> 'id')::int8 = (SELECT max(id) FROM crdt_reconcile.conflicts)
FROM (SELECT '$payload'::jsonb AS p) x}), 'invariant_violation|public.bal|{"id": 1}|null|t',
	'its payload: kind, relation, row_key, column and the id of the record');
my ($out2, $err2) = ('', '');
$node{n2}->psql('postgres', q{
LISTEN crdt_reconcile_conflicts;
BEGIN;
UPDATE bal SET b = crdt_decrement(b, 3) WHERE id = 1;
ROLLBACK;
SELECT 1;
}, stdout => \$out2, stderr => \$err2);
unlike($out2, qr/Asynchronous notification/, 'a rolled-back conflict is not announced');

done_testing();
