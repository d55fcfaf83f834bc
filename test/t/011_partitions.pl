# Learned indexes on a range-partitioned table: CREATE INDEX on the parent
# creates one learned index per partition (including a sub-partitioned
# one); a partition created with PARTITION OF and one attached with ATTACH
# PARTITION get theirs (an existing matching learned index is adopted, a
# btree is not); CREATE INDEX ON ONLY + ALTER INDEX ... ATTACH PARTITION;
# EXPLAIN shows plan-time and run-time partition pruning with the
# per-partition learned index; results equal a sequential scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parts');
$node->init;
$node->start;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

q1(q{
	CREATE EXTENSION learned_index;
	CREATE TABLE p (id int, k int8, ts timestamptz) PARTITION BY RANGE (k);
	CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100000);
	CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100000) TO (200000);
	CREATE TABLE p3 PARTITION OF p FOR VALUES FROM (200000) TO (300000)
		PARTITION BY RANGE (k);
	CREATE TABLE p3a PARTITION OF p3 FOR VALUES FROM (200000) TO (250000);
	CREATE TABLE p3b PARTITION OF p3 FOR VALUES FROM (250000) TO (300000);
	CREATE TABLE pnull PARTITION OF p DEFAULT;
	INSERT INTO p SELECT g, (random() * 299999)::int8,
		'2024-01-01'::timestamptz + g * interval '1 minute'
		FROM generate_series(1, 150000) g;
	INSERT INTO p SELECT g, NULL, NULL FROM generate_series(150001, 150050) g;
	CREATE INDEX p_k ON p USING learned (k);
});

# the learned index of every leaf partition of p, as "table:index" (sorted)
my $leaf_indexes = q{
	SELECT string_agg(t.relname || ':' || i.relname, ',' ORDER BY t.relname)
	FROM pg_inherits h
	JOIN pg_class i ON i.oid = h.inhrelid
	JOIN pg_index x ON x.indexrelid = i.oid
	JOIN pg_class t ON t.oid = x.indrelid
	JOIN pg_am a ON a.oid = i.relam
	WHERE h.inhparent IN (SELECT 'p_k'::regclass UNION ALL
	                      SELECT inhrelid FROM pg_inherits WHERE inhparent = 'p_k'::regclass)
	  AND a.amname = 'learned' AND i.relkind = 'i' AND x.indisvalid
};

is( q1(q{SELECT c.relkind::text || ':' || a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'p_k'}),
	'I:learned', 'p_k is a partitioned learned index');
is( q1($leaf_indexes),
	'p1:p1_k_idx,p2:p2_k_idx,p3a:p3a_k_idx,p3b:p3b_k_idx,pnull:pnull_k_idx',
	'one valid learned index per leaf partition, sub-partitions included');
is( q1(q{SELECT c.relkind FROM pg_class c WHERE relname = 'p3_k_idx'}),
	'I', 'the sub-partitioned p3 has a partitioned index');

# a partition created with PARTITION OF gets its index
q1(q{
	CREATE TABLE p4 PARTITION OF p FOR VALUES FROM (300000) TO (400000);
	INSERT INTO p SELECT g, 300000 + (random() * 99999)::int8,
		'2024-06-01'::timestamptz + g * interval '1 minute'
		FROM generate_series(200001, 230000) g;
});
# an attached table without indexes gets one built on ATTACH
q1(q{
	CREATE TABLE p5 (id int, k int8, ts timestamptz);
	INSERT INTO p5 SELECT g, 400000 + (random() * 99999)::int8,
		'2024-09-01'::timestamptz + g * interval '1 minute'
		FROM generate_series(300001, 330000) g;
	ALTER TABLE p ATTACH PARTITION p5 FOR VALUES FROM (400000) TO (500000);
});
# an attached table with a matching learned index: the index is adopted
q1(q{
	CREATE TABLE p6 (id int, k int8, ts timestamptz);
	INSERT INTO p6 SELECT g, 500000 + (random() * 99999)::int8, now()
		FROM generate_series(400001, 420000) g;
	CREATE INDEX p6_own ON p6 USING learned (k);
	ALTER TABLE p ATTACH PARTITION p6 FOR VALUES FROM (500000) TO (600000);
});
# an attached table with only a btree on k: a learned index is created
q1(q{
	CREATE TABLE p7 (id int, k int8, ts timestamptz);
	INSERT INTO p7 SELECT g, 600000 + (random() * 99999)::int8, now()
		FROM generate_series(500001, 520000) g;
	CREATE INDEX p7_bt ON p7 USING btree (k);
	ALTER TABLE p ATTACH PARTITION p7 FOR VALUES FROM (600000) TO (700000);
});

