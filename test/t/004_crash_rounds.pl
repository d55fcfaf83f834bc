# Crash recovery under load: 20 rounds of `pg_ctl stop -m immediate` while
# pgbench clients insert (single rows and batches, random and ascending
# keys, NULLs), delete and retrain.  After every restart the rows visible
# through the learned index equal a sequential scan, learned_index_check
# with heapallindexed passes (no committed row is missing from the index),
# and the server log shows no assertion failure.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $rounds = $ENV{LI_CRASH_ROUNDS} || 20;

my $node = PostgreSQL::Test::Cluster->new('crashrounds');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 30
checkpoint_timeout = '30s'
restart_after_crash = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE c (k int8, v int);
	INSERT INTO c SELECT (random() * 1000000)::int8, 0 FROM generate_series(1, 100000);
	CREATE INDEX c_k ON c USING learned (k) WITH (retrain_threshold = 0.02);
	CREATE SEQUENCE c_seq START 5000000;
});

my $dir = PostgreSQL::Test::Utils::tempdir;
my %scripts = (
	'ins.sql' => "\\set k random(1, 1000000)\nINSERT INTO c VALUES (:k, 1);\n",
	'batch.sql' => "\\set k random(1, 1000000)\nINSERT INTO c SELECT :k + g, 2 FROM generate_series(1, 40) g;\n",
	'asc.sql' => "INSERT INTO c VALUES (nextval('c_seq'), 3);\n",
	'null.sql' => "INSERT INTO c VALUES (NULL, 4);\n",
	'del.sql' => "\\set k random(1, 1000000)\nDELETE FROM c WHERE k BETWEEN :k AND :k + 50;\n",
	'sel.sql' => "\\set k random(1, 1000000)\nSELECT count(*) FROM c WHERE k BETWEEN :k AND :k + 1000;\n",
	'mnt.sql' => "SELECT learned_index_retrain('c_k');\nVACUUM c;\n",
);
for my $f (keys %scripts)
{
	open(my $fh, '>', "$dir/$f") or die;
	print $fh $scripts{$f};
	close $fh;
}

my $checked_rows = 0;
for my $round (1 .. $rounds)
{
	my ($out, $err) = ('', '');
	my @cmd = (
		'pgbench', '--no-vacuum', '--client=6', '--jobs=2', '--time=30',
		'--protocol=simple',
		'-f', "$dir/ins.sql\@20", '-f', "$dir/batch.sql\@5",
		'-f', "$dir/asc.sql\@10", '-f', "$dir/null.sql\@2",
		'-f', "$dir/del.sql\@5", '-f', "$dir/sel.sql\@10",
		'-f', "$dir/mnt.sql\@1",
		'-h', $node->host, '-p', $node->port, 'postgres');
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	# let the load run for 1.5-3.5 s, then crash
	select(undef, undef, undef, 1.5 + rand(2));
	$node->stop('immediate');
	$h->finish;			# pgbench fails when the server dies: expected

	$node->start;
	my $q = "SELECT count(*), coalesce(sum(k), 0) FROM c WHERE k > 0";
	my $idx = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
	my $seq = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
	is($idx, $seq, "round $round: index = seqscan ($seq)");
	my $nulls_idx = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM c WHERE k IS NULL");
	my $nulls_seq = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM c WHERE k IS NULL");
	is($nulls_idx, $nulls_seq, "round $round: NULLs agree");
	my ($ok, $stdout, $stderr) = $node->psql('postgres',
		"SELECT learned_index_check('c_k', true)");
	is($ok, 0, "round $round: learned_index_check passes") or diag($stderr);
	($checked_rows) = split /\|/, $seq;
}
note("rows in the table after the last round: $checked_rows");

$node->safe_psql('postgres', 'VACUUM c');
is($node->safe_psql('postgres', "SELECT learned_index_check('c_k', true)"), '',
	'check passes after a final VACUUM');
my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|server process .* was terminated by signal (?!9)/,
	'no assertion failure or unexpected crash');
note($node->safe_psql('postgres', "SELECT * FROM learned_index_stats('c_k')"));

done_testing();
