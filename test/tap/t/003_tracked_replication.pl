# Tracked tables over real logical replication, for the cases of the
# trust-boundary issue that only an apply worker shows:
#   - an applied UPDATE that changes the primary key moves the row (and
#     merges into the row that already holds the new key);
#   - a partitioned tracked table: conflicts are recorded under the
#     partitioned table, visible to its grantees, resolvable there;
#   - a person resolves once per fleet: the arbitrated value arriving from
#     another node closes the open record there too;
#   - casts a table owner wrote run, in the apply worker, as that owner.
# Two nodes in a full mesh; the tables belong to an unprivileged role.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use CrdtTest;

my @names = qw(n1 n2);
my %node = crdt_mesh('pub', q{
CREATE ROLE app;
CREATE ROLE clerk;
CREATE SCHEMA app AUTHORIZATION app;
SET ROLE app;
CREATE TABLE app.code_log (who name);
CREATE TYPE app.mood AS ENUM ('calm', 'cross');
CREATE FUNCTION app.mood_json(m app.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO app.code_log VALUES (current_user);
	RETURN pg_catalog.to_json(m::text);
END $$;
CREATE CAST (app.mood AS json) WITH FUNCTION app.mood_json(app.mood);
CREATE TABLE app.moved (k int PRIMARY KEY, n gcounter, label text, clk vclock, writer lwwreg);
CREATE TABLE app.parts (k int, region text, price numeric, plan mvreg, clk vclock, writer lwwreg,
                        PRIMARY KEY (k, region)) PARTITION BY LIST (region);
CREATE TABLE app.parts_eu PARTITION OF app.parts FOR VALUES IN ('eu');
CREATE TABLE app.parts_us PARTITION OF app.parts FOR VALUES IN ('us');
CREATE TABLE app.moods (k int PRIMARY KEY, tag app.mood, g gcounter, clk vclock, writer lwwreg);
SELECT crdt_reconcile.track('app.moved', clock_column => 'clk', writer_column => 'writer', record_stale => false);
SELECT crdt_reconcile.track('app.parts', clock_column => 'clk', writer_column => 'writer', record_stale => false);
SELECT crdt_reconcile.track('app.moods', clock_column => 'clk', writer_column => 'writer', log_merges => true);
GRANT USAGE ON SCHEMA app TO clerk;
GRANT SELECT, UPDATE ON app.parts TO clerk;
RESET ROLE;
CREATE PUBLICATION pub FOR TABLE app.moved, app.parts, app.moods, crdt_reconcile.tombstones
	WITH (publish_via_partition_root = true, publish = 'insert, update, delete');
}, \@names);

my $state_sql = q{
SELECT coalesce((SELECT string_agg(k || ':' || crdt_hash(n) || ':' || coalesce(label, '-'), ',' ORDER BY k) FROM app.moved), '')
    || ' / ' || coalesce((SELECT string_agg(k || region || ':' || coalesce(price::text, '-') || ':' || crdt_hash(plan), ','
                                            ORDER BY k, region) FROM app.parts), '')
    || ' / ' || coalesce((SELECT string_agg(k || ':' || crdt_hash(g), ',' ORDER BY k) FROM app.moods), '')};
sub state_of { return $node{ $_[0] }->safe_psql('postgres', $state_sql) }

# Waits until both nodes show the same state and it stands still.
sub converge
{
	my ($what) = @_;
	my $deadline = time() + 120;
	while (time() < $deadline)
	{
		my @s = map { state_of($_) } @names;
		if ($s[0] eq $s[1])
		{
			sleep 1;
			my @again = map { state_of($_) } @names;
			if ($again[0] eq $s[0] && $again[1] eq $s[0])
			{
				pass("$what: converged");
				return;
			}
		}
		sleep 1;
	}
	fail("$what: converged");
	diag("$_: " . state_of($_)) for @names;
}

# ---------------------------------------------------------------- the key moves
$node{n1}->safe_psql('postgres', q{INSERT INTO app.moved (k, n, label) VALUES (1, crdt_increment(NULL::gcounter, 1), 'one')});
converge('insert');
$node{n1}->safe_psql('postgres', q{UPDATE app.moved SET k = 2 WHERE k = 1});
converge('key change');
is($node{n2}->safe_psql('postgres', q{SELECT string_agg(k || ' ' || label, ',') FROM app.moved}), '2 one',
	'an applied UPDATE of the key moved the row on the subscriber');

isolate_node(\%node, 'n1', 'DISABLE');
$node{n2}->safe_psql('postgres', q{INSERT INTO app.moved (k, n, label) VALUES (3, crdt_increment(NULL::gcounter, 5), 'three')});
$node{n1}->safe_psql('postgres', q{INSERT INTO app.moved (k, n, label) VALUES (4, crdt_increment(NULL::gcounter, 1), 'four')});
$node{n1}->safe_psql('postgres', q{UPDATE app.moved SET k = 3 WHERE k = 4});
isolate_node(\%node, 'n1', 'ENABLE');
converge('key moved onto a key the other node had taken');
is_deeply([ map { $node{$_}->safe_psql('postgres', q{SELECT string_agg(k || ' ' || crdt_value(n), ',' ORDER BY k) FROM app.moved}) } @names ],
	[ ('2 1,3 6') x 2 ], 'both nodes merged the moved row into the taken key, and the old key is gone');

# ---------------------------------------------------------------- partitions, once per fleet
$node{n1}->safe_psql('postgres', q{INSERT INTO app.parts (k, region, price) VALUES (1, 'eu', 5)});
converge('partitioned insert');
isolate_node(\%node, 'n1', 'DISABLE');
$node{n1}->safe_psql('postgres', q{UPDATE app.parts SET price = 6, plan = crdt_set(plan, '"A"') WHERE k = 1});
$node{n2}->safe_psql('postgres', q{UPDATE app.parts SET price = 7, plan = crdt_set(plan, '"B"') WHERE k = 1});
isolate_node(\%node, 'n1', 'ENABLE');
converge('concurrent writes to a partitioned table');
my $records = q{SELECT string_agg(relation::text || ' ' || coalesce(column_name, '-') || ' ' || kind || ' ' || status, ', '
                                  ORDER BY column_name, kind) FROM crdt_reconcile.conflicts WHERE relation::text LIKE 'app.parts%'};
for my $name (@names)
{
	is($node{$name}->safe_psql('postgres', $records),
		'app.parts plan multi_value open, app.parts price concurrent_update auto_resolved',
		"$name recorded the conflicts under the partitioned table");
	is($node{$name}->safe_psql('postgres', "SET ROLE clerk; SELECT count(*) FROM crdt_reconcile.conflicts"), '2',
		"$name: a grantee of the partitioned table sees them");
}
my $plan_conflict = $node{n1}->safe_psql('postgres',
	q{SELECT id FROM crdt_reconcile.conflicts WHERE relation = 'app.parts'::regclass AND kind = 'multi_value'});
is($node{n1}->safe_psql('postgres', "SET ROLE clerk; SELECT status FROM crdt_reconcile.resolve($plan_conflict, '\"C\"')"),
	'resolved', 'the grantee resolved it on n1');
converge('the arbitrated value replicated');
is_deeply([ map { $node{$_}->safe_psql('postgres', q{SELECT crdt_value(plan)::text FROM app.parts WHERE k = 1}) } @names ],
	[ ('{"\"C\""}') x 2 ], 'both nodes hold the arbitrated plan');
my $closed = $node{n2}->safe_psql('postgres', q{
SELECT status || ' ' || resolution || ' ' || (resolved_by LIKE 'pg_%') FROM crdt_reconcile.conflicts
WHERE relation = 'app.parts'::regclass AND kind = 'multi_value'});
is($closed, 'resolved arbitrated true', 'n2 closed its own record when the arbitrated value arrived (resolved_by: the origin)');
is($node{n2}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.conflicts WHERE status = 'open'}), '0',
	'a person resolved once for the whole fleet');

