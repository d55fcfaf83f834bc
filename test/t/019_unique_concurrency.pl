# UNIQUE learned index under load: 8 pgbench clients insert keys from a
# small domain (so conflicts are frequent, caught as unique_violation),
# delete them, move them (UPDATE of the key) and make new versions of them,
# while another client runs VACUUM and learned_index_retrain() in a loop.
# Every successful statement also writes a log table in the same statement
# or transaction (a data-modifying CTE where a second statement's newer
# snapshot could see a concurrent insert), so afterwards the table's keys must equal the log's keys,
# no key may appear twice among live rows, the index must agree with a
# sequential scan, and learned_index_check(heapallindexed) must pass.  A
# btree control table gets the same workload in the same run.  Then the
# same load is cut by an immediate stop (crash) and checked after recovery,
# and a streaming standby must answer like the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $seconds = $ENV{LI_UNIQUE_SECONDS} || 40;

my $node = PostgreSQL::Test::Cluster->new('uniq');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
max_connections = 40
autovacuum_naptime = 1s
deadlock_timeout = 100ms
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int, v int);
	CREATE TABLE tb (k int, v int);
	CREATE TABLE ok (k int);
	CREATE TABLE okb (k int);
	INSERT INTO t SELECT g * 4, 0 FROM generate_series(1, 750) g;
	INSERT INTO tb SELECT g * 4, 0 FROM generate_series(1, 750) g;
	INSERT INTO ok SELECT g * 4 FROM generate_series(1, 750) g;
	INSERT INTO okb SELECT g * 4 FROM generate_series(1, 750) g;
	CREATE UNIQUE INDEX t_k ON t USING learned (k) WITH (retrain_threshold = 0.02);
	CREATE UNIQUE INDEX tb_k ON tb (k);
	CREATE INDEX ok_k ON ok (k);
	CREATE INDEX okb_k ON okb (k);
});
$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('uniq_standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
$standby->start;

# the workload on table $T with log $L
sub scripts
{
	my ($T, $L) = @_;
	return (
		"ins_$T\@10" => qq{
\\set k random(1, 3000)
DO \$\$ BEGIN INSERT INTO $T VALUES (:k, 1); INSERT INTO $L VALUES (:k);
EXCEPTION WHEN unique_violation THEN NULL; END \$\$;
},
		"del_$T\@4" => qq{
\\set k random(1, 3000)
WITH d AS (DELETE FROM $T WHERE k = :k RETURNING k)
DELETE FROM $L WHERE k IN (SELECT k FROM d);
},
		"move_$T\@4" => qq{
\\set a random(1, 3000)
\\set b random(1, 3000)
DO \$\$ BEGIN
WITH m AS (UPDATE $T SET k = :b WHERE k = :a RETURNING k)
UPDATE $L SET k = :b WHERE k = :a AND EXISTS (SELECT FROM m);
EXCEPTION WHEN unique_violation THEN NULL; END \$\$;
},
		"version_$T\@4" => qq{
\\set k random(1, 3000)
UPDATE $T SET v = v + 1 WHERE k = :k;
},
		"read_$T\@4" => qq{
\\set k random(1, 3000)
SET enable_seqscan = off;
SELECT count(*) FROM $T WHERE k BETWEEN :k AND :k + 50;
});
}

my %scripts = (scripts('t', 'ok'), scripts('tb', 'okb'),
	'maint@1' => q{
VACUUM t;
SELECT learned_index_retrain('t_k');
VACUUM tb;
});
my %files;
for my $name (keys %scripts)
{
	my ($base, $w) = split /@/, $name;
	$files{"$base.sql\@$w"} = $scripts{$name};
}

# the invariants, on $on (primary or standby)
sub check_all
{
	my ($label, $on) = @_;
	for my $pair (['t', 'ok'], ['tb', 'okb'])
	{
		my ($T, $L) = @$pair;
		is($on->safe_psql('postgres',
			"SELECT count(*) FROM (SELECT k FROM $T GROUP BY k HAVING count(*) > 1) d"),
			'0', "$label: no duplicate live key in $T");
		is($on->safe_psql('postgres',
			"SELECT (SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM $T) = "
			. "(SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM $L)"),
			't', "$label: keys of $T = the log of successful statements");
	}
	my $q = "SELECT count(*), coalesce(sum(k), 0) FROM t WHERE k > 0";
	my $idx = $on->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
	my $seq = $on->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
	is($idx, $seq, "$label: index = seq scan");
	is($on->safe_psql('postgres', "SELECT learned_index_check('t_k', true)"), '',
		"$label: learned_index_check(heapallindexed)");
}

$node->pgbench(
	"--no-vacuum --client=8 --jobs=2 --time=$seconds --protocol=simple",
	0,
	[qr{processed: [1-9]}],
	[qr{^$}],
	"pgbench: 8 clients for $seconds s",
	\%files);
note($node->safe_psql('postgres', "SELECT count(*) FROM t"));
check_all('after the load', $node);
$node->wait_for_catchup($standby, 'replay', $node->lsn('insert'));
check_all('standby', $standby);

# the same load, cut by a crash
my @cmd = ('pgbench', '--no-vacuum', '--client=8', '--jobs=2', '--time=30',
	'--protocol=simple', '-h', $node->host, '-p', $node->port, 'postgres');
my $dir = PostgreSQL::Test::Utils::tempdir;
for my $f (keys %files)
{
	my ($base, $w) = split /@/, $f;
	PostgreSQL::Test::Utils::append_to_file("$dir/$base", $files{$f});
	push @cmd, '-f', "$dir/$base\@$w";
}
my ($out, $err) = ('', '');
my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
sleep(6);
$node->stop('immediate');
$h->finish;
$node->start;
check_all('after a crash under load', $node);
$node->safe_psql('postgres', 'INSERT INTO t SELECT g FROM generate_series(100001, 100100) g; INSERT INTO ok SELECT g FROM generate_series(100001, 100100) g');
check_all('inserts after recovery', $node);

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated by signal/,
	'no assertion failure or crash other than ours');

$standby->stop;
$node->stop;
done_testing();