is( q1($leaf_indexes),
	'p1:p1_k_idx,p2:p2_k_idx,p3a:p3a_k_idx,p3b:p3b_k_idx,p4:p4_k_idx,p5:p5_k_idx,p6:p6_own,p7:p7_k_idx,pnull:pnull_k_idx',
	'PARTITION OF and ATTACH PARTITION partitions have their learned index (p6 adopts its own)');
is( q1(q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'p7_bt'::regclass}),
	'0', 'the btree of p7 is not attached to the learned p_k');
is( q1(q{SELECT count(*) FROM pg_index WHERE indrelid = 'p7'::regclass}),
	'2', 'p7 has its btree and a new learned index');

# learned_index_check and stats on every leaf index
for my $pair (split /,/, q1($leaf_indexes))
{
	my ($tab, $idx) = split /:/, $pair;
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT learned_index_check('$idx', true)");
	is($ret, 0, "learned_index_check('$idx', true) passes") or diag($err);
	is( q1(qq{SELECT keys + nulls FROM learned_index_stats('$idx')}),
		q1(qq{SELECT count(*) FROM $tab}),
		"$idx: keys + nulls = rows of $tab");
}

# the partitioned index itself has no storage: functions refuse it cleanly
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM learned_index_stats('p_k')");
	isnt($ret, 0, 'learned_index_stats on the partitioned index is an error');
	like($err, qr/ERROR/, 'with an error message') ;
	($ret, $out, $err) = $node->psql('postgres', "SELECT learned_index_check('p_k')");
	isnt($ret, 0, 'learned_index_check on the partitioned index is an error');
	is(q1('SELECT 1'), '1', 'server alive');
}

# ------------------------------------------------------------------
# EXPLAIN: pruning and the per-partition learned index
# ------------------------------------------------------------------
my $force_index = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
my $force_seq = 'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;';

my $plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT * FROM p WHERE k = 150000");
like($plan, qr/Index Scan using p2_k_idx on p2/, 'point query: learned index of p2');
unlike($plan, qr/\bp(1|3a|3b|4|5|6|7|null)\b/, 'point query: other partitions pruned');
note($plan);

$plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT * FROM p WHERE k BETWEEN 190000 AND 260000");
like($plan, qr/using p2_k_idx on p2/, 'range query: p2 via its learned index');
like($plan, qr/using p3a_k_idx on p3a/, 'range query: p3a via its learned index');
like($plan, qr/using p3b_k_idx on p3b/, 'range query: p3b via its learned index');
unlike($plan, qr/\bp(1|4|5|6|7|null)\b/, 'range query: other partitions pruned');
note($plan);

$plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT * FROM p WHERE k BETWEEN 450000 AND 550000");
like($plan, qr/using p5_k_idx on p5/, 'attached p5 is scanned with its learned index');
like($plan, qr/using p6_own on p6/, 'attached p6 is scanned with its adopted learned index');
note($plan);

$plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT * FROM p WHERE k IS NULL");
like($plan, qr/using pnull_k_idx on pnull/, 'IS NULL: only the default partition, via its learned index');
unlike($plan, qr/\bp(1|2|3a|3b|4|5|6|7)\b/, 'IS NULL: other partitions pruned');

$plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT k FROM p WHERE k > 50000 ORDER BY k LIMIT 10");
like($plan, qr/Append|Merge Append/, 'ordered query: Append over partitions');
like($plan, qr/Index Only Scan using p1_k_idx on p1|Index Scan using p1_k_idx on p1/,
	'ordered query uses the learned indexes for order');
unlike($plan, qr/(^|->\s+)Sort$/m, 'ordered query needs no Sort node');
note($plan);

# run-time pruning with a generic plan
$plan = q1(qq{$force_index SET plan_cache_mode = force_generic_plan;
	PREPARE q(int8) AS SELECT * FROM p WHERE k = \$1;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE q(350000);});
like($plan, qr/Subplans Removed: [1-9]/, 'generic plan: run-time pruning removes subplans');
like($plan, qr/using p4_k_idx on p4/, 'generic plan: p4 via its learned index');
note($plan);
my $k4 = q1('SELECT k FROM p4 ORDER BY id LIMIT 1');
is( q1(qq{$force_index SET plan_cache_mode = force_generic_plan;
	PREPARE q(int8) AS SELECT count(*), sum(id) FROM p WHERE k = \$1;
	EXECUTE q($k4);}),
	q1("$force_seq SELECT count(*), sum(id) FROM p WHERE k = $k4"),
	'generic plan with run-time pruning: result = seqscan');

