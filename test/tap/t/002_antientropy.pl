# Anti-entropy between two nodes over dblink (no replication):
#   1. digest() does not depend on the session: equal data gives equal
#      digests under different TimeZone, DateStyle, IntervalStyle,
#      extra_float_digits, bytea_output and lc_monetary, and rows repaired
#      between sessions with different settings arrive exactly;
#   2. repair of tables with a stored generated column and identity columns;
#   3. 200,000 rows with ~1% differing both ways (rows deleted, CRDT values
#      and plain values changed) repaired to equal rows, tombstones and
#      digests, fetching at most 3x the differing rows, timed;
#   4. repair_in_batches killed in the middle keeps the batches it committed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);

# A locale whose money and numbers print differently from C (built here,
# since CI machines have only C locales installed); without it the
# lc_monetary variation is skipped.
my $locales = PostgreSQL::Test::Utils::tempdir;
my $de = '';
if (system("localedef -i de_DE -f UTF-8 $locales/de_DE.UTF-8 >/dev/null 2>&1") == 0)
{
	$ENV{LOCPATH} = $locales;
	$de = 'de_DE.UTF-8';
}
else
{
	note('localedef could not build de_DE.UTF-8: lc_monetary is varied between C locales only');
}

my %node;
for my $name (qw(n1 n2))
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init(extra => ['--no-locale']);
	$n->append_conf('postgresql.conf', qq{
crdt.replica_id = '$name'
shared_buffers = 128MB
max_wal_size = 1GB
});
	$n->start;
	$n->safe_psql('postgres', q{CREATE EXTENSION crdt_reconcile; CREATE EXTENSION dblink;});
	$node{$name} = $n;
}
my %conn = map { $_ => $node{$_}->connstr . ' dbname=postgres' } keys %node;

sub sql { my ($name, $sql) = @_; return $node{$name}->safe_psql('postgres', $sql); }

sub both { my ($sql) = @_; sql($_, $sql) for qw(n1 n2); }

# md5 of a table's digests at the given depth, under the given settings
sub digest_of
{
	my ($name, $table, $settings, $bits) = @_;
	$bits //= 8;
	return sql($name, ($settings // '') . qq{
SELECT md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket)) FROM crdt_reconcile.digest('$table', $bits)});
}

# repair on $to from $from; returns a hash of the output columns
sub repair
{
	my ($to, $from, $table, $settings, $batch_rows) = @_;
	$batch_rows //= 10000;
	my $out = sql($to, ($settings // '') . qq{
SELECT row_to_json(r) FROM crdt_reconcile.repair('$table', '$conn{$from}', $batch_rows) r});
	my %r = $out =~ /"(\w+)":(-?\d+)/g;
	return \%r;
}

