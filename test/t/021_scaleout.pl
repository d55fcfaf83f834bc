# Scale-out with PostgreSQL's own tools: a coordinator and two shard
# clusters.  Each shard holds a table "items" with a learned index on k;
# the coordinator has a table partitioned by range on k whose two
# partitions are postgres_fdw foreign tables pointing at the shards, plus a
# single-node table "single" (with a learned index) holding the same rows.
#
# Checked, for a set of point / range / ORDER BY LIMIT queries (keys chosen
# from the data, not hard-coded):
# * EXPLAIN VERBOSE on the coordinator shows each predicate in the Remote
#   SQL of the foreign scan (pushed down), and pruning to the shard(s)
#   that hold the range;
# * ORDER BY k [DESC] ... LIMIT: the ORDER BY is in the Remote SQL (the
#   shard returns its rows in index order to the coordinator's ordered
#   Append), the LIMIT stays on the coordinator;
# * the shard answers through its learned index: EXPLAIN of that Remote SQL
#   on the shard uses items_k, and its pg_stat_user_indexes.idx_scan grows
#   after the coordinator's query (for a LIMIT query, on the shards holding
#   keys of the answer: the ordered Append stops reading at the limit);
# * the answer equals the single-node table's;
# * inserts (single rows and a batch) and a delete through the coordinator
#   land on the right shard (each shard's rows equal the single table's
#   rows of its range) and are found through the index there;
# * with enable_partitionwise_aggregate, a GROUP BY k is computed on the
#   shards (Remote SQL has GROUP BY) and still equals the single table's;
# * learned_index_check(items_k, true) passes on each shard;
# * a hot standby of shard 1 (a second partitioned table on the
#   coordinator reads shard 1 through it) serves the same pushed-down
#   queries through its learned index with the same answers, after
#   wait_for_catchup.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $split = 100000;    # shard 1: [0, 100000), shard 2: [100000, 200000)

my $coord = PostgreSQL::Test::Cluster->new('coord');
$coord->init;
$coord->start;
my $shard1 = PostgreSQL::Test::Cluster->new('shard1');
$shard1->init(allows_streaming => 1);
$shard1->start;
my $shard2 = PostgreSQL::Test::Cluster->new('shard2');
$shard2->init;
$shard2->start;

$shard1->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('shard1_standby');
$standby->init_from_backup($shard1, 'bk', has_streaming => 1);
$standby->start;

# the same rows everywhere: distinct keys plus some duplicates
my $gen = q{
	SELECT (g::bigint * 7919) % 200000 AS k, 'v' || g AS v FROM generate_series(1, 60000) g
	UNION ALL
	SELECT (g::bigint * 37) % 200000, 'd' || g FROM generate_series(1, 3000) g
};

my %range = (shard1 => "k >= 0 AND k < $split", shard2 => "k >= $split AND k < 200000");
for my $s ([ $shard1, 'shard1' ], [ $shard2, 'shard2' ])
{
	my ($node, $name) = @$s;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION learned_index;
		CREATE TABLE items (k bigint, v text);
		INSERT INTO items SELECT * FROM ($gen) s WHERE $range{$name};
		CREATE INDEX items_k ON items USING learned (k);
		ANALYZE items;
	});
}

sub server_sql
{
	my ($server, $node) = @_;
	my ($host, $port) = ($node->host, $node->port);
	return qq{
		CREATE SERVER $server FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$host', port '$port', dbname 'postgres',
			         use_remote_estimate 'true', batch_size '100');
		CREATE USER MAPPING FOR CURRENT_USER SERVER $server;
	};
}

$coord->safe_psql('postgres',
	"CREATE EXTENSION postgres_fdw; CREATE EXTENSION learned_index;"
	  . server_sql('shard1', $shard1)
	  . server_sql('shard2', $shard2)
	  . server_sql('shard1_ro', $standby)
	  . qq{
	CREATE TABLE items (k bigint, v text) PARTITION BY RANGE (k);
	CREATE FOREIGN TABLE items_s1 PARTITION OF items FOR VALUES FROM (0) TO ($split)
		SERVER shard1 OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE items_s2 PARTITION OF items FOR VALUES FROM ($split) TO (200000)
		SERVER shard2 OPTIONS (table_name 'items');
	-- reads of shard 1 from its hot standby
	CREATE TABLE items_ro (k bigint, v text) PARTITION BY RANGE (k);
	CREATE FOREIGN TABLE items_ro_s1 PARTITION OF items_ro FOR VALUES FROM (0) TO ($split)
		SERVER shard1_ro OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE items_ro_s2 PARTITION OF items_ro FOR VALUES FROM ($split) TO (200000)
		SERVER shard2 OPTIONS (table_name 'items');
	ANALYZE items;

	CREATE TABLE single (k bigint, v text);
	INSERT INTO single SELECT * FROM ($gen) s;
	CREATE INDEX single_k ON single USING learned (k);
	ANALYZE single;
});

