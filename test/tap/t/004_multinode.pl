# Multi-node correctness of tracked tables (issue "Multi-node correctness"),
# on a three-node full mesh built with crdt_reconcile.create_publication.
# Each case checks that the nodes converge AND settle: once they agree,
# neither WAL nor the tables' tuple counters move on any node (no echo
# storm), and no apply worker ever failed.
#   1. INSERT then DELETE (also in one transaction), DELETE then re-INSERT,
#      a late DELETE arriving along another path
#   2. TRUNCATE is refused; a publication that publishes it is flagged
#   3. an unchanged TOASTed plain column while another column changes
#   4. a GENERATED ALWAYS AS IDENTITY key
#   5. plain columns without a row clock are refused by track()
#   6. constraints a merge could break are refused; an invariant that raises
#      on the merged state is recorded, and replication goes on
#   8. a writer tag stamped at 9999-12-31 23:59:59.999999
#   9. tombstones are collected once every node has acknowledged them, never
#      while a node is away
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;

my @names = qw(n1 n2 n3);
# autovacuum off: the settling check watches WAL
my %node = crdt_mesh('mesh', q{
CREATE TABLE items (k int PRIMARY KEY, n gcounter, label text, doc text, price numeric, clk vclock, writer lwwreg);
CREATE TABLE ident (k int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n gcounter, clk vclock);
CREATE TABLE bal (k int PRIMARY KEY, b pncounter, clk vclock);
SELECT crdt_reconcile.track('items', clock_column => 'clk', writer_column => 'writer', record_stale => false);
SELECT crdt_reconcile.track('ident', clock_column => 'clk', record_stale => false);
SELECT crdt_reconcile.track('bal', clock_column => 'clk', record_stale => false,
                            invariant => 'crdt_value(b) / (crdt_value(b) + 5) >= 0');
SELECT crdt_reconcile.create_publication('mesh');
}, \@names, 'autovacuum = off');

my $state_sql = q{
SELECT coalesce((SELECT string_agg(k || ':' || coalesce(crdt_value(n), 0) || ':' || coalesce(label, '-') || ':'
                                   || coalesce(md5(doc), '-') || ':' || coalesce(price::text, '-'), ',' ORDER BY k)
                 FROM items), '')
 || ' / ' || coalesce((SELECT string_agg(k || ':' || crdt_value(n), ',' ORDER BY k) FROM ident), '')
 || ' / ' || coalesce((SELECT string_agg(k || ':' || crdt_value(b), ',' ORDER BY k) FROM bal), '')};
sub state_of { return $node{ $_[0] }->safe_psql('postgres', $state_sql) }

# What moves while a node works: its WAL and the tracked tables' tuples.
sub activity_of
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres', q{
SELECT pg_current_wal_lsn() || ' ' || (SELECT string_agg(relname || '=' || (n_tup_ins + n_tup_upd + n_tup_del), ','
                                                           ORDER BY relname)
                                        FROM pg_stat_all_tables WHERE schemaname IN ('public', 'crdt_reconcile'))});
}

# Waits until every node shows the same state, then checks that nothing
# moves any more: WAL and tuple counters stand still for three seconds.
sub settle
{
	my ($what) = @_;
	my $deadline = time() + 120;
	my $agreed = 0;
	while (time() < $deadline)
	{
		my %distinct = map { state_of($_) => 1 } @names;
		if (keys(%distinct) == 1)
		{
			$agreed = 1;
			last;
		}
		sleep 1;
	}
	ok($agreed, "$what: the nodes converged");
	diag("$_: " . state_of($_)) for ($agreed ? () : @names);
	# stats are flushed at most once a second; give echoes time to die out
	sleep 3;
	$node{$_}->safe_psql('postgres', 'SELECT pg_stat_force_next_flush()') for @names;
	my @before = map { [ split / /, activity_of($_) ] } @names;
	sleep 3;
	my @after = map { [ split / /, activity_of($_) ] } @names;
	is_deeply([ map { $_->[1] } @after ], [ map { $_->[1] } @before ],
		"$what: settled (no tuple written on any node for 3 s)");
	# WAL may still get a running-transactions record or two (autovacuum is
	# off), never a stream
	my @wal = map { $node{$names[$_]}->safe_psql('postgres',
		"SELECT pg_wal_lsn_diff('$after[$_][0]', '$before[$_][0]')") } 0 .. $#names;
	ok(!(grep { $_ > 8192 } @wal), "$what: settled (WAL grew by @wal bytes in 3 s)");
}