my $lc_mon = $de ne '' ? "SET lc_monetary = '$de'; SET lc_numeric = '$de';" : "SET lc_monetary = 'POSIX';";
my %settings = (
	n1_odd => qq{SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -3; SET bytea_output = 'escape'; $lc_mon},
	n2_odd => q{SET TimeZone = 'America/St_Johns'; SET DateStyle = 'German'; SET IntervalStyle = 'iso_8601';
SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C';},
	n1_other => q{SET TimeZone = 'Pacific/Chatham'; SET DateStyle = 'Postgres, MDY'; SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = 0; SET bytea_output = 'escape';},
);

# ---------------------------------------------------------------- 1. settings
# (the same rows written on both nodes before the table is tracked, so
# that no node's clock or writer tag is in them)
both(q{
CREATE TABLE typed (k int PRIMARY KEY, ts timestamptz, iv interval, f float8, m money, b bytea, nm numeric,
                    d date, tsr tstzrange, arr float8[], n gcounter, clk vclock, writer lwwreg);
SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET lc_monetary = 'C';
INSERT INTO typed
SELECT i, '2026-01-01 10:00:00.123456+02'::timestamptz + i * interval '1 hour 7 min 0.000001 s',
       make_interval(years => -i % 3, months => i, days => -i, secs => i * 1.5),
       CASE i % 10 WHEN 0 THEN 'NaN' WHEN 1 THEN '-Infinity' WHEN 2 THEN 1e-300 ELSE i / 7.0::float8 END,
       (i * 1234.56 * (CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END))::numeric::money,
       ('\x00' || md5(i::text))::bytea, CASE WHEN i % 9 = 0 THEN 'NaN' ELSE i / 3.0 END,
       '2026-01-01'::date + i, tstzrange('2026-01-01 00:00+00'::timestamptz + i * interval '1 day', NULL),
       ARRAY[i / 3.0::float8, 0.1, NULL], ('{"a":' || i || '}')::gcounter
FROM generate_series(1, 60) i;
INSERT INTO typed (k) VALUES (0);
SELECT count(*) FROM crdt_reconcile.track('typed', clock_column => 'clk', writer_column => 'writer');
});
my $reference = digest_of('n1', 'typed');
is(digest_of('n1', 'typed', $settings{n1_odd}), $reference,
	"digest unchanged by TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output, lc_monetary" . ($de ? " ($de)" : ''));
is(digest_of('n2', 'typed', $settings{n2_odd}), $reference, 'the other node, with other settings, prints the same digests');
is(digest_of('n2', 'typed', $settings{n2_odd}, 0), digest_of('n1', 'typed', $settings{n1_other}, 0),
	'and the same whole-table digest (depth 0)');
my $shown = sql('n1', $settings{n1_odd} . q{SELECT m::text || ' ' || ts::text || ' ' || iv::text FROM typed WHERE k = 2});
note("the same row printed under n1_odd: $shown");

# the peer's own sessions print values their way: pin nothing there but
# what the functions pin
my $db_settings = join(' ', map { "ALTER DATABASE postgres SET $_;" }
	("TimeZone = 'America/St_Johns'", "DateStyle = 'German'", "IntervalStyle = 'iso_8601'",
	 "extra_float_digits = -10", "bytea_output = 'escape'", $de ? "lc_monetary = '$de'" : "lc_monetary = 'C'"));
sql('n2', $db_settings);
sql('n2', q{
UPDATE typed SET ts = ts + interval '1 microsecond', iv = iv - interval '1 mon 0.000001 s', f = f * (1 + 1e-15),
                 m = m + 0.01::numeric::money, b = b || '\x00ff'::bytea, nm = nm * 1.000000001,
                 tsr = tstzrange(lower(tsr), '2030-01-01 00:00:00.5+00'), arr = arr || 1e-300::float8,
                 n = crdt_increment(n, 1)
WHERE k BETWEEN 1 AND 10;
INSERT INTO typed
SELECT i, '1999-12-31 23:59:59.999999+00', '-1 year 2 days -3:00:00.5', '-0', (-12345.67)::numeric::money, '\x',
       '1e-20', 'infinity', 'empty', '{Infinity,-0}', '{}'
FROM generate_series(61, 65) i;
});
isnt(digest_of('n2', 'typed'), $reference, 'n2 changed 10 rows and added 5');
my $r = repair('n1', 'n2', 'typed', $settings{n1_other});
is($r->{rows_changed}, 15, "repair from a peer whose sessions print differently changed the 15 rows ($r->{rows_fetched} fetched)");
is(digest_of('n1', 'typed', $settings{n1_odd}), digest_of('n2', 'typed'), 'and the rows arrived exactly: digests equal');
my $fixed = q{SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1;
SET bytea_output = 'hex'; SET lc_monetary = 'C'; SELECT md5(string_agg(t::text, ',' ORDER BY k)) FROM typed t};
is(sql('n1', $fixed), sql('n2', $fixed), 'row by row, printed under the same settings, the tables are equal');
sql('n2', 'ALTER DATABASE postgres RESET ALL');

# ---------------------------------------------------------------- 2. generated and identity columns
both(q{
CREATE TABLE gen (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n gcounter, label text,
                  label_len int GENERATED ALWAYS AS (length(label)) STORED,
                  serial_no bigint GENERATED BY DEFAULT AS IDENTITY, clk vclock, writer lwwreg);
SELECT count(*) FROM crdt_reconcile.track('gen', clock_column => 'clk', writer_column => 'writer');
CREATE TABLE gen_always (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n gcounter, label text,
                         label_len int GENERATED ALWAYS AS (length(label)) STORED, clk vclock, writer lwwreg);
SELECT count(*) FROM crdt_reconcile.track('gen_always', clock_column => 'clk', writer_column => 'writer');
});
for my $t (qw(gen gen_always))
{
	sql('n2', qq{INSERT INTO $t (n, label) SELECT crdt_increment(NULL::gcounter, i), repeat('x', i) FROM generate_series(1, 20) i});
	sql('n1', qq{INSERT INTO $t (n, label) SELECT crdt_increment(NULL::gcounter, i), repeat('y', i) FROM generate_series(1, 5) i});
}
# the function form runs inside the caller's transaction
sql('n1', qq{BEGIN; SELECT crdt_reconcile.repair('gen', '$conn{n2}'); ROLLBACK;});
is(sql('n1', 'SELECT count(*) FROM gen'), '5', 'repair() inside a transaction that rolls back leaves nothing');
# gen: identity BY DEFAULT; gen_always: GENERATED ALWAYS, so new rows go in
# with OVERRIDING SYSTEM VALUE
for my $case (['gen', 'serial_no'], ['gen_always', 'id'])
{
	my ($table, $identity) = @$case;
	$r = repair('n1', 'n2', $table);
	is("$r->{rows_fetched} $r->{rows_changed}", '20 20', "$table: 20 rows fetched and merged");
	$r = repair('n2', 'n1', $table);
	is("$r->{rows_fetched} $r->{rows_changed}", '5 5', "$table: and the 5 merged rows back");
	is(digest_of('n1', $table), digest_of('n2', $table), "$table: digests equal");
	is(sql('n1', qq{SELECT count(*) FILTER (WHERE label_len = length(label)) || '/' || count(*) || ' '
	               || max($identity) || ' ' || sum(crdt_value(n)) FROM $table}), '20/20 20 225',
		"$table: generated column recomputed, the peer's identity values kept, counters merged");
}

# ---------------------------------------------------------------- 3. 200,000 rows, 1% differing
both(q{
CREATE TABLE big (k int PRIMARY KEY, n gcounter, tags orset, label text, v float8, clk vclock, writer lwwreg);
INSERT INTO big
SELECT k, ('{"a":' || k || ',"b":' || (k % 7 + 1) || '}')::gcounter,
       ('{"elements":{"t' || (k % 13) || '":[["a",1]]},"context":{"a":1}}')::orset, 'label ' || k, k / 3.0
FROM generate_series(1, 200000) k;
SELECT count(*) FROM crdt_reconcile.track('big', clock_column => 'clk', writer_column => 'writer');
VACUUM ANALYZE big;
});
is(digest_of('n1', 'big', '', 12), digest_of('n2', 'big', '', 12), 'big: equal to start with');
# 1,000 keys changed on each node (250 of each kind): rows deleted (they
# leave tombstones), CRDT values changed, a plain value changed, plain and
# CRDT values changed
for my $pair ([ 'n1', 0 ], [ 'n2', 1 ])
{
	my ($name, $o) = @$pair;
	sql($name, qq{
DELETE FROM big WHERE k % 800 = $o;
UPDATE big SET n = crdt_increment(n, 1), tags = crdt_add(tags, '$name') WHERE k % 800 = 2 + $o;
UPDATE big SET label = label || ' changed on $name' WHERE k % 800 = 4 + $o;
UPDATE big SET v = -v, n = crdt_increment(n, 2) WHERE k % 800 = 6 + $o;
});
}
my $differing = sql('n1', qq{
SELECT count(*) FROM (SELECT k, md5(t::text) AS h FROM big t) a
FULL JOIN dblink('$conn{n2}', 'SELECT k, md5(t::text) FROM big t') AS b(k int, h text) USING (k)
WHERE a.h IS DISTINCT FROM b.h});
note("rows that differ between n1 and n2: $differing of 200,000");
ok($differing >= 1900 && $differing <= 2100, "about 1% of the rows differ ($differing)");

my $t0 = time();
my $r12 = repair('n1', 'n2', 'big');
my $t1 = time();
my $r21 = repair('n2', 'n1', 'big');
my $t2 = time();
my $fetched = $r12->{rows_fetched} + $r12->{tombstones_fetched} + $r21->{rows_fetched} + $r21->{tombstones_fetched};
note(sprintf('repair n1 <- n2: %.2f s, %d levels, %d nodes compared, %d differing, %d rows fetched, %d changed, %d tombstones',
	$t1 - $t0, @$r12{qw(levels nodes_compared nodes_differing rows_fetched rows_changed tombstones_fetched)}));
note(sprintf('repair n2 <- n1: %.2f s, %d levels, %d nodes compared, %d differing, %d rows fetched, %d changed, %d tombstones',
	$t2 - $t1, @$r21{qw(levels nodes_compared nodes_differing rows_fetched rows_changed tombstones_fetched)}));
is(digest_of('n1', 'big', '', 12), digest_of('n2', 'big', '', 12), 'big: repaired both ways, digests equal');
is(digest_of('n1', 'big', '', 0), digest_of('n2', 'big', '', 0), 'big: whole-table digests equal');
is(sql('n1', qq{
SELECT count(*) FROM (SELECT k, md5(t::text) AS h FROM big t) a
FULL JOIN dblink('$conn{n2}', 'SELECT k, md5(t::text) FROM big t') AS b(k int, h text) USING (k)
WHERE a.h IS DISTINCT FROM b.h}), '0', 'big: every row equal');
my $tombstones = q{SELECT count(*) || ' ' || md5(string_agg(row_key::text || clock::text, ',' ORDER BY row_key::text))
FROM crdt_reconcile.tombstones WHERE relation_name = 'public.big'};
is(sql('n1', $tombstones), sql('n2', $tombstones), 'big: the same tombstones on both nodes');
like(sql('n1', $tombstones), qr/^500 /, 'big: the 500 rows deleted on either node are deleted on both');
is(sql('n1', 'SELECT count(*) FROM big'), '199500', 'big: 199,500 rows left on each node');
ok($fetched <= 3 * $differing,
	"rows and tombstones fetched in both directions ($fetched) <= 3 x $differing differing rows");
ok($t2 - $t0 < 60, sprintf('both repairs of 200,000 rows took %.1f s (< 60 s)', $t2 - $t0));
diag(sprintf('200,000 rows, %d differing: repaired both ways in %.1f s, %d rows and tombstones fetched', $differing, $t2 - $t0, $fetched));
$r = repair('n1', 'n2', 'big');
is("$r->{nodes_differing} $r->{rows_fetched}", '0 0', 'a second repair finds nothing to do');
my $audit = sql('n1', q{SELECT count(*) FROM crdt_reconcile.conflicts WHERE relation = 'big'::regclass});
note("conflict records of big on n1 after repair: $audit");

# ---------------------------------------------------------------- 4. interrupted between batches
sql('n2', q{UPDATE big SET n = crdt_increment(n, 1, 'late') WHERE k % 333 = 0});
my $late = sql('n2', q{SELECT count(*) FROM big WHERE crdt_get(n, 'late') > 0});    # 600 keys, less the deleted ones
sql('n1', q{
CREATE SEQUENCE public.batches_seen;
CREATE FUNCTION public.stall_third_batch() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF pg_catalog.nextval('public.batches_seen') = 3 THEN
		PERFORM pg_catalog.pg_sleep(300);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER stall_third_batch AFTER UPDATE ON big FOR EACH STATEMENT EXECUTE FUNCTION public.stall_third_batch();
ALTER TABLE big ENABLE ALWAYS TRIGGER stall_third_batch;
});
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node{n1}->connstr('postgres'),
	  '-c', "CALL crdt_reconcile.repair_in_batches('big', '$conn{n2}', 100)" ],
	'<', \undef, '>', \$out, '2>', \$err);
