# pg_stat_progress_create_index during the build of a learned index: a
# CREATE INDEX on a few million rows (maintenance_work_mem small, so the
# sort spills) runs in one session while another polls the view.  The
# phases seen include "building index: scanning table" and at least one of
# "building index: sorting keys" / "building index: writing leaves and
# fitting model", blocks_done and tuples_done are non-zero at some poll,
# and the counters stay within their totals.  REINDEX and CREATE INDEX
# CONCURRENTLY report too.  The built index agrees with a sequential scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $rows = $ENV{LI_PROGRESS_ROWS} || 3000000;

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', qq{
maintenance_work_mem = '1MB'
max_parallel_maintenance_workers = 0
autovacuum = off
});
$node->start;

my $t0 = time;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION learned_index;
	BEGIN;
	CREATE TABLE t (k int8, pad int4);
	INSERT INTO t SELECT (random() * 1e12)::int8, 0 FROM generate_series(1, $rows);
	COMMIT;
	VACUUM ANALYZE t;
});
note(sprintf('loaded %d rows in %.1f s', $rows, time - $t0));

my $progress_sql = q{
	SELECT command, phase, blocks_total, blocks_done, tuples_total, tuples_done,
	       index_relid <> 0
	FROM pg_stat_progress_create_index WHERE relid = 't'::regclass
};

# Run $ddl in a background session and poll the progress view from another
# one until $ddl has finished.  Returns the list of samples
# [command, phase, blocks_total, blocks_done, tuples_total, tuples_done, has_index].
sub sample_progress
{
	my ($ddl) = @_;
	my $builder = $node->background_psql('postgres');
	my $poller = $node->background_psql('postgres');
	my @samples;
	my $start = time;

	my $first = $builder->query_until(qr/started/, "\\echo started\n$ddl;\n\\echo finished\n");
	my $finished = $first =~ /finished/;
	my $failed = 0;
	while (!$finished && time - $start < 120)
	{
		# one poll, without BackgroundPsql::query's per-query notes
		$poller->{stdin} .= "$progress_sql;\n\\echo '-- end of poll --'\n";
		$poller->{run}->pump until $poller->{stdout} =~ /-- end of poll --\n/;
		die "poll failed: $poller->{stderr}" if $poller->{stderr} ne '';
		my ($out) = $poller->{stdout} =~ /^(.*?)-- end of poll --\n/s;
		$poller->{stdout} = '';
		push @samples, [ split /\|/, $_ ] for grep { $_ ne '' } split /\n/, $out;
		$builder->{run}->pump_nb;
		$finished = $builder->{stdout} =~ /finished/;
		$failed = $builder->{stderr} =~ /ERROR/;
		last if $failed;
		usleep(5_000);
	}
	$builder->query_until(qr/finished/, '') unless $finished || $failed;
	is($builder->{stderr}, '', "$ddl: no error");
	my $dur = time - $start;
	$builder->quit;
	$poller->quit;
	note(sprintf("%s: %.1f s, %d samples", $ddl, $dur, scalar @samples));
	return @samples;
}

sub summarize
{
	my ($label, @samples) = @_;
	my %phases;
	my ($max_blocks, $max_tuples, $bad) = (0, 0, 0);
	for my $s (@samples)
	{
		my ($cmd, $phase, $btot, $bdone, $ttot, $tdone) = @$s;
		$phases{$phase}++;
		$max_blocks = $bdone if $bdone > $max_blocks;
		$max_tuples = $tdone if $tdone > $max_tuples;
		$bad++ if ($btot > 0 && $bdone > $btot) || ($ttot > 0 && $tdone > $ttot);
	}
	note("$label phases: " . join(', ', map { "$_ ($phases{$_})" } sort keys %phases));
	note("$label max blocks_done $max_blocks, max tuples_done $max_tuples");
	return (\%phases, $max_blocks, $max_tuples, $bad);
}