sub all_nodes
{
	my ($sql) = @_;
	return [ map { $node{$_}->safe_psql('postgres', $sql) } @names ];
}

sub subscription
{
	my ($to, $from, $state) = @_;
	$node{$to}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${to}_from_$from $state");
}

# ---------------------------------------------------------------- 1. deletes
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (1, crdt_increment(NULL::gcounter, 1), 'one')});
$node{n1}->safe_psql('postgres', q{DELETE FROM items WHERE k = 1});
settle('INSERT then DELETE');
is_deeply(all_nodes(q{SELECT count(*) FROM items WHERE k = 1}), [ ('0') x 3 ], 'the deleted row stays deleted everywhere');

$node{n2}->safe_psql('postgres', q{BEGIN; INSERT INTO items (k, n) VALUES (2, crdt_increment(NULL::gcounter, 1));
	DELETE FROM items WHERE k = 2; COMMIT;});
settle('INSERT and DELETE in one transaction');
is_deeply(all_nodes(q{SELECT count(*) FROM items WHERE k = 2}), [ ('0') x 3 ], 'no node brought it back');

$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (3, crdt_increment(NULL::gcounter, 5), 'three')});
settle('a row everywhere');
$node{n1}->safe_psql('postgres', q{DELETE FROM items WHERE k = 3});
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (3, crdt_increment(NULL::gcounter, 1), 'again')});
settle('DELETE then re-INSERT');
$node{n2}->safe_psql('postgres', q{UPDATE items SET n = crdt_increment(n, 1) WHERE k = 3});
settle('an increment after the re-insert');
is_deeply(all_nodes(q{SELECT crdt_value(n) || ' ' || label FROM items WHERE k = 3}), [ ('2 again') x 3 ],
	'the re-inserted row and the later increment are everywhere (the old life is gone)');

# a DELETE that reaches n2 late, along the direct path, after n2 re-inserted
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n) VALUES (4, crdt_increment(NULL::gcounter, 1))});
settle('row 4 everywhere');
subscription('n2', 'n1', 'DISABLE');
$node{n1}->safe_psql('postgres', q{DELETE FROM items WHERE k = 4});
$node{n2}->poll_query_until('postgres', q{SELECT count(*) = 0 FROM items WHERE k = 4})
	or die 'the delete did not reach n2 through n3';
$node{n2}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (4, crdt_increment(NULL::gcounter, 10), 'back')});
subscription('n2', 'n1', 'ENABLE');
settle('a late DELETE along another path');
is_deeply(all_nodes(q{SELECT crdt_value(n) || ' ' || label FROM items WHERE k = 4}), [ ('10 back') x 3 ],
	'the late delete did not remove the row re-inserted after it');

# a delete and a concurrent update: the delete wins, everywhere, and it is recorded
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n) VALUES (5, crdt_increment(NULL::gcounter, 1))});
settle('row 5 everywhere');
isolate_node(\%node, 'n3', 'DISABLE');
$node{n1}->safe_psql('postgres', q{DELETE FROM items WHERE k = 5});
$node{n3}->safe_psql('postgres', q{UPDATE items SET n = crdt_increment(n, 7) WHERE k = 5});
isolate_node(\%node, 'n3', 'ENABLE');
settle('a delete concurrent with an update');
is_deeply(all_nodes(q{SELECT count(*) FROM items WHERE k = 5}), [ ('0') x 3 ], 'the delete won on every node');
# n1 and n2 never see n3's update (PostgreSQL skips an update of a row it
# no longer has); n3 records that the delete took it
is($node{n3}->safe_psql('postgres', q{SELECT kind || ' ' || resolution FROM crdt_reconcile.conflicts
                                      WHERE kind = 'update_deleted'}), 'update_deleted applied_remote',
	'n3 recorded that the delete won over its update');

# ---------------------------------------------------------------- 2. TRUNCATE
my ($rc, $out, $err) = $node{n1}->psql('postgres', 'TRUNCATE items');
like($err, qr/TRUNCATE of tracked table public\.items is refused/, 'TRUNCATE of a tracked table is refused');
is($node{n1}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.publication_status WHERE problem IS NOT NULL}),
	'0', 'the mesh publication publishes no TRUNCATE and carries the tombstones');
$node{n1}->safe_psql('postgres', 'CREATE PUBLICATION careless FOR TABLE items');
like($node{n1}->safe_psql('postgres', q{SELECT problem FROM crdt_reconcile.publication_status WHERE publication = 'careless'}),
	qr/publishes TRUNCATE/, 'a publication that publishes TRUNCATE is flagged');
