# Errors at chosen points of a flush and of the retrain it may run
# (learned_index.debug_fault, assert-enabled builds only: skipped
# otherwise), inside a savepoint, a PL/pgSQL exception block or the
# transaction itself.  Whatever the point, every committed row must be in
# the index exactly once: the index (per-key counts) agrees with a
# sequential scan and learned_index_check(heapallindexed) passes.
#   batch_after_group      an append batch fails after its first leaf group
#   retrain_before_switch  a bulk-merge (or threshold) retrain fails before
#                          its metapage switch: nothing of it is in
#   retrain_after_switch   ... right after it: everything of it is in (before
#                          the fix, the flush's error path thought nothing
#                          was, kept the entries and wrote them again)
#   retrain_between_slices a retrain in slices fails after a slice: what
#                          the slices so far merged is in, the rest is not
# and a segment-local retrain, which freezes the leaves it rewrites instead
# of stopping every insert batch, failing before its switch (the marks stay
# on leaves that are still current: inserts into them must go on, clearing
# them) or after it, before it waited for running batches and recycled
# (the `retraining` flag stays set: batches must go on too).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fault');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION learned_index');
my ($ret, $out, $err) = $node->psql('postgres',
	"LOAD 'learned_index'; SET learned_index.debug_fault = 'none'");
if ($ret != 0)
{
	plan skip_all => 'learned_index.debug_fault needs an assert-enabled build (make LI_ASSERT=1)';
}

# per-key counts through the index and through a sequential scan
my $q = "SELECT coalesce(string_agg(k::text || 'x' || n::text, ',' ORDER BY k), '') FROM "
  . "(SELECT k, count(*) AS n FROM t WHERE k > -1000000000 GROUP BY k) c";

sub compare
{
	my ($label) = @_;
	my $plan = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) $q");
	like($plan, qr/Index Only Scan using t_k/, "$label: plan uses the learned index");
	my $idx = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
	my $seq = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
	ok($idx eq $seq, "$label: every row in the index exactly once");
	my ($r, $o, $e) = $node->psql('postgres', "SELECT learned_index_check('t_k', true)");
	is($e, '', "$label: learned_index_check(heapallindexed)");
}

# a fresh table: 100k keys, index retrain_threshold as given
sub reset_table
{
	my ($threshold) = @_;
	$node->safe_psql('postgres', qq{
		DROP TABLE IF EXISTS t;
		CREATE TABLE t (k int8, tag int);
		INSERT INTO t SELECT g * 10, 0 FROM generate_series(1, 100000) g;
		CREATE INDEX t_k ON t USING learned (k) WITH (retrain_threshold = $threshold);
	});
}

# $n parent rows: random (append path, many groups) or $n >= 10% (bulk merge)
sub parent_rows
{
	my ($n) = @_;
	return "INSERT INTO t SELECT (random() * 1000000)::int8 * 10 + 1, 1 FROM generate_series(1, $n);";
}

my @cases = (
	# point, parent rows, threshold, how the failing flush is wrapped
	['batch_after_group', 3000, 0.1, 'savepoint'],
	['batch_after_group', 3000, 0.1, 'plpgsql'],
	['batch_after_group', 3000, 0.1, 'top'],
	['retrain_before_switch', 20000, 0.1, 'savepoint'],
	['retrain_after_switch', 20000, 0.1, 'savepoint'],
	['retrain_after_switch', 20000, 0.1, 'plpgsql'],
	['retrain_after_switch', 20000, 0.1, 'top'],
	# a small batch overflowing many leaves at a tiny threshold: the
	# retrain it triggers fails after the batch is fully written
	['retrain_before_switch', 9000, 0.0001, 'savepoint'],
	['retrain_after_switch', 9000, 0.0001, 'savepoint'],
	# retrains in slices (retrain_slice_leaves = 1: 8 slices of ~10
	# leaves): the fault hits the first slice, after it, or between two;
	# what the slices before it merged is in the index, the rest of the
	# batch is flushed again later (or dropped with its level)
	['retrain_before_switch', 20000, 0.1, 'savepoint', 1],
	['retrain_after_switch', 20000, 0.1, 'savepoint', 1],
	['retrain_after_switch', 20000, 0.1, 'plpgsql', 1],
	['retrain_between_slices', 20000, 0.1, 'savepoint', 1],
	['retrain_between_slices', 20000, 0.1, 'plpgsql', 1],
	['retrain_between_slices', 20000, 0.1, 'top', 1]);