# ------------------------------------------------------------------
# results equal a sequential scan
# ------------------------------------------------------------------
my $fp = "count(*), coalesce(sum(id), 0), md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))";
my @queries = (
	"SELECT $fp FROM p WHERE k = (SELECT k FROM p2 ORDER BY id LIMIT 1)",
	"SELECT $fp FROM p WHERE k BETWEEN 190000 AND 260000",
	"SELECT $fp FROM p WHERE k BETWEEN 450000 AND 650000",
	"SELECT $fp FROM p WHERE k >= 0",
	"SELECT $fp FROM p WHERE k IS NULL",
	"SELECT $fp FROM p WHERE k < 120000 OR k > 690000",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM p WHERE k > 99990 ORDER BY k LIMIT 30) s",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM p WHERE k < 500010 ORDER BY k DESC LIMIT 30) s",
	"SELECT count(*) FROM p a WHERE a.id % 10 = 0 AND EXISTS (SELECT 1 FROM p b WHERE b.k = a.k AND b.id <> a.id)",
);
my $idx_out = q1(join("\n", "$force_index SET enable_hashjoin = off; SET enable_mergejoin = off;",
	map { "$_;" } @queries));
my $bm_out = q1(join("\n", 'SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;',
	map { "$_;" } @queries));
my $seq_out = q1(join("\n", $force_seq, map { "$_;" } @queries));
my @i = split /\n/, $idx_out;
my @b = split /\n/, $bm_out;
my @s = split /\n/, $seq_out;
for my $n (0 .. $#queries)
{
	is($i[$n], $s[$n], "index = seqscan: $queries[$n]");
	is($b[$n], $s[$n], "bitmap = seqscan: $queries[$n]");
}

# inserts routed to partitions are indexed, updates of the partition key
# move rows between partitions (and their learned indexes); a detached
# partition keeps its index
q1(q{
	INSERT INTO p SELECT g, (random() * 699999)::int8, now() FROM generate_series(600001, 610000) g;
	INSERT INTO p VALUES (610001, NULL, NULL);
	UPDATE p SET k = k + 100000 WHERE k BETWEEN 50000 AND 60000;
	UPDATE p SET k = NULL WHERE k BETWEEN 450000 AND 451000;
	UPDATE p SET k = 1 WHERE id IN (150001, 150002);
	ALTER TABLE p DETACH PARTITION p6;
});
for my $idx (qw(p1_k_idx p2_k_idx p5_k_idx pnull_k_idx))
{
	is(q1("SELECT learned_index_check('$idx', true)"), '', "after moving updates: $idx check passes");
}
is( q1(q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'p6_own'::regclass}),
	'0', 'DETACH: p6_own no longer a partition of p_k');
is( q1(q{SELECT count(*) FROM pg_class WHERE relname = 'p6_own'}), '1', 'DETACH: p6_own kept');
for my $q (@queries[1, 2, 3, 4, 5])
{
	is(q1("$force_index $q"), q1("$force_seq $q"), "after inserts + detach: $q");
}
is( q1("$force_index SELECT $fp FROM p6 WHERE k > 550000"),
	q1("$force_seq SELECT $fp FROM p6 WHERE k > 550000"),
	'detached p6 still answers through p6_own');

# CREATE INDEX ON ONLY + ALTER INDEX ATTACH PARTITION
q1('CREATE INDEX p_ts ON ONLY p USING learned (ts)');
is(q1(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'p_ts'::regclass}),
	'f', 'ON ONLY index is invalid until every partition is attached');
my @leaves = qw(p1 p2 p3a p3b p4 p5 p7 pnull);
for my $leaf (@leaves)
{
	q1("CREATE INDEX ${leaf}_ts ON $leaf USING learned (ts)");
	my $parent = $leaf =~ /^p3/ ? 'p3_ts' : 'p_ts';
	q1('CREATE INDEX p3_ts ON ONLY p3 USING learned (ts)') if $leaf eq 'p3a';
	q1("ALTER INDEX $parent ATTACH PARTITION ${leaf}_ts");
	q1('ALTER INDEX p_ts ATTACH PARTITION p3_ts') if $leaf eq 'p3b';
}
is(q1(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'p_ts'::regclass}),
	't', 'p_ts valid once every partition index is attached');
$plan = q1("$force_index EXPLAIN (COSTS OFF) SELECT * FROM p WHERE ts = '2024-01-02 00:00'");
like($plan, qr/using p1_ts on p1/, 'ts query uses the attached learned indexes');
my $tq = "SELECT $fp FROM p WHERE ts BETWEEN '2024-01-20' AND '2024-06-15'";
is(q1("$force_index $tq"), q1("$force_seq $tq"), "ts index = seqscan: $tq");

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

$node->stop;
done_testing();
