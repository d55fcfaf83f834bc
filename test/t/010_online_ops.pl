# Online maintenance of learned indexes under write load: while pgbench
# clients insert, update (HOT and non-HOT), delete and read through the
# index, another session runs CREATE INDEX CONCURRENTLY, REINDEX INDEX
# CONCURRENTLY, plain REINDEX INDEX, REINDEX TABLE CONCURRENTLY and DROP
# INDEX CONCURRENTLY.  Afterwards every index is valid, learned_index_check
# (heapallindexed) passes and queries through each index equal a sequential
# scan.  A failed CREATE INDEX CONCURRENTLY leaves an invalid (maintained)
# learned index that REINDEX CONCURRENTLY repairs and DROP INDEX
# CONCURRENTLY drops.  Then ALTER INDEX ... SET (epsilon, retrain_threshold,
# fillfactor): accepted, visible in pg_class.reloptions; epsilon and
# fillfactor take effect at the next full retrain or REINDEX,
# retrain_threshold at the next insert batch; out-of-range values are
# rejected.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $seconds = $ENV{LI_ONLINE_SECONDS} || 12;

my $node = PostgreSQL::Test::Cluster->new('online');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 30
deadlock_timeout = 100ms
autovacuum_naptime = 1s
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (id bigserial PRIMARY KEY, k int8, f float8, ts timestamptz, v int)
		WITH (fillfactor = 90);
	INSERT INTO t (k, f, ts, v)
		SELECT (random() * 1000000)::int8, random(),
		       '2024-01-01'::timestamptz + (random() * 1000000) * interval '1 second', 0
		FROM generate_series(1, 200000);
	INSERT INTO t (k, f, ts, v) SELECT NULL, NULL, NULL, 0 FROM generate_series(1, 100);
	CREATE INDEX t_k ON t USING learned (k);
	VACUUM ANALYZE t;
});

# ------------------------------------------------------------------
# pgbench in the background
# ------------------------------------------------------------------
my %scripts = (
	'ins.sql@20' => q{
\set k random(1, 1000000)
INSERT INTO t (k, f, ts, v) VALUES (:k, random(), '2024-01-01'::timestamptz + :k * interval '1 second', 1);
},
	'ins_batch.sql@4' => q{
\set k random(1, 1000000)
INSERT INTO t (k, f, ts, v) SELECT :k + g * 3, random(), '2024-01-01'::timestamptz + (:k + g) * interval '1 second', 2 FROM generate_series(1, 40) g;
},
	'ins_null.sql@1' => q{
INSERT INTO t (k, f, ts, v) VALUES (NULL, NULL, NULL, 3);
},
	'upd_key.sql@10' => q{
\set id random(1, 260000)
\set k random(1, 1000000)
UPDATE t SET k = :k, f = random(), ts = '2024-01-01'::timestamptz + :k * interval '1 second' WHERE id = :id;
},
	'upd_hot.sql@10' => q{
\set id random(1, 260000)
UPDATE t SET v = v + 1 WHERE id = :id;
},
	'del.sql@6' => q{
\set id random(1, 260000)
DELETE FROM t WHERE id = :id;
},
	'del_range.sql@2' => q{
\set k random(1, 1000000)
DELETE FROM t WHERE k BETWEEN :k AND :k + 10;
},
	'sel.sql@10' => q{
\set k random(1, 1000000)
SET enable_seqscan = off;
SELECT count(*) FROM t WHERE k = :k;
SELECT count(*), sum(k) FROM t WHERE k BETWEEN :k AND :k + 2000;
RESET enable_seqscan;
},
);
my @files;
for my $fn (sort keys %scripts)
{
	my ($base, $w) = split /@/, $fn;
	my $path = $node->basedir . "/$base";
	append_to_file($path, $scripts{$fn});
	push @files, '-f', "$path\@$w";
}

my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[
		'pgbench', '--no-vacuum', '--client=6', '--jobs=2',
		"--time=$seconds", '--protocol=simple', '--max-tries=10',
		'-h', $node->host, '-p', $node->port, @files, 'postgres'
	],
	'>', \$bench_out, '2>', \$bench_err);
my $bench_start = time;

# wait until pgbench really writes
$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM t WHERE v > 0")
  or die "pgbench does not seem to run";

