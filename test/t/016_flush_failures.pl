# The insert buffer is written to the index when the next statement starts.
# That write (the "flush") can fail part-way -- here a statement_timeout
# cancels it at random points -- inside a savepoint or a PL/pgSQL exception
# block that then rolls back.  Entries of the enclosing (sub)transactions
# must survive exactly once: after every round the index must return the
# same rows as a sequential scan and learned_index_check(heapallindexed)
# must pass.  Before the fix the parent's entries were lost (index scans
# returned fewer rows than the table, the check reported missing entries).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('flushfail');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int8, tag int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 200000) g;
	INSERT INTO t SELECT NULL, 0 FROM generate_series(1, 50);
	CREATE INDEX t_k ON t USING learned (k);
});

my @q = (
	"SELECT count(*), coalesce(sum(k), 0), count(*) FILTER (WHERE tag = 2) FROM t WHERE k > -1000000000000",
	"SELECT count(*) FROM t WHERE k IS NULL");

# index and sequential scan agree, and the checker finds every heap tuple
sub compare
{
	my ($label) = @_;
	for my $q (@q)
	{
		my $plan = $node->safe_psql('postgres',
			"SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) $q");
		like($plan, qr/Index.*Scan using t_k/, "$label: plan uses the learned index");
		my $idx = $node->safe_psql('postgres',
			"SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
		my $seq = $node->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
		is($idx, $seq, "$label: index scan = seq scan: $q");
	}
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT learned_index_check('t_k', true)");
	is($err, '', "$label: learned_index_check(heapallindexed) passes");
	# rows inserted inside the rolled-back savepoint are gone (tag = 2)
	my $sub = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; "
		  . "SELECT count(*) FROM t WHERE tag = 2");
	is($sub, '0', "$label: entries of the rolled-back level are gone");
}

# The parent inserts n rows (half of them ascending above the index, some
# NULLs) in a statement that also sets a transaction-local statement
# timeout, so the timer starts with the next statements: SAVEPOINT (no
# flush), then a statement whose start flushes and may be cancelled.
sub parent_insert
{
	my ($n, $ms) = @_;
	return qq{
WITH ins AS (
  INSERT INTO t SELECT CASE WHEN g % 50 = 0 THEN NULL
                            WHEN g % 2 = 0 THEN (random() * 1e9)::int8
                            ELSE 1000000000 + g END, 1
  FROM generate_series(1, $n) g RETURNING 1)
SELECT count(*) > 0 AND set_config('statement_timeout', '${ms}ms', true) IS NOT NULL FROM ins;
};
}

my $timeouts = 0;
my $round = 0;
for my $variant ('savepoint', 'nested', 'plpgsql')
{
	for my $i (1 .. 12)
	{
		$round++;
		# small batches take the append path, large ones (>= 10% of the
		# index) the merge into a retrain
		my $n = ($i % 3 == 0) ? 40000 : 6000;
		my $ms = 1 + int(rand(6));
		my $sql = "BEGIN;\n" . parent_insert($n, $ms);
		if ($variant eq 'savepoint')
		{
			$sql .= "SAVEPOINT s;\nSELECT 1;\nROLLBACK TO s;\n";
		}
		elsif ($variant eq 'nested')
		{
			$sql .= "SAVEPOINT a;\nSAVEPOINT b;\n"
			  . "INSERT INTO t SELECT -g, 2 FROM generate_series(1, 3000) g;\n"
			  . "SAVEPOINT c;\nSELECT 1;\nROLLBACK TO c;\nROLLBACK TO b;\nRELEASE a;\n";
		}
		else
		{
			$sql .= q{
DO $$
BEGIN
  INSERT INTO t SELECT (random() * 1e9)::int8, 1 FROM generate_series(1, 5000);
  BEGIN
    INSERT INTO t SELECT -g, 2 FROM generate_series(1, 2000) g;
    PERFORM 1;
    RAISE EXCEPTION 'roll the block back';
  EXCEPTION WHEN query_canceled OR raise_exception THEN NULL;
  END;
END $$;
};
		}
		$sql .= "COMMIT;\n";
		my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
		$timeouts++ if $err =~ /statement timeout/;
		compare("$variant round $i") if $i % 4 == 0;
	}
}
compare('end');
cmp_ok($timeouts, '>', 0, "some flushes were cancelled ($timeouts of $round rounds)");

$node->stop;
done_testing();
