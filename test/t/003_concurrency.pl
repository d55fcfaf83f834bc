# Concurrency stress: 8 pgbench clients mix inserts (single rows and small
# batches, random and ascending keys, NULLs), point and range selects
# through the learned index, deletes, and a client that runs VACUUM and
# learned_index_retrain(); with a low retrain_threshold so that
# threshold-triggered, segment-local retrains happen too; upserts (INSERT
# ... ON CONFLICT on a unique btree of another column, a small domain so
# that speculative insertions lose races), transactions with savepoints
# rolled back, and cursors held open across inserts.  Afterwards the index
# agrees with a sequential scan and learned_index_check() passes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{LI_STRESS_SECONDS} || 60;

my $node = PostgreSQL::Test::Cluster->new('stress');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 40
autovacuum_naptime = 1s
autovacuum_vacuum_insert_threshold = 2000
deadlock_timeout = 100ms
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE s (k int8, v int, id int UNIQUE);
	INSERT INTO s SELECT (random() * 1000000)::int8, 0 FROM generate_series(1, 200000);
	CREATE INDEX s_k ON s USING learned (k) WITH (retrain_threshold = 0.02);
	CREATE SEQUENCE asc_seq START 2000000;
});

my %scripts = (
	'insert_random@20' => q{
\set k random(1, 1000000)
INSERT INTO s VALUES (:k, 1);
},
	'insert_batch@5' => q{
\set k random(1, 1000000)
INSERT INTO s SELECT :k + g * 7, 2 FROM generate_series(1, 50) g;
},
	'insert_ascending@10' => q{
INSERT INTO s VALUES (nextval('asc_seq'), 3);
},
	'insert_null@2' => q{
INSERT INTO s VALUES (NULL, 4);
},
	'select_point@20' => q{
\set k random(1, 1000000)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM s WHERE k = :k;
},
	'select_range@10' => q{
\set k random(1, 1000000)
SET enable_seqscan = off;
SELECT count(*), sum(k) FROM s WHERE k BETWEEN :k AND :k + 5000;
},
	'select_order@5' => q{
\set k random(1, 1000000)
SET enable_seqscan = off;
SELECT k FROM s WHERE k > :k ORDER BY k LIMIT 20;
SELECT k FROM s WHERE k < :k ORDER BY k DESC LIMIT 20;
},
	'delete@5' => q{
\set k random(1, 1000000)
DELETE FROM s WHERE k BETWEEN :k AND :k + 30;
},
	'upsert@6' => q{
\set id random(1, 3000)
\set k random(1, 1000000)
INSERT INTO s (k, v, id) VALUES (:k, 5, :id) ON CONFLICT (id) DO UPDATE SET k = EXCLUDED.k;
INSERT INTO s (k, v, id) VALUES (:k + 1, 5, :id + 3000) ON CONFLICT DO NOTHING;
},
	'savepoint@4' => q{
\set k random(1, 1000000)
BEGIN;
INSERT INTO s SELECT :k + g, 7 FROM generate_series(1, 30) g;
SAVEPOINT a;
INSERT INTO s SELECT :k + g, 6 FROM generate_series(1, 30) g;
SELECT count(*) FROM s WHERE k = :k;
ROLLBACK TO a;
SAVEPOINT b;
INSERT INTO s SELECT :k - g, 7 FROM generate_series(1, 10) g;
RELEASE b;
COMMIT;
},
	'cursor@3' => q{
\set k random(1, 1000000)
BEGIN;
SET LOCAL enable_seqscan = off;
DECLARE c CURSOR FOR SELECT k FROM s WHERE k > :k ORDER BY k;
FETCH 5 FROM c;
INSERT INTO s SELECT :k + g * 3, 8 FROM generate_series(1, 200) g;
FETCH 5 FROM c;
COMMIT;
},
	'maintenance@1' => q{
VACUUM s;
SELECT learned_index_retrain('s_k');
},
);
my %files;
for my $name (keys %scripts)
{
	my ($base, $w) = split /@/, $name;
	$files{"$base.sql\@$w"} = $scripts{$name};
}

$node->pgbench(
	"--no-vacuum --client=8 --jobs=2 --time=$seconds --protocol=simple",
	0,
	[qr{processed: [1-9]}],
	[qr{^$}],
	"pgbench: 8 clients for $seconds s",
	\%files);

my $ops = $node->safe_psql('postgres', 'SELECT count(*) FROM s');
note("rows after the run: $ops");

for my $q (
	"SELECT count(*), coalesce(sum(k), 0) FROM s WHERE k > 0",
	"SELECT count(*) FROM s WHERE k IS NULL",
	"SELECT count(*), coalesce(sum(k), 0) FROM s WHERE k > 0 AND v = 6",
	"SELECT count(*), coalesce(sum(k), 0), coalesce(sum(id), 0) FROM s WHERE k > 0 AND v = 5",
	"SELECT count(*), coalesce(sum(k), 0) FROM s WHERE k BETWEEN 250000 AND 750000",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM s WHERE k > 500000 ORDER BY k LIMIT 50) x",
	"SELECT count(*) FROM s s1 WHERE EXISTS (SELECT 1 FROM s s2 WHERE s2.k = s1.k)")
{
	my $idx = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; $q");
	my $seq = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
	is($idx, $seq, "index = seqscan: $q");
}

is($node->safe_psql('postgres',
	"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM s WHERE v = 6"),
	'0', 'rows of rolled-back savepoints are gone');
is($node->safe_psql('postgres', "SELECT learned_index_check('s_k', true)"), '',
	'learned_index_check with heapallindexed passes');
my $stats = $node->safe_psql('postgres',
	'SELECT retrains > 0, max_error <= epsilon FROM learned_index_stats(\'s_k\')');
is($stats, 't|t', 'retrains happened and the bound holds');
note($node->safe_psql('postgres', 'SELECT * FROM learned_index_stats(\'s_k\')'));

$node->safe_psql('postgres', 'VACUUM s');
is($node->safe_psql('postgres', "SELECT learned_index_check('s_k', true)"), '',
	'check passes after the final VACUUM');
my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

done_testing();