# ------------------------------------------------------------------
# DDL from another session while the load runs
# ------------------------------------------------------------------
sub ddl
{
	my ($sql) = @_;
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	is($ret, 0, sprintf("under load: %s (%.1f s)", $sql, time - $t0))
	  or diag($err);
}

ddl('CREATE INDEX CONCURRENTLY t_f ON t USING learned (f)');
ddl('CREATE INDEX CONCURRENTLY t_ts ON t USING learned (ts) WITH (epsilon = 16)');
ddl('CREATE INDEX CONCURRENTLY t_tmp ON t USING learned ((k + 1))');
ddl('REINDEX INDEX CONCURRENTLY t_k');
ddl('REINDEX INDEX t_k');
ddl('DROP INDEX CONCURRENTLY t_tmp');
ddl('REINDEX INDEX CONCURRENTLY t_f');
ddl('REINDEX TABLE CONCURRENTLY t');
my $rounds = 0;
while (time - $bench_start < $seconds - 2)
{
	ddl('REINDEX INDEX CONCURRENTLY t_ts');
	ddl('REINDEX INDEX t_k');
	$rounds++;
}
note("extra REINDEX rounds under load: $rounds");

ok($bench->finish, 'pgbench exited successfully') or diag($bench_err);
like($bench_out, qr/processed: [1-9]/, 'pgbench processed transactions');
note(join("\n", grep { /^(number of|tps)/ } split /\n/, $bench_out));

# ------------------------------------------------------------------
# validity, check, index = seqscan
# ------------------------------------------------------------------
my @indexes = qw(t_k t_f t_ts);

is( $node->safe_psql('postgres', q{
	SELECT string_agg(c.relname || ':' || i.indisvalid::int || i.indisready::int || i.indislive::int, ',' ORDER BY c.relname)
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE i.indrelid = 't'::regclass}),
	't_f:111,t_k:111,t_pkey:111,t_ts:111',
	'all indexes valid, ready and live; no _ccnew/_ccold leftovers; t_tmp dropped');
is( $node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 't_tmp'}),
	'0', 'DROP INDEX CONCURRENTLY removed t_tmp');
is( $node->safe_psql('postgres', q{
	SELECT string_agg(reloptions::text, ',') FROM pg_class WHERE relname = 't_ts'}),
	'{epsilon=16}', 'reloptions survive REINDEX CONCURRENTLY');

for my $idx (@indexes)
{
	my ($ret, $out, $err) =
	  $node->psql('postgres', "SELECT learned_index_check('$idx', true)");
	is($ret, 0, "learned_index_check('$idx', true) passes after the load")
	  or diag($err);
}

my $force_index = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off;';
# From 16 on the planner may feed string_agg(... ORDER BY id) from an index
# scan of t_pkey (presorted aggregate input) instead of using the index under
# test: turn that off where it exists
$force_index .= ' SET enable_presorted_aggregate = off;'
  if $node->safe_psql('postgres', 'SHOW server_version_num') >= 160000;
my $force_bitmap = 'SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;';
my $force_seq = 'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;';

