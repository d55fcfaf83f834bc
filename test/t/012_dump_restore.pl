# pg_dump / restore of learned indexes: custom format + pg_restore (serial
# and --jobs=2), and plain SQL + psql.  The restored databases have the same
# learned indexes (pg_indexes.indexdef, pg_class.reloptions, the epsilon the
# build used), learned_index_check passes on them, and they answer the same
# queries as the source (result fingerprints through the index equal the
# source's and a sequential scan's).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;
my $tmp = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (id int, k int8, i4 int4, f float8, ts timestamptz, d date);
	INSERT INTO t SELECT g, (random() * 1000000)::int8, (random() * 50000)::int4, random(),
		'2024-01-01'::timestamptz + g * interval '37 seconds',
		'2000-01-01'::date + (g % 9000)
		FROM generate_series(1, 100000) g;
	INSERT INTO t (id) SELECT g FROM generate_series(100001, 100020) g;
	CREATE INDEX t_k ON t USING learned (k) WITH (epsilon = 8, fillfactor = 80);
	CREATE INDEX t_i4 ON t USING learned (i4);
	CREATE INDEX t_f ON t USING learned (f) WITH (retrain_threshold = 0.05);
	CREATE INDEX t_ts ON t USING learned (ts) WITH (epsilon = 64, retrain_threshold = 0, fillfactor = 50);
	CREATE INDEX t_d ON t USING learned (d);
	CREATE INDEX t_kdiv ON t USING learned ((k / 7)) WITH (epsilon = 16);
	CREATE INDEX t_fpart ON t USING learned (f) WHERE f < 0.25;
	COMMENT ON INDEX t_k IS 'learned index on k';

	CREATE UNLOGGED TABLE u (k int4);
	INSERT INTO u SELECT g * 3 FROM generate_series(1, 20000) g;
	CREATE INDEX u_k ON u USING learned (k) WITH (epsilon = 2);

	CREATE SCHEMA other;
	CREATE TABLE other.r (k int8) PARTITION BY RANGE (k);
	CREATE TABLE other.r1 PARTITION OF other.r FOR VALUES FROM (0) TO (5000);
	CREATE TABLE other.r2 PARTITION OF other.r FOR VALUES FROM (5000) TO (10000);
	INSERT INTO other.r SELECT g FROM generate_series(0, 9999) g;
	CREATE INDEX r_k ON other.r USING learned (k) WITH (epsilon = 4);

	-- some churn, so that the source indexes have delta pages and pending
	-- entries merged differently from a fresh build
	INSERT INTO t SELECT g, (random() * 1000000)::int8, (random() * 50000)::int4, random(),
		now(), current_date FROM generate_series(100021, 110000) g;
	DELETE FROM t WHERE id % 17 = 0;
	VACUUM ANALYZE t;
});

my $indexes_sql = q{
	SELECT string_agg(format('%s.%s|%s|%s', schemaname, indexname, indexdef,
	                         coalesce(c.reloptions::text, '')), E'\n' ORDER BY schemaname, indexname)
	FROM pg_indexes x JOIN pg_class c ON c.oid = format('%I.%I', x.schemaname, x.indexname)::regclass
	WHERE indexdef LIKE '%USING learned%'
};
my $learned_leaf_sql = q{
	SELECT string_agg(c.oid::regclass::text, ' ' ORDER BY c.oid::regclass::text)
	FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	WHERE a.amname = 'learned' AND c.relkind = 'i'
};
my $eps_sql = q{
	SELECT string_agg(c.oid::regclass::text || '=' || (learned_index_stats(c.oid)).epsilon, ',' ORDER BY c.oid::regclass::text)
	FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	WHERE a.amname = 'learned' AND c.relkind = 'i'
};

my $fp = "count(*), coalesce(sum(id), 0), md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))";
my @queries = (
	"SELECT $fp FROM t WHERE k BETWEEN 200000 AND 300000",
	"SELECT $fp FROM t WHERE k = (SELECT k FROM t WHERE id = 4242)",
	"SELECT $fp FROM t WHERE k IS NULL",
	"SELECT $fp FROM t WHERE i4 < 1000",
	"SELECT $fp FROM t WHERE f BETWEEN 0.4 AND 0.41",
	"SELECT $fp FROM t WHERE f < 0.01",
	"SELECT $fp FROM t WHERE ts >= '2024-01-10' AND ts < '2024-01-12'",
	"SELECT $fp FROM t WHERE d = '2010-06-01'",
	"SELECT $fp FROM t WHERE k / 7 BETWEEN 1000 AND 9000",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM t WHERE k > 500000 ORDER BY k LIMIT 25) s",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM t ORDER BY k DESC LIMIT 25) s",
	"SELECT count(*), sum(k) FROM other.r WHERE k BETWEEN 4990 AND 5010",
	"SELECT count(*), sum(k) FROM u WHERE k BETWEEN 3000 AND 3300",
);
my $force_index = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
my $force_seq = 'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;';