$node{n1}->safe_psql('postgres', q{UPDATE app.parts SET region = 'us' WHERE k = 1});
converge('a row moved to another partition');
is($node{n2}->safe_psql('postgres', q{SELECT tableoid::regclass || ' ' || region FROM app.parts WHERE k = 1}),
	'app.parts_us us', 'the subscriber moved it to the other partition');

# ---------------------------------------------------------------- casts in the apply worker
$node{n2}->safe_psql('postgres', q{INSERT INTO app.moods VALUES (1, 'calm', crdt_increment(NULL::gcounter, 1))});
converge('moods');
$node{n1}->safe_psql('postgres', q{UPDATE app.moods SET g = crdt_increment(g, 2)});
converge('a merge logged by the apply worker');
is($node{n2}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.conflicts WHERE relation = 'app.moods'::regclass
                                      AND kind = 'merge_logged'}) > 0 ? 'yes' : 'no', 'yes',
	'the apply worker recorded the merge (converting the row with the owner\'s cast)');
is($node{n2}->safe_psql('postgres', q{SELECT string_agg(DISTINCT who::text, ',') FROM app.code_log}), 'app',
	'in the apply worker the cast ran as the table\'s owner, never as the subscription\'s superuser');

# ---------------------------------------------------------------- settled
for my $name (@names)
{
	my $log = PostgreSQL::Test::Utils::slurp_file($node{$name}->logfile);
	unlike($log, qr/terminated by signal|server process .* was terminated/, "$name: no backend crashed");
	unlike($log, qr/logical replication .* (worker|apply) .* exited|ERROR: .*apply/i, "$name: the apply workers never failed");
}

$node{$_}->stop for @names;
done_testing();