# Run every query of a list in one psql call per mode (index scan, bitmap
# scan, seqscan) and compare result lines; check that each forced-index
# plan names the index.
sub compare_queries
{
	my ($label, %q) = @_;
	for my $idx (sort keys %q)
	{
		my @qs = @{ $q{$idx} };
		my @plans = split /^====\n/m, $node->safe_psql('postgres',
			join("\n", $force_index, map { "EXPLAIN (COSTS OFF) $_;\n\\echo ====" } @qs));
		my %res;
		for my $mode (['idx', $force_index], ['bitmap', $force_bitmap], ['seq', $force_seq])
		{
			my $out = $node->safe_psql('postgres',
				join("\n", $mode->[1], map { "$_;" } @qs));
			$res{ $mode->[0] } = [ split /\n/, $out ];
		}
		for my $i (0 .. $#qs)
		{
			like($plans[$i], qr/\b$idx\b/, "$label: plan uses $idx: $qs[$i]");
			is($res{idx}[$i], $res{seq}[$i], "$label: $idx index scan = seqscan: $qs[$i]");
			is($res{bitmap}[$i], $res{seq}[$i], "$label: $idx bitmap scan = seqscan: $qs[$i]");
		}
	}
}

my $fp = "count(*), coalesce(sum(id), 0), md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))";
my %queries = (
	t_k => [
		"SELECT $fp FROM t WHERE k BETWEEN 100000 AND 400000",
		"SELECT $fp FROM t WHERE k = (SELECT k FROM t WHERE k IS NOT NULL ORDER BY id DESC LIMIT 1)",
		"SELECT $fp FROM t WHERE k IS NULL",
		"SELECT $fp FROM t WHERE k > 0",
	],
	t_f => [
		"SELECT $fp FROM t WHERE f < 0.3",
		"SELECT $fp FROM t WHERE f BETWEEN 0.5 AND 0.6",
		"SELECT $fp FROM t WHERE f IS NULL",
	],
	t_ts => [
		"SELECT $fp FROM t WHERE ts >= '2024-01-05' AND ts < '2024-01-08'",
		"SELECT $fp FROM t WHERE ts IS NULL",
	],
);
compare_queries('after the load', %queries);

my $ordered = "SELECT string_agg(k::text, ',') FROM (SELECT k FROM t WHERE k > 500000 ORDER BY k LIMIT 100) s";
is( $node->safe_psql('postgres', "$force_index $ordered"),
	$node->safe_psql('postgres', "$force_seq $ordered"),
	'ordered scan through t_k = seqscan + sort');

# ------------------------------------------------------------------
# a CREATE INDEX CONCURRENTLY that fails leaves an invalid learned index,
# which REINDEX INDEX CONCURRENTLY repairs and DROP INDEX CONCURRENTLY drops
# ------------------------------------------------------------------
{
	# an open snapshot older than the build makes CIC wait at its end
	my $blocker = $node->background_psql('postgres');
	$blocker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1;');
	for my $name (qw(t_inv t_inv2))
	{
		my ($r, $o, $e) = $node->psql('postgres',
			"SET statement_timeout = '2s'; CREATE INDEX CONCURRENTLY $name ON t USING learned (k)");
		like($e, qr/statement timeout/, "CIC of $name cancelled while waiting");
	}
	my $state = $node->safe_psql('postgres',
		q{SELECT string_agg(indisvalid::int || '' || indisready::int, ',' ORDER BY indexrelid::regclass::text)
		  FROM pg_index WHERE indexrelid IN ('t_inv'::regclass, 't_inv2'::regclass)});
	like($state, qr/^0[01],0[01]$/, "both left invalid (valid/ready: $state)");
	# writes while the index is invalid (and, if ready, maintained)
	$node->safe_psql('postgres', q{
		INSERT INTO t (k, f, ts, v) SELECT (random() * 1000000)::int8, random(), now(), 7 FROM generate_series(1, 3000);
		DELETE FROM t WHERE id % 97 = 0;
		UPDATE t SET k = k + 1 WHERE id % 89 = 0;
	});
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	my ($ret, $out, $err) = $node->psql('postgres', 'REINDEX INDEX CONCURRENTLY t_inv');
	is($ret, 0, 'REINDEX INDEX CONCURRENTLY of the invalid learned index') or diag($err);
	is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 't_inv'::regclass}),
		't', 't_inv valid after REINDEX CONCURRENTLY');
	is($node->safe_psql('postgres', "SELECT learned_index_check('t_inv', true)"), '', 't_inv check passes');
	($ret, $out, $err) = $node->psql('postgres', 'DROP INDEX CONCURRENTLY t_inv2');
	is($ret, 0, 'DROP INDEX CONCURRENTLY of an invalid learned index') or diag($err);
	# compare through t_inv alone (t_k dropped in a rolled-back transaction)
	for my $q (@{ $queries{t_k} }[0, 1, 3])
	{
		is( $node->safe_psql('postgres', "BEGIN; DROP INDEX t_k; $force_index $q; ROLLBACK;"),
			$node->safe_psql('postgres', "$force_seq $q"),
			"through the repaired t_inv = seqscan: $q");
	}
	$node->safe_psql('postgres', 'DROP INDEX t_inv');
}

# ------------------------------------------------------------------
# ALTER INDEX ... SET (reloptions)
# ------------------------------------------------------------------
# baseline: a full retrain with the default settings (the load left leaves
# split by local retrains)
$node->safe_psql('postgres', q{SELECT learned_index_retrain('t_k', true)});
my $stats_before = $node->safe_psql('postgres',
	q{SELECT epsilon || ':' || leaf_pages FROM learned_index_stats('t_k')});