for my $c (@cases)
{
	my ($point, $n, $threshold, $wrap, $slice) = @$c;
	$slice //= 128;
	my $label = "$point, $n rows, threshold $threshold, $wrap, slices of $slice";
	reset_table($threshold);
	my $sql = "LOAD 'learned_index';\nSET learned_index.retrain_slice_leaves = $slice;\n"
	  . "SET learned_index.debug_fault = '$point';\nBEGIN;\n";
	$sql .= parent_rows($n) unless $wrap eq 'plpgsql';
	if ($wrap eq 'savepoint')
	{
		$sql .= "SAVEPOINT s;\nINSERT INTO t SELECT -g, 2 FROM generate_series(1, 50) g;\n"
		  . "ROLLBACK TO s;\nINSERT INTO t SELECT -g, 3 FROM generate_series(1, 50) g;\nCOMMIT;\n";
	}
	elsif ($wrap eq 'plpgsql')
	{
		# the parent's rows inside the DO block: a utility statement (DO)
		# flushes before it runs, the block's first statement inside it
		$sql .= "DO \$\$ BEGIN\n" . parent_rows($n) . q{
  BEGIN
    INSERT INTO t SELECT -g, 2 FROM generate_series(1, 50) g;
  EXCEPTION WHEN query_canceled THEN RAISE NOTICE 'caught: %', SQLERRM;
  END;
  INSERT INTO t SELECT -g, 3 FROM generate_series(1, 50) g;
END $$;
COMMIT;
};
	}
	else
	{
		$sql .= "SELECT 1;\nCOMMIT;\n";
	}
	my ($r, $o, $e) = $node->psql('postgres', $sql, on_error_stop => 0);
	like($e, qr/fault injected at $point/, "$label: the fault fired");
	compare($label);
	my $expect = $wrap eq 'top' ? 0 : $n;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE tag = 1'), $expect,
		"$label: the parent's rows are " . ($expect ? 'committed' : 'rolled back'));
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE tag = 2'), 0,
		"$label: no row of the rolled-back level");
}

# a failed segment-local retrain leaves frozen marks (or the flag) behind
for my $point ('retrain_before_switch', 'retrain_after_switch_barrier')
{
	my $label = "segment-local retrain failing at $point";
	reset_table(0);
	# 3000 keys in one key range: its leaves overflow into delta pages
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT 200001 + g * 10, 1 FROM generate_series(0, 2999) g");
	my ($r, $o, $e) = $node->psql('postgres',
		"LOAD 'learned_index'; SET learned_index.debug_fault = '$point'; "
		  . "SELECT learned_index_retrain('t_k')");
	like($e, qr/fault injected at $point/, "$label: the fault fired");
	compare("$label, before more inserts");
	# rows into the leaves the retrain froze, and elsewhere; in a savepoint
	# rolled back, and committed
	$node->safe_psql('postgres', q{
		BEGIN;
		INSERT INTO t SELECT 200003 + g * 10, 2 FROM generate_series(0, 99) g;
		SAVEPOINT s;
		INSERT INTO t SELECT 200005 + g * 10, 3 FROM generate_series(0, 99) g;
		ROLLBACK TO s;
		INSERT INTO t SELECT 700003 + g * 10, 2 FROM generate_series(0, 99) g;
		COMMIT;
	});
	compare("$label, rows into its frozen leaves");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE tag = 2'), 200,
		"$label: the committed rows are in");
	# the next retrain goes through, and inserts after it
	$node->safe_psql('postgres', "SELECT learned_index_retrain('t_k')");
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT 200007 + g * 10, 4 FROM generate_series(0, 99) g");
	compare("$label, a retrain and rows after");
}

$node->stop;
done_testing();