my %node_of = (
	items_s1    => $shard1,
	items_s2    => $shard2,
	items_ro_s1 => $standby,
	items_ro_s2 => $shard2);
my %node_name = (items_s1 => 'shard1', items_s2 => 'shard2',
	items_ro_s1 => 'standby', items_ro_s2 => 'shard2');

sub idx_scan
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'items_k'");
}

# keys from the data (via the single table): the n-th smallest key
sub nth_key
{
	return $coord->safe_psql('postgres', "SELECT k FROM single ORDER BY k OFFSET $_[0] LIMIT 1");
}

# Each query: SQL with T for the table, the predicate text expected in the
# Remote SQL (a regex), and the partitions it should touch (pruning).
sub build_queries
{
	my $p1 = nth_key(1234);                     # on shard 1
	my $p2 = nth_key(50000);                    # on shard 2
	my $dup = $coord->safe_psql('postgres',
		"SELECT k FROM single GROUP BY k HAVING count(*) > 1 ORDER BY k LIMIT 1 OFFSET 3");
	my $missing = $coord->safe_psql('postgres',
		"SELECT min(g) FROM generate_series(150000, 200000) g WHERE NOT EXISTS (SELECT FROM single WHERE k = g)");
	my ($a1, $b1) = (nth_key(5000), nth_key(5300));
	my ($a2, $b2) = (nth_key(40000), nth_key(40400));
	my $rows = q{count(*), coalesce(sum(k), 0), md5(coalesce(string_agg(k || ':' || v, ',' ORDER BY k, v), ''))};
	return (
		[ "SELECT string_agg(v, ',' ORDER BY v) FROM T WHERE k = $p1",
		  qr/WHERE \(\(k = $p1\)\)/, ['s1'] ],
		[ "SELECT string_agg(v, ',' ORDER BY v) FROM T WHERE k = $p2",
		  qr/WHERE \(\(k = $p2\)\)/, ['s2'] ],
		[ "SELECT string_agg(v, ',' ORDER BY v) FROM T WHERE k = $dup",
		  qr/WHERE \(\(k = $dup\)\)/, [ $dup < $split ? 's1' : 's2' ] ],
		[ "SELECT count(*) FROM T WHERE k = $missing",
		  qr/WHERE \(\(k = $missing\)\)/, ['s2'] ],
		[ "SELECT $rows FROM T WHERE k BETWEEN $a1 AND $b1",
		  qr/WHERE \(\(k >= $a1\)\) AND \(\(k <= $b1\)\)/, ['s1'] ],
		[ "SELECT $rows FROM T WHERE k >= $a2 AND k < $b2",
		  qr/WHERE \(\(k >= $a2\)\) AND \(\(k < $b2\)\)/, ['s2'] ],
		[ "SELECT $rows FROM T WHERE k BETWEEN 99000 AND 101000",
		  qr/WHERE \(\(k >= 99000\)\) AND \(\(k <= 101000\)\)/, [ 's1', 's2' ] ],
		[ "SELECT $rows FROM T WHERE k < 300",
		  qr/WHERE \(\(k < 300\)\)/, ['s1'] ],
		[ "SELECT $rows FROM T WHERE k > 199700",
		  qr/WHERE \(\(k > 199700\)\)/, ['s2'] ],
		[ "SELECT string_agg(k::text, ',') FROM (SELECT k FROM T WHERE k > 99950 ORDER BY k LIMIT 20) s",
		  qr/WHERE \(\(k > 99950\)\)/, [ 's1', 's2' ] ],
		[ "SELECT string_agg(k::text, ',') FROM (SELECT k FROM T WHERE k < 100100 ORDER BY k DESC LIMIT 20) s",
		  qr/WHERE \(\(k < 100100\)\)/, [ 's1', 's2' ] ],
		[ "SELECT string_agg(k::text, ',') FROM (SELECT k FROM T WHERE k >= $a1 ORDER BY k LIMIT 10) s",
		  qr/WHERE \(\(k >= $a1\)\)/, [ 's1', 's2' ] ],
	);
}

# foreign partitions in a plan, e.g. (items_s1) or (items_s1, items_s2)
sub partitions_in
{
	my ($plan) = @_;
	my %p;
	$p{$1} = 1 while $plan =~ /public\.(items(?:_ro)?_s[12])\b/g;
	return sort keys %p;
}