$node{n1}->safe_psql('postgres', 'DROP PUBLICATION careless');

# ---------------------------------------------------------------- 3. TOAST
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, doc, price) VALUES (6, repeat('X', 10000), 1)});
settle('a row with a 10 kB document');
isolate_node(\%node, 'n2', 'DISABLE');
$node{n2}->safe_psql('postgres', q{UPDATE items SET doc = repeat('Y', 10000) WHERE k = 6});
$node{n1}->safe_psql('postgres', q{UPDATE items SET price = 9 WHERE k = 6});
isolate_node(\%node, 'n2', 'ENABLE');
settle('a document rewritten on n2 while n1 changed the price');
is_deeply(all_nodes(q{SELECT left(doc, 1) || ' ' || length(doc) || ' ' || price FROM items WHERE k = 6}),
	[ ('Y 10000 9') x 3 ], "both edits survive on every node: n2's document, n1's price");

# ---------------------------------------------------------------- 4. identity key
# each node's identity sequence hands out 1: the applied INSERTs meet an existing key
isolate_node(\%node, 'n2', 'DISABLE');
$node{n1}->safe_psql('postgres', q{INSERT INTO ident (n) VALUES (crdt_increment(NULL::gcounter, 1))});
$node{n2}->safe_psql('postgres', q{INSERT INTO ident (n) VALUES (crdt_increment(NULL::gcounter, 2))});
isolate_node(\%node, 'n2', 'ENABLE');
settle('rows with identity keys from two nodes');
is_deeply(all_nodes(q{SELECT string_agg(k || ' ' || crdt_value(n), ',') FROM ident}), [ ('1 3') x 3 ],
	'the applied inserts of an existing identity key merged instead of stalling');

# ---------------------------------------------------------------- 5, 6. refused up front
($rc, $out, $err) = $node{n1}->psql('postgres',
	q{CREATE TABLE loose (k int PRIMARY KEY, label text); SELECT crdt_reconcile.track('loose')});
like($err, qr/plain columns but no row clock/, 'plain columns without a row clock are refused');
($rc, $out, $err) = $node{n1}->psql('postgres',
	q{CREATE TABLE checked (k int PRIMARY KEY, b pncounter CHECK (crdt_value(b) >= 0), clk vclock);
	  SELECT crdt_reconcile.track('checked', clock_column => 'clk')});
like($err, qr/check constraint .* express it as an invariant/, 'a CHECK over a CRDT column is refused, with the alternative');
($rc, $out, $err) = $node{n1}->psql('postgres', q{CREATE UNIQUE INDEX items_label ON items (label)});
like($err, qr/unique index .* only the primary key may be unique/, 'a UNIQUE index on a tracked table is refused');

# the invariant raises (division by zero) on the merged state: recorded, never a stall
$node{n1}->safe_psql('postgres', q{INSERT INTO bal (k, b) VALUES (1, crdt_increment(NULL::pncounter, 1))});
settle('a balance of 1');
isolate_node(\%node, 'n3', 'DISABLE');
$node{n1}->safe_psql('postgres', q{UPDATE bal SET b = crdt_decrement(b, 3) WHERE k = 1});
$node{n3}->safe_psql('postgres', q{UPDATE bal SET b = crdt_decrement(b, 3) WHERE k = 1});
isolate_node(\%node, 'n3', 'ENABLE');
settle('two concurrent decrements that make the invariant raise');
is_deeply(all_nodes(q{SELECT crdt_value(b) FROM bal WHERE k = 1}), [ ('-5') x 3 ], 'the merge was applied everywhere');
my $recorded = all_nodes(q{SELECT count(*) > 0 FROM crdt_reconcile.conflicts
                        WHERE kind = 'invariant_violation' AND note LIKE '%division by zero%'});
ok((grep { $_ eq 't' } @$recorded) >= 1, "the raising invariant was recorded as a violation (@$recorded)");
$node{n2}->safe_psql('postgres', q{UPDATE bal SET b = crdt_increment(b, 10) WHERE k = 1});
settle('replication goes on after it');
is_deeply(all_nodes(q{SELECT crdt_value(b) FROM bal WHERE k = 1}), [ ('5') x 3 ], 'later writes still arrive everywhere');

