# Planner choices with learned indexes.  Three 1M-row tables with the same
# data (unique keys in random heap order): tl with a learned index, tb with
# a btree, tboth with both on the same column.  After ANALYZE, EXPLAIN at
# four selectivities (point, 10 rows, 1%, 50%): the learned index is chosen
# for the selective predicates, a seq scan or bitmap scan for the
# unselective one; on tboth, which index wins a point lookup is reported
# (asserted to be the learned one, TODO if the btree wins).  Every plan's
# result equals a sequential scan's.  Then each alternative is forced with
# enable_* settings (or by dropping the other index in a rolled-back
# transaction) and timed (EXPLAIN ANALYZE execution time, median of 3): a
# table via note() says whether the chosen plan was the fastest.  Timings
# are not asserted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $rows = 1000000;

my $node = PostgreSQL::Test::Cluster->new('planner');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_buffers = 512MB
autovacuum = off
max_parallel_workers_per_gather = 0
jit = off
});
$node->start;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

my $t0 = time;
q1(qq{
	CREATE EXTENSION learned_index;
	CREATE TABLE tl AS
		SELECT g::int4 AS id, k::int8 AS k, random() AS v
		FROM (SELECT g, g AS k FROM generate_series(1, $rows) g ORDER BY random()) s;
	CREATE TABLE tb AS SELECT * FROM tl;
	CREATE TABLE tboth AS SELECT * FROM tl;
	CREATE INDEX tl_k ON tl USING learned (k);
	CREATE INDEX tb_k ON tb USING btree (k);
	CREATE INDEX tboth_l ON tboth USING learned (k);
	CREATE INDEX tboth_b ON tboth USING btree (k);
	VACUUM ANALYZE tl;
	VACUUM ANALYZE tb;
	VACUUM ANALYZE tboth;
});
note(sprintf('setup (3 x %d rows, 4 indexes): %.1f s', $rows, time - $t0));
note(q1(q{SELECT string_agg(relname || ' ' || pg_size_pretty(pg_relation_size(oid)), ', ' ORDER BY relname)
	FROM pg_class WHERE relname IN ('tl_k', 'tb_k', 'tboth_l', 'tboth_b')}));

my @sel = (
	[ 'point', 'k = 424242', 1 ],
	[ '10 rows', 'k BETWEEN 424242 AND 424251', 10 ],
	[ '1%', 'k BETWEEN 100001 AND 110000', 10000 ],
	[ '50%', 'k <= 500000', 500000 ],
);

my $force_seq = 'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;';
my $force_index = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
my $force_bitmap = 'SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;';

# "Index Scan using tl_k", "Bitmap Heap Scan (tl_k)", "Seq Scan", ...
sub plan_kind
{
	my ($plan) = @_;
	return "Index Only Scan $1" if $plan =~ /Index Only Scan using (\w+)/;
	return "Index Scan $1" if $plan =~ /Index Scan using (\w+)/;
	return "Bitmap Scan $1" if $plan =~ /Bitmap Index Scan on (\w+)/;
	return 'Seq Scan' if $plan =~ /Seq Scan/;
	return "other: $plan";
}

# Execution times (ms) of 3 EXPLAIN ANALYZE runs of $sql in one session:
# their median, and the first run (a fresh backend: the model of a learned
# index is loaded then; the median is robust to that one cold run).
sub exec_ms
{
	my ($sql, $pre, $post) = @_;
	$pre //= '';
	$post //= '';
	my $out = q1(join("\n", $pre,
		("EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $sql;") x 3, $post));
	my @t = $out =~ /Execution Time: ([0-9.]+) ms/g;
	die "expected 3 execution times in $out" unless @t == 3;
	my $first = $t[0];
	@t = sort { $a <=> $b } @t;
	return wantarray ? ($t[1], $first) : $t[1];
}

# Run each [settings, query] in one session (RESET ALL in between); every
# query returns one line.
sub multi
{
	my @pairs = @_;
	my $out = q1(join("\n", map { "$_->[0]\n$_->[1];\nRESET ALL;" } @pairs));
	my @lines = split /\n/, $out;
	die "expected " . scalar(@pairs) . " result lines, got:\n$out" unless @lines == @pairs;
	return @lines;
}

sub fingerprint { return "count(*), coalesce(sum(id), 0), coalesce(sum(k), 0)"; }

my @report;
my %first_lookup;

