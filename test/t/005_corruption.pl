# learned_index_check finds corruption: copies of one index are damaged on
# purpose (relation files written with the server stopped), and each check
# must raise index_corrupted (SQLSTATE XX002) with the expected message,
# while the intact copy passes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int8);
	INSERT INTO t SELECT g * 3 FROM generate_series(1, 20000) g;
	INSERT INTO t VALUES (NULL);
});
my @cases = qw(intact magic version order type badtid swaptid model);
for my $c (@cases)
{
	$node->safe_psql('postgres', "CREATE INDEX idx_$c ON t USING learned (k)");
}
my %path;
for my $c (@cases)
{
	$path{$c} = $node->data_dir . '/'
	  . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$c')");
}
$node->stop;

my $BLCKSZ = 8192;

sub read_file_bytes
{
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or die "open $file: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

sub write_at
{
	my ($file, $offset, $bytes) = @_;
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	seek($fh, $offset, 0) or die;
	print $fh $bytes;
	close $fh;
}

# first block of the given page type with at least $min entries
sub find_page
{
	my ($file, $type, $min) = @_;
	my $data = read_file_bytes($file);
	my $n = length($data) / $BLCKSZ;
	for my $b (1 .. $n - 1)
	{
		my ($gen, $next, $nitems, $ndead, $ptype, $id) =
		  unpack('L L S S S S', substr($data, $b * $BLCKSZ + 8176, 16));
		return $b if $ptype == $type && $nitems >= $min && $id == 0xFF8C;
	}
	die "no page of type $type in $file";
}

my $leafcap = 582;
my $tidoff = 24 + 8 * $leafcap;

# metapage magic and version
write_at($path{magic}, 24, pack('L', 0xDEADBEEF));
write_at($path{version}, 28, pack('L', 99));

# two keys of a leaf swapped: order broken
{
	my $b = find_page($path{order}, 2, 20);
	my $base = $b * $BLCKSZ;
	my $data = read_file_bytes($path{order});
	my $k3 = substr($data, $base + 24 + 8 * 3, 8);
	my $k9 = substr($data, $base + 24 + 8 * 9, 8);
	write_at($path{order}, $base + 24 + 8 * 3, $k9);
	write_at($path{order}, $base + 24 + 8 * 9, $k3);
}

# a leaf page claims to be a delta page
{
	my $b = find_page($path{type}, 2, 20);
	write_at($path{type}, $b * $BLCKSZ + 8176 + 12, pack('S', 3));
}

# a heap TID with an impossible offset number
{
	my $b = find_page($path{badtid}, 2, 20);
	write_at($path{badtid}, $b * $BLCKSZ + $tidoff + 6 * 5 + 4, pack('S', 5000));
}

# two TIDs swapped: the structure is fine, but the keys no longer match
# their heap tuples, which only heapallindexed can see
{
	my $b = find_page($path{swaptid}, 2, 20);
	my $base = $b * $BLCKSZ + $tidoff;
	my $data = read_file_bytes($path{swaptid});
	my $t3 = substr($data, $base + 6 * 3, 6);
	my $t8 = substr($data, $base + 6 * 8, 6);
	write_at($path{swaptid}, $base + 6 * 3, $t8);
	write_at($path{swaptid}, $base + 6 * 8, $t3);
}

# a model segment with a NaN slope
{
	my $b = find_page($path{model}, 5, 32);
	write_at($path{model}, $b * $BLCKSZ + 24 + 16, pack('LL', 1, 0x7FF80000));
}

$node->start;

sub check_fails
{
	my ($c, $heapall, $pattern) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT learned_index_check('idx_$c', $heapall)");
	isnt($ret, 0, "$c: check fails");
	like($err, qr/XX002/, "$c: SQLSTATE index_corrupted");
	like($err, $pattern, "$c: message");
}

is($node->safe_psql('postgres', "SELECT learned_index_check('idx_intact', true)"), '',
	'intact copy passes');
check_fails('magic', 'false', qr/bad metapage magic/);
check_fails('version', 'false', qr/format version 99/);
check_fails('order', 'false', qr/smaller than the previous key|model error/);
check_fails('type', 'false', qr/Page type is 3, expected 2/);
check_fails('badtid', 'false', qr/invalid heap TID/);
is($node->safe_psql('postgres', "SELECT learned_index_check('idx_swaptid', false)"), '',
	'swapped TIDs pass the structural check');
check_fails('swaptid', 'true', qr/lacks matching index entry/);
check_fails('model', 'false', qr/invalid parameters/);

# scans of damaged indexes raise a clear error instead of crashing or
# returning wrong rows
for my $c (qw(magic type))
{
	my $others = join(', ', map { "idx_$_" } grep { $_ ne $c } @cases);
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		BEGIN;
		DROP INDEX $others;
		SET enable_seqscan = off;
		SELECT count(*) FROM t WHERE k BETWEEN 30 AND 3000;
		ROLLBACK;});
	like($err, qr/index "idx_$c"|learned index/, "$c: a scan reports the corruption");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server alive');

done_testing();
