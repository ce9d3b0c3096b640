# A bcounter budget on three nodes over real logical replication: each
# node spends concurrently within its own rights, one node is cut off for
# a while and keeps spending what it holds, rights move by request and
# grant (the requests replicate through the publication that
# crdt_reconcile.create_publication makes).  At every sampled moment no
# node shows a value below zero or a replica with negative rights; at the
# end every node shows the same value, exactly grants minus spending.
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
my %spent = map { $_ => 0 } @names;
my $funded = 0;

for my $name (@names)
{
	my $n = crdt_node($name);
	$n->safe_psql('postgres', q{
CREATE TABLE budget (id int PRIMARY KEY, b bcounter, clk vclock);
SELECT crdt_reconcile.track('budget', clock_column => 'clk');
SELECT crdt_reconcile.create_publication('pub');
});
	$node{$name} = $n;
}
like($node{n1}->safe_psql('postgres', q{SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'pub'}),
	qr/rights_requests/, 'create_publication publishes the rights requests');
subscribe_mesh(\%node, 'pub');

sub value_on
{
	my ($name) = @_;
	return $node{$name}->safe_psql('postgres', q{SELECT coalesce(crdt_value(b), 0) || ' ' || coalesce(crdt_hash(b), 0) FROM budget WHERE id = 1});
}

# Waits until every node of @who shows the same state and it stands still.
sub converge
{
	my ($what, @who) = @_;
	my $deadline = time() + 120;
	while (time() < $deadline)
	{
		my @s = map { value_on($_) } @who;
		if (scalar(keys %{ { map { $_ => 1 } @s } }) == 1 && $s[0] ne '')
		{
			sleep 1;
			my @again = map { value_on($_) } @who;
			return pass("converged: $what") if "@again" eq "@s";
		}
		select(undef, undef, undef, 0.2);
	}
	fail("converged: $what");
}

sub converge_row2
{
	my ($what) = @_;
	my $deadline = time() + 120;
	while (time() < $deadline)
	{
		my @s = map { $node{$_}->safe_psql('postgres', q{SELECT coalesce(crdt_hash(b), 0) FROM budget WHERE id = 2}) } @names;
		return pass("converged: $what") if scalar(keys %{ { map { $_ => 1 } @s } }) == 1 && $s[0] ne '';
		select(undef, undef, undef, 0.2);
	}
	fail("converged: $what");
}

# Every node, now: no negative value, no replica with negative rights.
my ($samples, $bad_samples) = (0, 0);
sub sample
{
	for my $name (@names)
	{
		my $r = $node{$name}->safe_psql('postgres', q{
SELECT coalesce(bool_and(crdt_value(b) >= 0 AND NOT EXISTS (SELECT FROM crdt_entries(b) e WHERE e.rights < 0)), true)
FROM budget});
		$samples++;
		$bad_samples++ if $r ne 't';
	}
}

# Tries to spend count times on a node (amounts 1..7): what was spent.
sub spend
{
	my ($name, $count, $seed) = @_;
	my $got = $node{$name}->safe_psql('postgres', qq{
CREATE TEMP TABLE IF NOT EXISTS got (n bigint);
DO \$\$
DECLARE
	total bigint := 0;
	amount bigint;
BEGIN
	FOR i IN 1..$count LOOP
		amount := 1 + (i * 7 + $seed) % 7;
		BEGIN
			UPDATE budget SET b = crdt_decrement(b, amount) WHERE id = 1;
			total := total + amount;
		EXCEPTION WHEN check_violation THEN
			NULL;
		END;
	END LOOP;
	INSERT INTO got VALUES (total);
END \$\$;
SELECT n FROM got; DROP TABLE got;});
	$spent{$name} += $got;
	return $got;
}

# ---------------------------------------------------------------- funding
$node{n1}->safe_psql('postgres', q{INSERT INTO budget (id, b) VALUES (1, crdt_increment(NULL::bcounter, 300))});
$funded += 300;
converge('funded', @names);
$node{n1}->safe_psql('postgres', q{UPDATE budget SET b = crdt_transfer(crdt_transfer(b, 100, 'n2'), 100, 'n3') WHERE id = 1});
converge('rights handed out', @names);
is($node{n3}->safe_psql('postgres', q{SELECT crdt_rights(b) FROM budget}), '100', 'n3 holds 100 rights');