ok($node{n1}->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%repair_in_batches%'}),
	'repair_in_batches is in its third batch');
is(sql('n1', q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE wait_event = 'PgSleep' AND query LIKE '%repair_in_batches%'}), '1', 'and is killed there');
$h->finish;
like($err, qr/terminat/i, 'the CALL ended with its session');
is(sql('n1', q{SELECT count(*) FROM big WHERE crdt_get(n, 'late') > 0}), '200',
	'the two batches committed before the kill (2 x 100 rows) are kept');
sql('n1', q{DROP TRIGGER stall_third_batch ON big});
my $call = sql('n1', qq{CALL crdt_reconcile.repair_in_batches('big', '$conn{n2}', 100)});
my @c = split /\|/, $call;    # rows_here rows_peer levels nodes_compared nodes_differing rows_fetched rows_changed tombstones_fetched batches
my $rest = $late - 200;
is("$c[5] $c[6] $c[8]", "$rest $rest " . int(($rest + 99) / 100),
	"a new repair_in_batches fetches and merges the other $rest rows in batches of 100");
is(digest_of('n1', 'big', '', 12), digest_of('n2', 'big', '', 12), 'big: digests equal again');

# ---------------------------------------------------------------- rights
sql('n1', 'CREATE ROLE not_admin');
my ($ok) = $node{n1}->psql('postgres', qq{SET ROLE not_admin; SELECT crdt_reconcile.repair('big', '$conn{n2}')});
isnt($ok, 0, 'repair is refused to roles outside crdt_reconcile_admin');

$node{$_}->stop for qw(n1 n2);
done_testing();
