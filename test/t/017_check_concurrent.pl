# learned_index_check(index, heapallindexed => true) on a healthy index
# must never report corruption while other sessions write: pgbench clients
# insert (single rows, batches, NULLs), update (HOT and key-changing),
# delete and VACUUM while this session runs the check in a loop, and
# builds, checks, rebuilds (REINDEX CONCURRENTLY) and re-checks indexes
# with CREATE INDEX CONCURRENTLY.  The index on v is built over HOT chains
# whose v changed before it existed (broken HOT chains), so its entries
# name root TIDs whose root tuple has an older key.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $seconds = $ENV{LI_CHECK_SECONDS} || 20;

my $node = PostgreSQL::Test::Cluster->new('checkconc');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 30
deadlock_timeout = 100ms
autovacuum_naptime = 1s
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE s (id bigserial PRIMARY KEY, k int8, v int) WITH (fillfactor = 70);
	INSERT INTO s (k, v) SELECT (random() * 1000000)::int8, 0 FROM generate_series(1, 100000);
	INSERT INTO s (k, v) SELECT NULL, 0 FROM generate_series(1, 50);
	CREATE INDEX s_k ON s USING learned (k);
	VACUUM ANALYZE s;
});

my %scripts = (
	'ins.sql@20' => q{
\set k random(1, 1000000)
INSERT INTO s (k, v) VALUES (:k, 1);
},
	'ins_batch.sql@5' => q{
\set k random(1, 1000000)
INSERT INTO s (k, v) SELECT :k + g * 7, 2 FROM generate_series(1, 30) g;
},
	'ins_null.sql@1' => q{
INSERT INTO s (k, v) VALUES (NULL, 3);
},
	'upd_hot.sql@8' => q{
\set id random(1, 100000)
UPDATE s SET v = v + 1 WHERE id = :id;
},
	'upd_key.sql@4' => q{
\set id random(1, 100000)
\set k random(1, 1000000)
UPDATE s SET k = :k WHERE id = :id;
},
	'del.sql@3' => q{
\set id random(1, 100000)
DELETE FROM s WHERE id = :id;
},
	'vacuum.sql@1' => q{
VACUUM s;
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
my $start = time;
$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM s WHERE v > 0")
  or die "pgbench does not seem to run";

# every failure is reported once with its text; the loop goes on
my (%failures, $nchecks);

sub run_sql
{
	my ($what, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	if ($ret != 0)
	{
		$err =~ s/\n+$//;
		push @{ $failures{$what} }, $err;
	}
	return $ret;
}

# 1. the check in a loop while the clients write
my $loop_end = $start + $seconds / 2;
$nchecks = 0;
while (time < $loop_end)
{
	run_sql('check in a loop', "SELECT learned_index_check('s_k', true)");
	$nchecks++;
}
note("checks in the loop: $nchecks");

# 2. right after CREATE INDEX CONCURRENTLY and REINDEX INDEX CONCURRENTLY,
# still under load; v was HOT-updated before its index existed
my $rounds = 0;
while (time < $start + $seconds - 2 || $rounds < 2)
{
	for my $col (qw(k v))
	{
		my $idx = "s_${col}_cic";
		next
		  if run_sql("CREATE INDEX CONCURRENTLY on $col",
			"CREATE INDEX CONCURRENTLY $idx ON s USING learned ($col)");
		run_sql("check after CREATE INDEX CONCURRENTLY on $col",
			"SELECT learned_index_check('$idx', true)");
		run_sql("REINDEX INDEX CONCURRENTLY on $col",
			"REINDEX INDEX CONCURRENTLY $idx");
		run_sql("check after REINDEX INDEX CONCURRENTLY on $col",
			"SELECT learned_index_check('$idx', true)");
		run_sql("DROP INDEX on $col", "DROP INDEX $idx");
	}
	$rounds++;
}
note("CREATE/REINDEX CONCURRENTLY rounds: $rounds");

ok($bench->finish, 'pgbench exited successfully') or diag($bench_err);
like($bench_out, qr/processed: [1-9]/, 'pgbench processed transactions');

for my $what (
	'check in a loop',
	'CREATE INDEX CONCURRENTLY on k',
	'check after CREATE INDEX CONCURRENTLY on k',
	'REINDEX INDEX CONCURRENTLY on k',
	'check after REINDEX INDEX CONCURRENTLY on k',
	'CREATE INDEX CONCURRENTLY on v',
	'check after CREATE INDEX CONCURRENTLY on v',
	'REINDEX INDEX CONCURRENTLY on v',
	'check after REINDEX INDEX CONCURRENTLY on v',
	'DROP INDEX on k',
	'DROP INDEX on v')
{
	my $f = $failures{$what} || [];
	is(scalar(@$f), 0, "$what: no error under concurrent writes")
	  or diag(scalar(@$f) . " failures, first: $f->[0]");
}

# A non-concurrent CREATE INDEX over HOT chains that an open snapshot still
# needs sets indcheckxmin (its root entries carry the newest key): the
# check runs in READ COMMITTED (and follows the chains from their roots),
# and refuses a REPEATABLE READ snapshot older than the index.
{
	$node->safe_psql('postgres', q{
		CREATE TABLE h (k int8, v int) WITH (fillfactor = 50);
		INSERT INTO h SELECT g, g FROM generate_series(1, 200) g;
	});
	my $old = $node->background_psql('postgres', on_error_stop => 0);
	$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$old->query_safe('SELECT count(*) FROM h');
	$node->safe_psql('postgres', q{
		UPDATE h SET v = v + 1000 WHERE k <= 20;
		CREATE INDEX h_v ON h USING learned (v);
	});
	is($node->safe_psql('postgres',
		"SELECT indcheckxmin FROM pg_index WHERE indexrelid = 'h_v'::regclass"),
		't', 'broken HOT chains: indcheckxmin is set');
	is($node->safe_psql('postgres', "SELECT learned_index_check('h_v', true)"), '',
		'broken HOT chains: the check passes in READ COMMITTED');
	# the old snapshot would see the root versions, which h_v lacks
	$old->query("SELECT learned_index_check('h_v', true)");
	like($old->{stderr}, qr/cannot be verified using the transaction snapshot/,
		'a REPEATABLE READ snapshot older than an indcheckxmin index is refused');
	$old->{stderr} = '';
	$old->query_safe('ROLLBACK');
	$old->quit;
}

# quiet again: everything still checks out
is($node->safe_psql('postgres', "SELECT learned_index_check('s_k', true)"), '',
	'check passes after the load');
$node->safe_psql('postgres', 'VACUUM s');
is($node->safe_psql('postgres', "SELECT learned_index_check('s_k', true)"), '',
	'check passes after VACUUM');
my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

done_testing();