# ------------------------------------------------------------------
# tl (learned) and tb (btree): choices, results and timings
# ------------------------------------------------------------------
for my $tab (qw(tl tb))
{
	my $idx = "${tab}_k";
	for my $s (@sel)
	{
		my ($label, $pred, $n) = @$s;
		my $sql = "SELECT * FROM $tab WHERE $pred";
		my $plan = q1("EXPLAIN $sql");
		my $kind = plan_kind($plan);
		my ($est) = $plan =~ /rows=(\d+)/;

		# results of the chosen plan and of each alternative equal a seqscan
		my $q = "SELECT " . fingerprint() . " FROM $tab WHERE $pred";
		my ($seq, $chosen, $viaidx, $viabm) =
		  multi([ $force_seq, $q ], [ '', $q ], [ $force_index, $q ], [ $force_bitmap, $q ]);
		is($chosen, $seq, "$tab $label: chosen plan ($kind) = seqscan");
		is($viaidx, $seq, "$tab $label: forced index scan = seqscan");
		is($viabm, $seq, "$tab $label: forced bitmap scan = seqscan");
		like($seq, qr/^$n\|/, "$tab $label: $n rows");

		if ($tab eq 'tl')
		{
			if ($label eq 'point' || $label eq '10 rows')
			{
				like($kind, qr/ tl_k$/, "tl $label: the learned index is chosen ($kind)");
			}
			elsif ($label eq '50%')
			{
				like($kind, qr/^(Seq Scan|Bitmap Scan tl_k)$/,
					"tl $label: seq scan or bitmap scan chosen ($kind)");
			}
		}

		my ($ims, $ifirst) = exec_ms($sql, $force_index);
		my %ms = (
			'Seq Scan' => scalar exec_ms($sql, $force_seq),
			"Index Scan $idx" => $ims,
			"Bitmap Scan $idx" => scalar exec_ms($sql, $force_bitmap),
		);
		$first_lookup{$tab} = $ifirst if $label eq 'point';
		my ($fastest) = sort { $ms{$a} <=> $ms{$b} } keys %ms;
		push @report, [ $tab, $label, $est, $kind, \%ms, $fastest ];
	}
}

# ------------------------------------------------------------------
# tboth: learned and btree on the same column
# ------------------------------------------------------------------
my %both_choice;
for my $s (@sel)
{
	my ($label, $pred, $n) = @$s;
	my $sql = "SELECT * FROM tboth WHERE $pred";
	my $plan = q1("EXPLAIN $sql");
	my $kind = plan_kind($plan);
	my ($est) = $plan =~ /rows=(\d+)/;
	$both_choice{$label} = $kind;
	my $q = "SELECT " . fingerprint() . " FROM tboth WHERE $pred";
	my $seq = q1("$force_seq $q");
	is(q1($q), $seq, "tboth $label: chosen plan ($kind) = seqscan");

	# each index alone, the other dropped in a transaction rolled back
	my %ms;
	my %cost;
	for my $pair ([ 'tboth_l', 'tboth_b' ], [ 'tboth_b', 'tboth_l' ])
	{
		my ($keep, $drop) = @$pair;
		my $pre = "BEGIN; DROP INDEX $drop;";
		is(q1("$pre $force_index $q; ROLLBACK;"), $seq, "tboth $label: $keep alone = seqscan");
		my $p = q1("$pre $force_index EXPLAIN $sql; ROLLBACK;");
		($cost{$keep}) = $p =~ /cost=[0-9.]+\.\.([0-9.]+)/;
		$ms{"Index Scan $keep"} = exec_ms($sql, "$pre $force_index", 'ROLLBACK;');
		$ms{"Bitmap Scan $keep"} = exec_ms($sql, "$pre $force_bitmap", 'ROLLBACK;')
		  unless $label eq 'point';
	}
	$ms{'Seq Scan'} = exec_ms($sql, $force_seq) unless $label eq 'point' || $label eq '10 rows';
	my ($fastest) = sort { $ms{$a} <=> $ms{$b} } keys %ms;
	note("tboth $label: estimated index scan cost: learned $cost{tboth_l}, btree $cost{tboth_b}");
	push @report, [ 'tboth', $label, $est, $kind, \%ms, $fastest ];
}

like($both_choice{'10 rows'} . $both_choice{point}, qr/tboth_[lb].*tboth_[lb]/,
	'tboth: an index is chosen for point and 10-row lookups');
note("tboth point lookup chooses: $both_choice{point}");
TODO:
{
	local $TODO = "the planner prefers the btree for point lookups ($both_choice{point})"
	  if $both_choice{point} !~ /tboth_l$/;
	like($both_choice{point}, qr/tboth_l$/, 'tboth: point lookup uses the learned index');
}
TODO:
{
	local $TODO = "the planner prefers the btree for 10-row lookups ($both_choice{'10 rows'})"
	  if $both_choice{'10 rows'} !~ /tboth_l$/;
	like($both_choice{'10 rows'}, qr/tboth_l$/, 'tboth: 10-row lookup uses the learned index');
}

# ------------------------------------------------------------------
# the report
# ------------------------------------------------------------------
my @lines = sprintf('%-6s %-8s %7s  %-24s %-10s  %s', 'table', 'sel', 'est', 'chosen', 'chosen ms', 'alternatives (ms, median of 3)');
for my $r (@report)
{
	my ($tab, $label, $est, $kind, $ms, $fastest) = @$r;
	my $chosen_ms = exists $ms->{$kind} ? sprintf('%.3f', $ms->{$kind}) : '?';
	my $alts = join(', ', map { sprintf('%s %.3f', $_, $ms->{$_}) } sort { $ms->{$a} <=> $ms->{$b} } keys %$ms);
	my $verdict = $kind eq $fastest ? 'fastest' : sprintf('NOT fastest (%s is)', $fastest);
	push @lines, sprintf('%-6s %-8s %7s  %-24s %-10s  %s  => %s', $tab, $label, $est, $kind, $chosen_ms, $alts, $verdict);
}
note(join("\n", 'planner choices and timings (median of 3 runs in one session; the tables are cached):', @lines));
note(sprintf('first point lookup in a new session (model/metapage load for learned): tl %.3f ms, tb %.3f ms',
	$first_lookup{tl}, $first_lookup{tb}));

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

$node->stop;
done_testing();