my ($eps_before, $leaves_before) = split /:/, $stats_before;
is($eps_before, '32', 'default epsilon is 32');

my ($ret, $out, $err) = $node->psql('postgres',
	'ALTER INDEX t_k SET (epsilon = 8, retrain_threshold = 0.05, fillfactor = 80)');
is($ret, 0, 'ALTER INDEX SET (epsilon, retrain_threshold, fillfactor) accepted')
  or diag($err);
is( $node->safe_psql('postgres', q{SELECT reloptions::text FROM pg_class WHERE relname = 't_k'}),
	'{epsilon=8,retrain_threshold=0.05,fillfactor=80}',
	'pg_class.reloptions shows the new settings');
is( $node->safe_psql('postgres', q{SELECT epsilon FROM learned_index_stats('t_k')}),
	'32', 'epsilon unchanged before the next full retrain');

$node->safe_psql('postgres', q{SELECT learned_index_retrain('t_k', true)});
my ($eps_after, $leaves_after, $maxerr_ok) = split /\|/, $node->safe_psql('postgres',
	q{SELECT epsilon, leaf_pages, max_error <= epsilon FROM learned_index_stats('t_k')});
is($eps_after, '8', 'epsilon = 8 after learned_index_retrain(idx, true)');
is($maxerr_ok, 't', 'max_error <= epsilon after the full retrain');
cmp_ok($leaves_after, '>', $leaves_before * 1.1,
	"fillfactor 80 packs fewer entries per leaf ($leaves_before -> $leaves_after leaves)");
is($node->safe_psql('postgres', "SELECT learned_index_check('t_k', true)"),
	'', 'check passes after the full retrain');
compare_queries('after ALTER INDEX + full retrain', t_k => $queries{t_k});

# REINDEX picks the reloptions up too
$node->safe_psql('postgres', 'ALTER INDEX t_f SET (epsilon = 4)');
is( $node->safe_psql('postgres', q{SELECT epsilon FROM learned_index_stats('t_f')}),
	'32', 't_f: epsilon unchanged right after ALTER INDEX');
$node->safe_psql('postgres', 'REINDEX INDEX t_f');
is( $node->safe_psql('postgres', q{SELECT epsilon FROM learned_index_stats('t_f')}),
	'4', 't_f: epsilon = 4 after REINDEX');
$node->safe_psql('postgres', 'ALTER INDEX t_ts SET (epsilon = 64)');
$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY t_ts');
is( $node->safe_psql('postgres', q{SELECT epsilon FROM learned_index_stats('t_ts')}),
	'64', 't_ts: epsilon = 64 after REINDEX CONCURRENTLY');

# RESET goes back to the default at the next full retrain
$node->safe_psql('postgres', 'ALTER INDEX t_k RESET (epsilon, fillfactor, retrain_threshold)');
is( $node->safe_psql('postgres', q{SELECT coalesce(reloptions::text, 'none') FROM pg_class WHERE relname = 't_k'}),
	'none', 'ALTER INDEX RESET clears reloptions');
$node->safe_psql('postgres', q{SELECT learned_index_retrain('t_k', true)});
is( $node->safe_psql('postgres', q{SELECT epsilon FROM learned_index_stats('t_k')}),
	'32', 'epsilon back to 32 after RESET + full retrain');

# retrain_threshold takes effect for the next insert batch: 0 disables the
# threshold-triggered retrain, 0.05 triggers it
my $counters = q{SELECT retrains + local_retrains FROM learned_index_stats('t_k')};
# (a fifth of the table, at least 30000 rows: enough to overflow more than 5%
# of the leaves however long the load before ran, LI_ONLINE_SECONDS)
my $scatter = q{INSERT INTO t (k, f, ts, v)
	SELECT (random() * 1000000)::int8, random(), now(), 5
	FROM generate_series(1, greatest(30000, (SELECT count(*) / 5 FROM t)::int))};
$node->safe_psql('postgres', q{ALTER INDEX t_k SET (retrain_threshold = 0);
	SELECT learned_index_retrain('t_k', true)});