sub run_queries
{
	my ($label, $table, $set) = @_;
	$set //= '';
	for my $q (build_queries())
	{
		my ($sql_t, $remote_re, $parts) = @$q;
		(my $sql = $sql_t) =~ s/\bT\b/$table/g;
		(my $single_sql = $sql_t) =~ s/\bT\b/single/g;

		my $plan = $coord->safe_psql('postgres', "$set EXPLAIN (VERBOSE, COSTS OFF) $sql");
		my @want = map { $table . '_' . $_ } @$parts;
		is(join(',', partitions_in($plan)), join(',', @want), "$label: pruned to @want: $sql");
		my @remote = ($plan =~ /Remote SQL: (.*)$/mg);
		is(scalar(@remote), scalar(@want), "$label: one remote query per partition: $sql");
		for my $r (@remote)
		{
			like($r, $remote_re, "$label: predicate pushed down: $r");
			# ORDER BY goes to the shards (each returns its rows in index
			# order for the coordinator's ordered Append); LIMIT stays on
			# the coordinator, above the Append
			if ($sql =~ /ORDER BY k( DESC)? LIMIT/)
			{
				my $dir = $1 ? 'DESC' : 'ASC';
				like($r, qr/ ORDER BY k $dir NULLS (FIRST|LAST)$/, "$label: ORDER BY k $dir pushed down: $r");
				unlike($r, qr/LIMIT/, "$label: LIMIT not in the Remote SQL of a partition: $r");
			}
		}

		# EXPLAIN of each remote query on its shard uses the learned index
		for my $i (0 .. $#want)
		{
			my $node = $node_of{ $want[$i] };
			my $shard_plan = $node->safe_psql('postgres', "EXPLAIN (COSTS OFF) $remote[$i]");
			like($shard_plan, qr/(Index|Index Only|Bitmap Index) Scan (Backward )?(using|on) items_k/,
				"$label: $node_name{$want[$i]} plans $remote[$i] with items_k");
			note("$label: $node_name{$want[$i]}: " . join(' / ', grep { /Scan/ } split /\n/, $shard_plan));
		}

		my %before = map { $_ => idx_scan($node_of{$_}) } @want;
		my $got = $coord->safe_psql('postgres', "$set $sql");
		my $expect = $coord->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $single_sql");
		my $single_idx = $coord->safe_psql('postgres',
			"SET enable_seqscan = off; $single_sql");
		isnt($expect, '', "$label: the answer is not empty: $single_sql");
		is($single_idx, $expect, "$label: single table, learned index = seq scan: $single_sql");
		is($got, $expect, "$label: sharded = single table: $sql");

		# the coordinator's session has ended, so have its connections to
		# the shards, whose backends flushed their statistics on exit.  With
		# ORDER BY ... LIMIT the ordered Append reads the partitions in key
		# order and stops at the limit, so a shard is only required to have
		# scanned when it holds a key of the answer.
		my @scanned = @want;
		if ($sql =~ /LIMIT/)
		{
			my %holds;
			for my $k (split /,/, $got)
			{
				$holds{ $table . ($k < $split ? '_s1' : '_s2') } = 1;
			}
			@scanned = grep { $holds{$_} } @want;
			note("$label: LIMIT query read only @scanned of @want: $sql")
			  if @scanned < @want;
		}
		for my $p (@scanned)
		{
			ok( $node_of{$p}->poll_query_until('postgres',
					"SELECT idx_scan > $before{$p} FROM pg_stat_user_indexes WHERE indexrelname = 'items_k'"),
				"$label: idx_scan of items_k grew on $node_name{$p} ($before{$p} before): $sql");
		}
	}
}

# each shard holds exactly the single table's rows of its range (seq scan
# on the shard), and finds them through its index too
sub check_placement
{
	my ($label) = @_;
	my $agg = q{count(*), coalesce(sum(k), 0), md5(coalesce(string_agg(k || ':' || v, ',' ORDER BY k, v), ''))};
	for my $s ([ $shard1, 'shard1' ], [ $shard2, 'shard2' ])
	{
		my ($node, $name) = @$s;
		my $expect = $coord->safe_psql('postgres', "SELECT $agg FROM single WHERE $range{$name}");
		my $seq = $node->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; SELECT $agg FROM items");
		my $idx = $node->safe_psql('postgres',
			"SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT $agg FROM items WHERE $range{$name}");
		is($seq, $expect, "$label: $name holds the single table's rows of $range{$name}");
		is($idx, $expect, "$label: $name finds them through items_k");
		is($node->safe_psql('postgres', "SELECT learned_index_check('items_k', true)"),
			'', "$label: learned_index_check(items_k, true) on $name");
	}
}

check_placement('after load');
run_queries('load', 'items');

# With enable_partitionwise_aggregate, a GROUP BY on the partition key is
# computed on the shards (Remote SQL carries GROUP BY).  A plain count(*)
# over several partitions would need a partial aggregate, which
# postgres_fdw in PostgreSQL 15 does not push down: the shards return the
# rows of the WHERE and the coordinator counts them.
{
	my ($a1, $b1) = (nth_key(2000), nth_key(2500));
	my $set = 'SET enable_partitionwise_aggregate = on;';
	for my $sql (
		"SELECT string_agg(k || ':' || n, ',' ORDER BY k) FROM (SELECT k, count(*) AS n FROM items WHERE k BETWEEN $a1 AND $b1 GROUP BY k HAVING count(*) > 1) s",
		"SELECT string_agg(k || ':' || n, ',' ORDER BY k) FROM (SELECT k, count(*) AS n FROM items WHERE k BETWEEN 99000 AND 101000 GROUP BY k HAVING count(*) > 1) s")
	{
		my $plan = $coord->safe_psql('postgres', "$set EXPLAIN (VERBOSE, COSTS OFF) $sql");
		my @remote = ($plan =~ /Remote SQL: (.*)$/mg);
		ok(@remote > 0, "aggregate: remote queries for $sql");
		like($_, qr/^SELECT k, count\(\*\) FROM public\.items WHERE .* GROUP BY 1 HAVING .*$/,
			"aggregate pushed down: $_") for @remote;
		(my $single_sql = $sql) =~ s/\bitems\b/single/;
		isnt($coord->safe_psql('postgres', $single_sql), '', "aggregate: the answer is not empty: $single_sql");
		is($coord->safe_psql('postgres', "$set $sql"),
			$coord->safe_psql('postgres', $single_sql), "aggregate: sharded = single table: $sql");
	}
	my $plan = $coord->safe_psql('postgres',
		"$set EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM items WHERE k BETWEEN 99000 AND 101000");
	note("plain count(*) over two shards, Remote SQL: " . join(' | ', $plan =~ /Remote SQL: (.*)$/mg));
}

# inserts through the coordinator (routed to the foreign partitions, the
# batch with postgres_fdw's batch_size) and the same rows into single
my $ins = q{
	INSERT INTO T VALUES (0, 'zero'), (99999, 'edge1'), (100000, 'edge2'), (199999, 'edge3');
	INSERT INTO T SELECT (g::bigint * 104729) % 200000, 'ins' || g FROM generate_series(1, 3000) g;
};
(my $ins_items = $ins) =~ s/\bT\b/items/g;
(my $ins_single = $ins) =~ s/\bT\b/single/g;
$coord->safe_psql('postgres', $ins_items);
$coord->safe_psql('postgres', $ins_single);

# the inserted rows are found through the index on their shard
for my $k (0, 99999, 100000, 199999)
{
	my $node = $k < $split ? $shard1 : $shard2;
	my $q = "SELECT string_agg(v, ',' ORDER BY v) FROM items WHERE k = $k";
	like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $q"),
		qr/items_k/, "inserted key $k: the shard's plan uses items_k");
	is($node->safe_psql('postgres', "SET enable_seqscan = off; $q"),
		$coord->safe_psql('postgres', "SELECT string_agg(v, ',' ORDER BY v) FROM single WHERE k = $k"),
		"inserted key $k found through items_k on its shard");
}

