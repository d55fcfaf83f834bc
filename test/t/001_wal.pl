# Streaming replica with wal_consistency_checking: every WAL record the
# learned index writes (build, inserts, deletes, vacuum, retrain) replays on
# a hot standby, which then answers index queries exactly as the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\n");
$primary->start;
# a slot keeps the WAL the standby still needs: with consistency checking
# every record carries page images, and a slow (loaded) standby must not
# find its next segment recycled
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('standby_slot')");
my $backup = 'bk';
$primary->backup($backup);
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, $backup, has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'\n");
$standby->start;

$primary->safe_psql('postgres', 'CREATE EXTENSION learned_index');

my @queries = (
	"SELECT count(*), coalesce(sum(k), 0) FROM t WHERE k BETWEEN 1000 AND 90000",
	"SELECT string_agg(k::text, ',' ORDER BY k) FROM (SELECT k FROM t WHERE k > 50000 ORDER BY k LIMIT 20) s",
	"SELECT string_agg(coalesce(k::text, 'null'), ',') FROM (SELECT k FROM t ORDER BY k DESC LIMIT 20) s",
	"SELECT count(*) FROM t WHERE k IS NULL",
	"SELECT count(*) FROM t WHERE k = 4242",
	"SELECT count(*) FROM t WHERE f < 0.5",
);

sub check_same
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $q (@queries)
	{
		my $set = "SET enable_seqscan = off; SET enable_bitmapscan = off;";
		my $p = $primary->safe_psql('postgres', "$set $q");
		my $s = $standby->safe_psql('postgres', "$set $q");
		my $seq = $primary->safe_psql('postgres',
			"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
		is($s, $p, "$label: standby = primary: $q");
		is($p, $seq, "$label: index = seqscan: $q");
	}
}

$primary->safe_psql('postgres', q{
	CREATE TABLE t (k bigint, f float8);
	INSERT INTO t SELECT (random() * 100000)::bigint, random() FROM generate_series(1, 50000);
	INSERT INTO t SELECT NULL, random() FROM generate_series(1, 100);
	CREATE INDEX t_k ON t USING learned (k);
	CREATE INDEX t_f ON t USING learned (f) WITH (epsilon = 8);
});
check_same('after build');

for my $round (1 .. 3)
{
	$primary->safe_psql('postgres', qq{
		INSERT INTO t SELECT (random() * 100000)::bigint, random() FROM generate_series(1, 5000);
		INSERT INTO t SELECT 100000 + g + $round * 10000, random() FROM generate_series(1, 2000) g;
		INSERT INTO t SELECT NULL, NULL FROM generate_series(1, 50);
	});
	# single-row statements: each flushes a one-entry batch (one compact
	# append record per row, as pgbench's inserts write)
	$primary->safe_psql('postgres', q{
		DO $$ BEGIN
			FOR i IN 1 .. 300 LOOP
				INSERT INTO t VALUES ((random() * 100000)::bigint, random());
				IF i % 50 = 0 THEN INSERT INTO t VALUES (NULL, random()); END IF;
			END LOOP;
		END $$;
	});
	check_same("round $round after inserts");
	$primary->safe_psql('postgres', "DELETE FROM t WHERE k % 7 = $round");
	$primary->safe_psql('postgres', 'VACUUM t');
	check_same("round $round after delete + vacuum");
	$primary->safe_psql('postgres', q{
		INSERT INTO t SELECT (random() * 100000)::bigint, random() FROM generate_series(1, 1000);
		SELECT learned_index_retrain('t_k');
		SELECT learned_index_retrain('t_f');
	});
	check_same("round $round after retrain");
}

# replay found no inconsistency (wal_consistency_checking would FATAL)
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no inconsistent page in standby log');
ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'standby alive');

done_testing();