# ------------------------------------------------------------------
# CREATE INDEX
# ------------------------------------------------------------------
my @samples = sample_progress('CREATE INDEX t_k ON t USING learned (k)');
my ($phases, $max_blocks, $max_tuples, $bad) = summarize('CREATE INDEX', @samples);
cmp_ok(scalar @samples, '>=', 5, 'CREATE INDEX: the progress view was sampled several times');
ok(!grep({ $_->[0] ne 'CREATE INDEX' } @samples), 'command is CREATE INDEX in every sample');
ok($phases->{'building index: scanning table'}, 'phase "building index: scanning table" reported');
ok( $phases->{'building index: sorting keys'}
	  || $phases->{'building index: writing leaves and fitting model'},
	'phase "sorting keys" or "writing leaves and fitting model" reported');
ok(!grep({ /^building index: $/ || /\bnull\b/ } keys %$phases), 'no build phase without a name');
cmp_ok($max_blocks, '>', 0, 'blocks_done > 0 at some poll');
cmp_ok($max_tuples, '>', 0, 'tuples_done > 0 at some poll');
is($bad, 0, 'done counters never exceed their totals');
my ($relpages) = $node->safe_psql('postgres', q{SELECT relpages FROM pg_class WHERE relname = 't'});
ok((grep { $_->[2] == $relpages } grep { $_->[1] eq 'building index: scanning table' } @samples),
	"blocks_total during the table scan = the table's $relpages pages");
ok((grep { $_->[4] == $rows } grep { $_->[1] eq 'building index: writing leaves and fitting model' } @samples)
	  || !$phases->{'building index: writing leaves and fitting model'},
	"tuples_total while writing leaves = $rows");

is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_progress_create_index}),
	'0', 'nothing left in the view afterwards');

# ------------------------------------------------------------------
# REINDEX
# ------------------------------------------------------------------
@samples = sample_progress('REINDEX INDEX t_k');
($phases, $max_blocks, $max_tuples, $bad) = summarize('REINDEX', @samples);
cmp_ok(scalar @samples, '>=', 5, 'REINDEX: sampled several times');
ok(!grep({ $_->[0] ne 'REINDEX' } @samples), 'command is REINDEX in every sample');
ok($phases->{'building index: scanning table'}, 'REINDEX: "building index: scanning table" reported');
ok( $phases->{'building index: sorting keys'}
	  || $phases->{'building index: writing leaves and fitting model'},
	'REINDEX: "sorting keys" or "writing leaves and fitting model" reported');
cmp_ok($max_blocks, '>', 0, 'REINDEX: blocks_done > 0 at some poll');
cmp_ok($max_tuples, '>', 0, 'REINDEX: tuples_done > 0 at some poll');
is($bad, 0, 'REINDEX: done counters never exceed their totals');

# ------------------------------------------------------------------
# CREATE INDEX CONCURRENTLY: build and validation phases
# ------------------------------------------------------------------
@samples = sample_progress('CREATE INDEX CONCURRENTLY t_k2 ON t USING learned (k)');
($phases, $max_blocks, $max_tuples, $bad) = summarize('CREATE INDEX CONCURRENTLY', @samples);
ok(!grep({ $_->[0] ne 'CREATE INDEX CONCURRENTLY' } @samples),
	'command is CREATE INDEX CONCURRENTLY in every sample');
ok($phases->{'building index: scanning table'}, 'CIC: "building index: scanning table" reported');
ok((grep { /^index validation/ } keys %$phases), 'CIC: an "index validation" phase reported');
is($bad, 0, 'CIC: done counters never exceed their totals');

# ------------------------------------------------------------------
# the indexes are right
# ------------------------------------------------------------------
for my $idx (qw(t_k t_k2))
{
	is($node->safe_psql('postgres', "SELECT learned_index_check('$idx', true)"), '',
		"learned_index_check('$idx', true) passes");
}
my $q = 'SELECT count(*), sum(k) FROM t WHERE k BETWEEN 100000000000 AND 100300000000';
my $via_idx = $node->safe_psql('postgres', "SET enable_seqscan = off; SET enable_bitmapscan = off; $q");
my $via_seq = $node->safe_psql('postgres', "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; $q");
is($via_idx, $via_seq, 'index = seqscan');
is( $node->safe_psql('postgres', q{SELECT keys FROM learned_index_stats('t_k')}),
	$rows, "learned_index_stats: keys = $rows");

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

$node->stop;
done_testing();
