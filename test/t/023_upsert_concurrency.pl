# ON CONFLICT with a learned unique index as the arbiter, under load
# (PostgreSQL 18 and later: older servers refuse a non-btree arbiter, which
# sql/09_unique checks).  8 pgbench clients upsert keys from a small domain
# (INSERT ... ON CONFLICT (k) DO UPDATE SET v = v + 1, and ON CONFLICT DO
# NOTHING) and delete them, while another client runs VACUUM and
# learned_index_retrain() in a loop; a btree control table gets the same
# load in the same run.  Every DO UPDATE upsert adds exactly 1 to the sum
# of v over live rows plus the v of deleted rows (logged by the delete), and
# logs itself in the same statement, so that sum must equal the number of
# upserts logged (pgbench's own counts miss transactions that end after its
# clock); keys inserted are logged in the same statement too, so the table's
# keys must equal the log's; no key may appear twice among live rows; the index must agree with
# a sequential scan; learned_index_check(heapallindexed) must pass.
# (30 keys, so conflicts and absent keys are frequent.  Known limit: with
# aminsert's "maybe a conflict" answer disabled the run still passed: the
# executor's pre-check finds almost every conflict, and two inserters of
# one absent key never met between pre-check and index insert in 30 s: this
# test does not prove that answer right; the isolation spec
# upsert_precheck_window does, stopping an inserter in that window.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $seconds = $ENV{LI_UPSERT_SECONDS} || 30;

my $node = PostgreSQL::Test::Cluster->new('upsert');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 40
deadlock_timeout = 100ms
});
$node->start;
if ($node->safe_psql('postgres', 'SHOW server_version_num') < 180000)
{
	$node->stop;
	plan skip_all => 'a learned index is an ON CONFLICT arbiter from PostgreSQL 18 on';
}
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int, v int);
	CREATE TABLE tb (k int, v int);
	CREATE TABLE ok (k int);
	CREATE TABLE okb (k int);
	CREATE TABLE dl (v int);
	CREATE TABLE dlb (v int);
	CREATE TABLE ul (x int);
	CREATE TABLE ulb (x int);
	INSERT INTO t SELECT g * 4, 0 FROM generate_series(1, 5) g;
	INSERT INTO tb SELECT g * 4, 0 FROM generate_series(1, 5) g;
	INSERT INTO ok SELECT g * 4 FROM generate_series(1, 5) g;
	INSERT INTO okb SELECT g * 4 FROM generate_series(1, 5) g;
	CREATE UNIQUE INDEX t_k ON t USING learned (k) WITH (retrain_threshold = 0.02);
	CREATE UNIQUE INDEX tb_k ON tb (k);
	CREATE INDEX ok_k ON ok (k);
	CREATE INDEX okb_k ON okb (k);
});

# the workload on table $T with key log $L, delete log $D and upsert log $U
sub scripts
{
	my ($T, $L, $D, $U) = @_;
	return (
		"upd_$T\@10" => qq{
\\set k random(1, 30)
WITH u AS (INSERT INTO $T VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET v = $T.v + 1
           RETURNING k, (xmax = 0) AS inserted),
     l AS (INSERT INTO $L SELECT k FROM u WHERE inserted)
INSERT INTO $U SELECT 1 FROM u;
},
		"nothing_$T\@5" => qq{
\\set k random(1, 30)
WITH i AS (INSERT INTO $T VALUES (:k, 0) ON CONFLICT DO NOTHING RETURNING k)
INSERT INTO $L SELECT k FROM i;
},
		"del_$T\@10" => qq{
\\set k random(1, 30)
WITH d AS (DELETE FROM $T WHERE k = :k RETURNING k, v),
     g AS (INSERT INTO $D SELECT v FROM d)
DELETE FROM $L WHERE k IN (SELECT k FROM d);
},
		"read_$T\@2" => qq{
\\set k random(1, 30)
SET enable_seqscan = off;
SELECT count(*) FROM $T WHERE k BETWEEN :k AND :k + 5;
});
}

my %scripts = (scripts('t', 'ok', 'dl', 'ul'), scripts('tb', 'okb', 'dlb', 'ulb'),
	'maint@1' => q{
VACUUM t;
SELECT learned_index_retrain('t_k');
VACUUM tb;
});

my $dir = PostgreSQL::Test::Utils::tempdir;
my @cmd = ('pgbench', '--no-vacuum', '--client=8', '--jobs=2', "--time=$seconds",
	'--protocol=simple', '-h', $node->host, '-p', $node->port);
for my $name (sort keys %scripts)
{
	my ($base, $w) = split /@/, $name;
	PostgreSQL::Test::Utils::append_to_file("$dir/$base.sql", $scripts{$name});
	push @cmd, '-f', "$dir/$base.sql\@$w";
}
push @cmd, 'postgres';
my ($out, $err) = ('', '');
IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
is($?, 0, "pgbench: 8 clients for $seconds s, no client aborted");
is($err, '', 'pgbench: no errors');

for my $set (['t', 'ok', 'dl', 'ul'], ['tb', 'okb', 'dlb', 'ulb'])
{
	my ($T, $L, $D, $U) = @$set;
	my $upserts = $node->safe_psql('postgres', "SELECT count(*) FROM $U");
	ok($upserts > 100, "$T: $upserts upserts committed");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT k FROM $T GROUP BY k HAVING count(*) > 1) d"),
		'0', "no duplicate live key in $T");
	is($node->safe_psql('postgres',
		"SELECT (SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM $T) = "
		. "(SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM (SELECT DISTINCT k FROM $L) s)"),
		't', "keys of $T = the log of inserts");
	is($node->safe_psql('postgres',
		"SELECT (SELECT coalesce(sum(v), 0) FROM $T) + (SELECT coalesce(sum(v), 0) FROM $D)"),
		$upserts, "$T: every DO UPDATE upsert counted once");
}
my $q = "SELECT count(*), coalesce(sum(k), 0), coalesce(sum(v), 0) FROM t WHERE k > 0";
is($node->safe_psql('postgres',
	"SET enable_seqscan = off; SET enable_bitmapscan = off; $q"),
	$node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q"),
	'index = seq scan');
is($node->safe_psql('postgres', "SELECT learned_index_check('t_k', true)"), '',
	'learned_index_check(heapallindexed)');

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated by signal/,
	'no assertion failure or crash');

$node->stop;
done_testing();