# a delete through the coordinator is pushed down whole
my $del_key = nth_key(777);
like($coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) DELETE FROM items WHERE k = $del_key"),
	qr/Remote SQL: DELETE FROM public\.items WHERE \(\(k = $del_key\)\)/, 'delete is pushed down');
$coord->safe_psql('postgres', "DELETE FROM items WHERE k = $del_key");
$coord->safe_psql('postgres', "DELETE FROM single WHERE k = $del_key");
$_->safe_psql('postgres', 'VACUUM ANALYZE items') for ($shard1, $shard2);

check_placement('after inserts and delete');
run_queries('after inserts', 'items');

# reads on the hot standby of shard 1
$shard1->wait_for_catchup($standby, 'replay', $shard1->lsn('insert'));
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
run_queries('standby', 'items_ro');
is($standby->safe_psql('postgres', "SELECT learned_index_check('items_k', true)"),
	'', 'learned_index_check(items_k, true) on the standby');

# more writes on shard 1, replayed and served by the standby
$coord->safe_psql('postgres',
	"INSERT INTO items SELECT g, 'late' || g FROM generate_series(50000, 50400, 2) g;"
	  . "INSERT INTO single SELECT g, 'late' || g FROM generate_series(50000, 50400, 2) g;");
$shard1->wait_for_catchup($standby, 'replay', $shard1->lsn('insert'));
my $late = "SELECT count(*), sum(k), md5(string_agg(k || ':' || v, ',' ORDER BY k, v)) FROM T WHERE k BETWEEN 50000 AND 50400";
(my $late_ro = $late) =~ s/\bT\b/items_ro/;
(my $late_single = $late) =~ s/\bT\b/single/;
is($coord->safe_psql('postgres', $late_ro), $coord->safe_psql('postgres', $late_single),
	'standby serves rows inserted after it started, same as the single table');

done_testing();