# ---------------------------------------------------------------- concurrent spending
for my $round (1 .. 4)
{
	spend($_, 10, $round) for @names;
	sample();
}
converge('concurrent spending', @names);

# ---------------------------------------------------------------- partition
isolate_node(\%node, 'n3', 'DISABLE');
# everybody spends until nothing is left where they are; n3 asks n1 for more
for my $round (1 .. 6)
{
	spend($_, 15, 10 + $round) for @names;
	sample();
}
is($node{n3}->safe_psql('postgres', q{SELECT crdt_rights(b) FROM budget}), '0', 'cut off, n3 spent all its rights and no more');
$node{n1}->safe_psql('postgres', q{UPDATE budget SET b = crdt_increment(b, 90) WHERE id = 1});
$funded += 90;
ok($node{n3}->safe_psql('postgres', q{SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 40, 'n1') IS NOT NULL}),
	'n3 asks n1 for 40 while cut off');
$node{n3}->safe_psql('postgres', q{SELECT crdt_reconcile.request_rights('budget', '{"id":1}', 'b', 20, 'n1')});
sample();

# ---------------------------------------------------------------- heal, grant
isolate_node(\%node, 'n3', 'ENABLE');
converge('partition healed', @names);
my $deadline = time() + 60;
while (time() < $deadline && $node{n1}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.rights_requests}) ne '2')
{
	select(undef, undef, undef, 0.2);
}
# two sessions on n1 grant at once, and n2 too (it is not the granter)
my @granted = map { $node{$_}->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE granted) FROM crdt_reconcile.grant_requests()}) } qw(n1 n1 n2);
is_deeply(\@granted, [ '2', '0', '0' ], 'the two requests are granted once, by n1 only');
converge('grants replicated', @names);
is($node{n3}->safe_psql('postgres', q{SELECT crdt_rights(b) FROM budget}), '60', 'n3 received 60 rights');
is_deeply([ map { $node{$_}->safe_psql('postgres', q{SELECT count(*) FROM crdt_reconcile.rights_requests WHERE granted_at IS NOT NULL}) } @names ],
	[ ('2') x 3 ], 'every node sees both requests granted');
for my $round (1 .. 3)
{
	spend($_, 10, 30 + $round) for @names;
	sample();
}
converge('the end', @names);

# ---------------------------------------------------------------- the end
my $total_spent = 0;
$total_spent += $spent{$_} for @names;
ok($total_spent > 0, "spent $total_spent in all");
is_deeply([ map { $node{$_}->safe_psql('postgres', q{SELECT crdt_value(b) FROM budget}) } @names ],
	[ ($funded - $total_spent) x 3 ], 'every node: the same value, grants minus spending, exactly');
cmp_ok($funded - $total_spent, '>=', 0, 'never overspent');
is($bad_samples, 0, "no negative value or rights in $samples samples");

# ---------------------------------------------------------------- one replica id on two nodes
# A misuse: n1 and n3, cut off from each other, both spend as replica
# 'dup'.  The merged state overdraws 'dup'; it still replicates (an applied
# merge is never refused), every node converges, and the value shows 0.
$node{n1}->safe_psql('postgres', q{INSERT INTO budget (id, b) VALUES (2, crdt_transfer(crdt_increment(NULL::bcounter, 10), 10, 'dup'))});
converge_row2('funded dup');
isolate_node(\%node, 'n3', 'DISABLE');
$node{n1}->safe_psql('postgres', q{UPDATE budget SET b = crdt_decrement(b, 10, 'dup') WHERE id = 2});
$node{n3}->safe_psql('postgres', q{UPDATE budget SET b = crdt_transfer(b, 10, 'n3', 'dup') WHERE id = 2});
isolate_node(\%node, 'n3', 'ENABLE');
converge_row2('misused replica id merged');
is_deeply([ map { $node{$_}->safe_psql('postgres', q{SELECT crdt_value(b) || ' ' || crdt_rights(b, 'dup') || ' '
	|| (SELECT rights FROM crdt_entries(b) WHERE replica = 'dup') FROM budget WHERE id = 2}) } @names ],
	[ ('0 0 -10') x 3 ], 'every node took the overdrawn merge in: value 0, dup spends nothing more, the overdraft shows');
is($node{n2}->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_subscription WHERE pid IS NULL}), '0',
	'no subscription stopped');

done_testing();
