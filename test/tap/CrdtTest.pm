# CrdtTest — what the multi-node TAP tests share.
package CrdtTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(crdt_node crdt_node_with crdt_mesh subscribe_mesh isolate_node converge_nodes retired_in_dots compact_everywhere);

# A started node ready for logical replication, crdt.replica_id set to its
# name, the extension created; extra lines go to postgresql.conf.
sub crdt_node
{
	my ($name, @conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	$node->append_conf('postgresql.conf', join("\n",
		"crdt.replica_id = '$name'",
		'max_logical_replication_workers = 10',
		'max_worker_processes = 16',
		'max_replication_slots = 10',
		'max_wal_senders = 10',
		'wal_receiver_status_interval = 1s',
		@conf) . "\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION crdt_reconcile');
	return $node;
}

# crdt_node, then the SQL of setup_sql run on it.
sub crdt_node_with
{
	my ($name, $setup_sql, @conf) = @_;
	my $node = crdt_node($name, @conf);
	$node->safe_psql('postgres', $setup_sql);
	return $node;
}

# A node per name (crdt_node_with), subscribed to each other's publication
# (subscribe_mesh); returns them by name.
sub crdt_mesh
{
	my ($publication, $setup_sql, $names, @conf) = @_;
	my %nodes = map { $_ => crdt_node_with($_, $setup_sql, @conf) } @$names;
	subscribe_mesh(\%nodes, $publication);
	return %nodes;
}

# Every node of %$nodes subscribes to publication on every other one
# (copy_data off), and waits until the subscriptions are synchronized.
sub subscribe_mesh
{
	my ($nodes, $publication) = @_;
	my @names = sort keys %$nodes;
	for my $to (@names)
	{
		for my $from (grep { $_ ne $to } @names)
		{
			my $conn = $nodes->{$from}->connstr . ' dbname=postgres';
			$nodes->{$to}->safe_psql('postgres', "CREATE SUBSCRIPTION sub_${to}_from_$from "
				. "CONNECTION '$conn' PUBLICATION $publication WITH (copy_data = false)");
		}
	}
	$nodes->{$_}->wait_for_subscription_sync for @names;
}

# Cuts (state 'DISABLE') or heals ('ENABLE') every subscription between
# node name and the other nodes of %$nodes, both ways (the names of
# subscribe_mesh).
sub isolate_node
{
	my ($nodes, $name, $state) = @_;
	for my $other (grep { $_ ne $name } sort keys %$nodes)
	{
		$nodes->{$name}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${name}_from_$other $state");
		$nodes->{$other}->safe_psql('postgres', "ALTER SUBSCRIPTION sub_${other}_from_$name $state");
	}
}

# Passes once state->(name) is the same for every node of %$nodes twice
# in a row, one second apart; fails after 180 s with every node's state.
sub converge_nodes
{
	my ($nodes, $state, $what) = @_;
	my @names = sort keys %$nodes;
	my $deadline = time() + 180;
	while (time() < $deadline)
	{
		my %distinct = map { $state->($_) => 1 } @names;
		if (keys(%distinct) == 1)
		{
			sleep 1;
			my %again = map { $state->($_) => 1 } @names;
			if (keys(%again) == 1 && (keys %again)[0] eq (keys %distinct)[0])
			{
				Test::More::pass("$what: converged");
				return;
			}
		}
		sleep 1;
	}
	Test::More::fail("$what: converged");
	Test::More::diag("$_: " . $state->($_)) for @names;
}

# How many times the orset and mvreg columns of table on node name a
# registered retired replica, in their contexts or as markers: 0 once
# compaction renamed them all (docs/RETIREMENT.md, "Compacting the dots").
sub retired_in_dots
{
	my ($node, $table, @columns) = @_;
	my $named = join("\n", map {
		'UNION ALL SELECT k FROM crdt_reconcile.context_replicas(' . $_ . '::text) k' } @columns);
	my $markers = join(' || ', map { "crdt_retired_ids($_)" } @columns);
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM $table, LATERAL (SELECT unnest($markers)
$named) x(replica)
WHERE x.replica IN (SELECT replica FROM crdt_reconcile.retired_replicas)});
}

# compact_replicas() on every node of %$nodes, once a second, until none
# of them waits for anything and every retired replica the first node
# registers is in a compaction group, at most max_rounds times; returns
# what they still waited for ('' once done) and the rounds run.
sub compact_everywhere
{
	my ($nodes, $max_rounds) = @_;
	my @names = sort keys %$nodes;
	my ($waiting, $rounds) = ('not run', 0);
	while ($waiting ne '' && $rounds++ < $max_rounds)
	{
		$waiting = join('', map { $nodes->{$_}->safe_psql('postgres',
			q{SELECT coalesce(string_agg(waiting_for, '; '), '') FROM crdt_reconcile.compact_replicas() WHERE step = 'waiting'})
		} @names);
		$waiting .= 'unassigned' if $nodes->{$names[0]}->safe_psql('postgres',
			'SELECT count(*) FROM crdt_reconcile.retired_replicas WHERE compacted_into IS NULL') ne '0';
		sleep 1 if $waiting ne '';
	}
	return ($waiting, $rounds);
}

1;
