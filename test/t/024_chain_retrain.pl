# A retrain triggered by a long delta chain (ascending keys all landing on
# the last leaf until its chain has LEARNED_MAX_DELTA_CHAIN pages: serial
# ids, time stamps) looks for dirty leaves from that chain's leaf on, and
# stops once it has found as many as the metapage counts overflowed.
# Before, it started at the slice hint (after a build: the first leaf) and
# read the state of every leaf on the way to the last one: O(leaves) page
# reads per retrain, under serial ids one retrain every ~2 300 rows.  The
# count comes from the retrain's own DEBUG1 line ("N leaf states read"),
# bounded relative to the index's leaf count; then the index must return
# what a sequential scan does and learned_index_check(heapallindexed) pass.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION learned_index');

# 300k keys in random heap order; fillfactor 10 for many leaves
$node->safe_psql('postgres', q{
	CREATE TABLE cr (k int8, v int);
	INSERT INTO cr SELECT g, g FROM generate_series(1, 300000) g ORDER BY hashint8(g);
	CREATE INDEX cr_k ON cr USING learned (k) WITH (fillfactor = 10);
	CREATE SEQUENCE cr_s START 300001;
});
my $leaves = $node->safe_psql('postgres', "SELECT leaf_pages FROM learned_index_stats('cr_k')");
cmp_ok($leaves, '>', 800, "many leaves ($leaves)");

# the "local" retrain slices in a psql session's DEBUG1 output
sub local_slices
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1;\n$sql");
	is($ret, 0, 'statements succeed');
	my @reads;
	while ($err =~ /retrain slice of "cr_k": (\d+) of (\d+) leaves rewritten \(local\), (\d+) leaf states read/g)
	{
		push @reads, [ $1, $2, $3 ];
	}
	return @reads;
}

# one batch of 6000 ascending keys (fewer than a bulk merge takes): appended
# at commit to the last leaf's tail and delta chain, then that leaf retrained
my @s = local_slices('INSERT INTO cr SELECT nextval(\'cr_s\'), 0 FROM generate_series(1, 6000)');
cmp_ok(scalar(@s), '>=', 1, 'the batch retrained the last leaf');
for my $r (@s)
{
	cmp_ok($r->[2], '<', $r->[1] / 4,
		"batch: $r->[0] of $r->[1] leaves rewritten, $r->[2] leaf states read");
}

# serial ids, one row per transaction: each long chain retrains the last leaf
my $rows = join('', map { "INSERT INTO cr VALUES (nextval('cr_s'), $_);\n" } 1 .. 8000);
@s = local_slices($rows);
cmp_ok(scalar(@s), '>=', 2, 'single-row commits retrained the last leaf ' . scalar(@s) . ' times');
my $most = 0;
for my $r (@s)
{
	$most = $r->[2] if $r->[2] > $most;
}
cmp_ok($most, '<', $leaves / 4, "single rows: at most $most leaf states read per retrain");

# the index returns what a sequential scan does, and the check passes
my $q = "SELECT count(*), sum(k), sum(v) FROM cr WHERE k > 250000";
my $idx = $node->safe_psql('postgres',
	"SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
my $seq = $node->safe_psql('postgres',
	"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
is($idx, $seq, "index = seq scan ($seq)");
like($node->safe_psql('postgres',
	"SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) $q"),
	qr/Index (Only )?Scan using cr_k/, 'the comparison used the learned index');
my ($r, $o, $e) = $node->psql('postgres', "SELECT learned_index_check('cr_k', true)");
is($e, '', 'learned_index_check(heapallindexed)');

$node->stop;
done_testing();
