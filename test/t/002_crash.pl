# Crash right after CREATE INDEX, after inserts, and after a retrain: the
# index survives WAL replay and agrees with a sequential scan.  An unlogged
# table's learned index comes back empty (from its init fork) and usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "checkpoint_timeout = '1h'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION learned_index');

my $q = "SELECT count(*), coalesce(sum(k), 0), count(*) FILTER (WHERE k IS NULL) FROM t WHERE k > 100 OR k IS NULL";
my $qeq = "SELECT count(*) FROM t t1 WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.k = t1.k)";

sub compare
{
	my ($label) = @_;
	for my $query ($q, $qeq)
	{
		my $idx = $node->safe_psql('postgres',
			"SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; $query");
		my $seq = $node->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $query");
		is($idx, $seq, "$label: $query");
	}
	my $plan = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) SELECT k FROM t WHERE k = 5");
	like($plan, qr/using t_k/, "$label: learned index used");
}

$node->safe_psql('postgres', q{
	CREATE TABLE t (k int8);
	INSERT INTO t SELECT (random() * 1000000)::int8 FROM generate_series(1, 100000);
	INSERT INTO t SELECT NULL FROM generate_series(1, 10);
	CREATE INDEX t_k ON t USING learned (k);
	CREATE UNLOGGED TABLE u (k int4);
	INSERT INTO u SELECT g FROM generate_series(1, 10000) g;
	CREATE INDEX u_k ON u USING learned (k);
});
$node->stop('immediate');
$node->start;
compare('crash after CREATE INDEX');

is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table reset');
$node->safe_psql('postgres', 'INSERT INTO u SELECT g FROM generate_series(1, 5000) g');
is($node->safe_psql('postgres',
	'SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM u WHERE k BETWEEN 100 AND 199'),
	'100', 'unlogged index usable after reset');

$node->safe_psql('postgres', q{
	INSERT INTO t SELECT (random() * 1000000)::int8 FROM generate_series(1, 20000);
	INSERT INTO t SELECT 2000000 + g FROM generate_series(1, 3000) g;
	INSERT INTO t SELECT NULL FROM generate_series(1, 10);
	DELETE FROM t WHERE k % 5 = 0;
});
$node->stop('immediate');
$node->start;
compare('crash after inserts and deletes');

$node->safe_psql('postgres', 'VACUUM t');
$node->safe_psql('postgres', q{
	INSERT INTO t SELECT (random() * 1000000)::int8 FROM generate_series(1, 5000);
	SELECT learned_index_retrain('t_k');
	-- (few enough to stay in the leaves' tails: pending at the crash)
	INSERT INTO t SELECT (random() * 1000000)::int8 FROM generate_series(1, 500);
});
$node->stop('immediate');
$node->start;
compare('crash after vacuum and retrain');

my $stats = $node->safe_psql('postgres', 'SELECT max_error <= epsilon, pending > 0 FROM learned_index_stats(\'t_k\')');
is($stats, 't|t', 'stats after recovery');

done_testing();