my $before = $node->safe_psql('postgres', $counters);
$node->safe_psql('postgres', $scatter);
my ($after, $dirty_ok) = split /\|/, $node->safe_psql('postgres',
	q{SELECT retrains + local_retrains, dirty_leaves > 0.05 * leaf_pages FROM learned_index_stats('t_k')});
is($after, $before, 'retrain_threshold = 0: no retrain triggered by inserts');
is($dirty_ok, 't', 'retrain_threshold = 0: more than 5% of the leaves overflowed');
# lowering the threshold below the leaves already dirty: the next insert
# batch retrains even when it overflows no leaf itself (one row)
# (one slice of learned_index.retrain_slice_leaves = 1: at least an eighth
# of the leaves; the next commits would take the rest; with slicing off the
# one commit takes them all)
$node->safe_psql('postgres', q{ALTER INDEX t_k SET (retrain_threshold = 0.05)});
$before = $node->safe_psql('postgres', $counters);
my $dirty_before = $node->safe_psql('postgres', q{SELECT dirty_leaves FROM learned_index_stats('t_k')});
$node->safe_psql('postgres', q{SET learned_index.retrain_slice_leaves = 1;
	INSERT INTO t (k, f, ts, v) VALUES (424242, 0.5, now(), 6)});
cmp_ok($node->safe_psql('postgres', $counters), '>', $before,
	'threshold lowered below the dirty leaves: a one-row insert retrains');
cmp_ok($node->safe_psql('postgres', q{SELECT dirty_leaves FROM learned_index_stats('t_k')}),
	'<', $dirty_before, 'that retrain (a slice) rewrote dirty leaves');
$node->safe_psql('postgres', q{SET learned_index.retrain_slice_leaves = 0;
	INSERT INTO t (k, f, ts, v) VALUES (424243, 0.5, now(), 6)});
is($node->safe_psql('postgres',
		q{SELECT dirty_leaves < 0.05 * leaf_pages FROM learned_index_stats('t_k')}),
	't', 'after a retrain without slices fewer than 5% of the leaves are dirty');
compare_queries('after the retrain of a lowered threshold', t_k => [ @{ $queries{t_k} }[0, 3] ]);
$node->safe_psql('postgres', q{SELECT learned_index_retrain('t_k', true);
	ALTER INDEX t_k SET (retrain_threshold = 0.05)});
$before = $node->safe_psql('postgres', $counters);
$node->safe_psql('postgres', $scatter);
cmp_ok($node->safe_psql('postgres', $counters), '>', $before,
	'retrain_threshold = 0.05 (set by ALTER INDEX): the same inserts trigger a retrain');
is($node->safe_psql('postgres', "SELECT learned_index_check('t_k', true)"),
	'', 'check passes after the threshold-triggered retrain');
compare_queries('after the threshold-triggered retrain', t_k => [ @{ $queries{t_k} }[0, 3] ]);
$node->safe_psql('postgres', 'ALTER INDEX t_k RESET (retrain_threshold)');

# out-of-range values are rejected
for my $bad ('epsilon = 0', 'epsilon = 65537', 'fillfactor = 5', 'fillfactor = 101',
	'retrain_threshold = 1.5', 'retrain_threshold = -0.1', 'no_such_option = 1')
{
	my ($r, $o, $e) = $node->psql('postgres', "ALTER INDEX t_k SET ($bad)");
	isnt($r, 0, "ALTER INDEX SET ($bad) rejected");
	like($e, qr/ERROR/, "ALTER INDEX SET ($bad): error message") ;
}
is( $node->safe_psql('postgres', q{SELECT coalesce(reloptions::text, 'none') FROM pg_class WHERE relname = 't_k'}),
	'none', 'rejected ALTERs left reloptions alone');

# DROP INDEX CONCURRENTLY of a learned index with the table idle
ddl('DROP INDEX CONCURRENTLY t_f');
is( $node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 't_f'}),
	'0', 't_f gone');
my $fq = "SELECT $fp FROM t WHERE f < 0.3";
is( $node->safe_psql('postgres', "$force_index $fq"),
	$node->safe_psql('postgres', "$force_seq $fq"),
	'queries on f still right after the drop');

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');
unlike($log, qr/index_corrupted|corrupt/i, 'no corruption reported in the log');

$node->stop;
done_testing();