sub run_all
{
	my ($db, $set) = @_;
	return [ split /\n/, $node->safe_psql($db, join("\n", $set, map { "$_;" } @queries)) ];
}

my $src_indexes = $node->safe_psql('src', $indexes_sql);
my $src_eps = $node->safe_psql('src', $eps_sql);
my $src_idx = run_all('src', $force_index);
my $src_seq = run_all('src', $force_seq);
note("source indexes:\n$src_indexes\nsource epsilons: $src_eps");
is_deeply($src_idx, $src_seq, 'source: index scans = seqscan');
like($src_eps, qr/t_k=8,.*t_ts=64,u_k=2$/, 'source: reloptions epsilon used by the build');

# EXPLAIN of each query names a learned index (the comparison is meaningful)
for my $q (@queries)
{
	my $plan = $node->safe_psql('src', "$force_index EXPLAIN (COSTS OFF) $q");
	like($plan, qr/using (t_k|t_i4|t_f|t_fpart|t_ts|t_d|t_kdiv|r\d_k_idx|u_k)\b/,
		"source plan uses a learned index: $q");
}

sub check_restored
{
	my ($db, $label) = @_;
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}),
		'0.4.0', "$label: extension restored at 0.4.0");
	is($node->safe_psql($db, $indexes_sql), $src_indexes,
		"$label: indexdef and reloptions equal the source's");
	is($node->safe_psql($db, $eps_sql), $src_eps,
		"$label: every index was built with its reloption epsilon");
	is($node->safe_psql($db, q{SELECT obj_description('t_k'::regclass, 'pg_class')}),
		'learned index on k', "$label: index comment restored");
	is($node->safe_psql($db, q{SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid IN ('t'::regclass, 'other.r1'::regclass, 'other.r2'::regclass)}),
		't', "$label: indexes valid");
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'other.r_k'::regclass}),
		'2', "$label: partition indexes attached to the partitioned learned index");
	for my $idx (split / /, $node->safe_psql($db, $learned_leaf_sql))
	{
		my ($ret, $out, $err) = $node->psql($db, "SELECT learned_index_check('$idx', true)");
		is($ret, 0, "$label: learned_index_check('$idx', true) passes") or diag($err);
	}
	my $idx = run_all($db, $force_index);
	my $seq = run_all($db, $force_seq);
	for my $n (0 .. $#queries)
	{
		is($idx->[$n], $src_idx->[$n], "$label: restored index scan = source: $queries[$n]");
		is($seq->[$n], $src_seq->[$n], "$label: restored seqscan = source seqscan: $queries[$n]");
	}
	for my $q (@queries[0, 4, 8])
	{
		my $plan = $node->safe_psql($db, "$force_index EXPLAIN (COSTS OFF) $q");
		like($plan, qr/using t_(k|f|kdiv)\b/, "$label: restored plan uses a learned index: $q");
	}
}

# custom format + pg_restore
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$tmp/src.dump", 'src' ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst_custom');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'dst_custom', "$tmp/src.dump" ],
	'pg_restore into dst_custom');
check_restored('dst_custom', 'pg_restore');

# custom format + parallel pg_restore (indexes built by concurrent workers)
$node->safe_psql('postgres', 'CREATE DATABASE dst_jobs');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--jobs=2', '-d', 'dst_jobs', "$tmp/src.dump" ],
	'pg_restore --jobs=2 into dst_jobs');
check_restored('dst_jobs', 'pg_restore --jobs=2');

# plain SQL + psql
$node->command_ok([ 'pg_dump', '-f', "$tmp/src.sql", 'src' ], 'pg_dump plain');
my $sql = slurp_file("$tmp/src.sql");
like($sql, qr/CREATE INDEX t_k ON public\.t USING learned \(k\) WITH \(epsilon='8', fillfactor='80'\);/,
	'plain dump contains the learned CREATE INDEX with reloptions');
$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain', '-f', "$tmp/src.sql" ],
	'psql -f plain dump into dst_plain');
check_restored('dst_plain', 'plain SQL');

# the restored indexes keep working under writes
$node->safe_psql('dst_plain', q{
	INSERT INTO t SELECT g, (random() * 1000000)::int8, 1, random(), now(), current_date
		FROM generate_series(200001, 205000) g;
	DELETE FROM t WHERE id % 11 = 0;
	VACUUM t;
});
for my $q (@queries[0, 2, 3, 4, 9])
{
	is($node->safe_psql('dst_plain', "$force_index $q"),
		$node->safe_psql('dst_plain', "$force_seq $q"),
		"dst_plain after writes: index = seqscan: $q");
}
is($node->safe_psql('dst_plain', "SELECT learned_index_check('t_k', true)"), '',
	'dst_plain after writes: check passes');

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

$node->stop;
done_testing();