# ---------------------------------------------------------------- 8. the end of time
$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, label) VALUES (7, 'first')});
$node{n1}->safe_psql('postgres', q{UPDATE items SET label = 'from the future',
	writer = crdt_set_at(writer, '{}', '9999-12-31 23:59:59.999999+00', 'n1') WHERE k = 7});
settle('a writer tag at the last microsecond of 9999');
$node{n2}->safe_psql('postgres', q{UPDATE items SET label = 'still writable' WHERE k = 7});
settle('a write after it');
is_deeply(all_nodes(q{SELECT label FROM items WHERE k = 7}), [ ('still writable') x 3 ],
	'a write that saw the far-future tag wins on every node');

# ---------------------------------------------------------------- 9. tombstones collected
# collect_tombstones on every node until none is left anywhere (or time is up)
sub collect_all
{
	my ($seconds) = @_;
	my $deadline = time() + $seconds;
	my $left;
	while (time() < $deadline)
	{
		$node{$_}->safe_psql('postgres', 'SELECT crdt_reconcile.collect_tombstones()') for @names;
		$left = join(' ', @{ all_nodes('SELECT count(*) FROM crdt_reconcile.tombstones') });
		return $left if $left eq join(' ', ('0') x @names);
		sleep 1;
	}
	return $left;
}

$node{n1}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (90, crdt_increment(NULL::gcounter, 1), 'ninety')});
settle('a row to delete while a node is away');
my $tombstones_before = all_nodes('SELECT count(*) FROM crdt_reconcile.tombstones');
isolate_node(\%node, 'n3', 'DISABLE');
$node{n1}->safe_psql('postgres', q{DELETE FROM items WHERE k = 90});
$node{n3}->safe_psql('postgres', q{UPDATE items SET label = 'late', n = crdt_increment(n, 1, 'n3') WHERE k = 90});
for (1 .. 8)
{
	$node{$_}->safe_psql('postgres', 'SELECT crdt_reconcile.collect_tombstones()') for @names;
	sleep 1;
}
my $n1_waits = $node{n1}->safe_psql('postgres', 'SELECT waiting_for FROM crdt_reconcile.collect_tombstones()');
like($n1_waits, qr/slot .*confirmed/, "while n3 is away, n1 waits for its subscribers ($n1_waits)");
is($node{n1}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.tombstones WHERE row_key = '{"k": 90}'}),
	'1', 'the new tombstone is kept on n1');
is_deeply([ map { $_ + 0 } @{ all_nodes(q{SELECT count(*) FROM crdt_reconcile.tombstones WHERE row_key <> '{"k": 90}'}) } ],
	[ map { $_ + 0 } @$tombstones_before ], 'no older tombstone is removed anywhere while a node is away');

isolate_node(\%node, 'n3', 'ENABLE');
settle('n3 back');
is_deeply(all_nodes(q{SELECT count(*) FROM items WHERE k = 90}), [ ('0') x 3 ],
	'the update n3 made while away lost to the delete everywhere');
is(collect_all(90), join(' ', ('0') x @names), 'every tombstone is collected on every node once all have acknowledged it');
settle('after the collection');
is_deeply(all_nodes('SELECT count(DISTINCT node) FROM crdt_reconcile.mesh_nodes'), [ ('3') x 3 ], 'every node knows the three mesh nodes');
is_deeply(all_nodes(q{SELECT count(*) FROM items WHERE k IN (1, 2, 90)}), [ ('0') x 3 ] ,
	'no deleted row came back') or diag(join(' ', @{ all_nodes(q{SELECT string_agg(k::text, ',') FROM items WHERE k IN (1, 2, 90)}) }));
$node{n2}->safe_psql('postgres', q{INSERT INTO items (k, n, label) VALUES (90, crdt_increment(NULL::gcounter, 2), 'anew')});
settle('a new row under a collected key');
is_deeply(all_nodes(q{SELECT label || ':' || crdt_value(n) FROM items WHERE k = 90}), [ ('anew:2') x 3 ],
	'a key whose tombstone was collected takes a new row everywhere');

# ---------------------------------------------------------------- no failure anywhere
for my $name (@names)
{
	my $log = PostgreSQL::Test::Utils::slurp_file($node{$name}->logfile);
	unlike($log, qr/terminated by signal/, "$name: no backend crashed");
	my @apply_errors = $log =~ /(ERROR: .*\n.*CONTEXT: .*(?:processing remote data|apply).*)/g;
	is(scalar(@apply_errors), 0, "$name: the apply workers never failed") or diag(join("\n", @apply_errors));
}

$node{$_}->stop for @names;
done_testing();
