# learned_index_check finds corruption: copies of one index are damaged on
# purpose (relation files written with the server stopped), and each check
# must raise index_corrupted (SQLSTATE XX002) with the expected message,
# while the intact copy passes.  The misdirected-entry cases change the
# TID of the entry of a deleted (not yet vacuumed) row: the heap-to-index
# direction cannot see them (every visible row keeps its entry), only the
# index-to-heap verification of heapallindexed does.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
# 18's initdb turns data checksums on: the bytes changed below would then
# fail the page checksum (XX001) before the index's own checks see them
$node->init($node->pg_version >= 18 ? (extra => ['--no-data-checksums']) : ());
# deleted rows must keep their entries until the checks ran
$node->append_conf('postgresql.conf', 'autovacuum = off');
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int8);
	INSERT INTO t SELECT g * 3 FROM generate_series(1, 20000) g;
	INSERT INTO t VALUES (NULL);
});
my @cases = qw(intact magic version order type badtid swaptid model
  misdirect unusedtid pastend nullmisdirect duptid);
for my $c (@cases)
{
	$node->safe_psql('postgres', "CREATE INDEX idx_$c ON t USING learned (k)");
}
# rows whose entries are misdirected: deleted, so that no visible row
# loses its entry; and the live row the first one is pointed at
my %ctid;
for my $k (300, 600, 900, 3000)
{
	my ($blk, $off) = $node->safe_psql('postgres',
		"SELECT ctid FROM t WHERE k = $k") =~ /\((\d+),(\d+)\)/;
	$ctid{$k} = [ $blk, $off ];
}
$node->safe_psql('postgres', 'DELETE FROM t WHERE k IN (300, 600, 900)');
# a HOT chain: h's row k = 5 gets a heap-only version (v is not indexed)
$node->safe_psql('postgres', q{
	CREATE TABLE h (k int8, v int) WITH (fillfactor = 50);
	INSERT INTO h SELECT g, 0 FROM generate_series(1, 100) g;
	CREATE INDEX idx_heaponly ON h USING learned (k);
	UPDATE h SET v = 1 WHERE k = 5;
});
my ($hot_blk, $hot_off) = $node->safe_psql('postgres',
	"SELECT ctid FROM h WHERE k = 5") =~ /\((\d+),(\d+)\)/;
my %path;
for my $c (@cases)
{
	$path{$c} = $node->data_dir . '/'
	  . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$c')");
}
$path{heaponly} = $node->data_dir . '/'
  . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_heaponly')");
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

# the entry after the one with int8 key $k becomes a copy of it (same key,
# same heap TID; order kept): one entry made twice
sub duplicate_entry
{
	my ($file, $k) = @_;
	my $data = read_file_bytes($file);
	my $code = pack('q<', $k);
	substr($code, 7, 1) = chr(ord(substr($code, 7, 1)) ^ 0x80);
	for my $b (1 .. length($data) / $BLCKSZ - 1)
	{
		my ($nitems, $ptype, $id) =
		  unpack('x8 S x2 S S', substr($data, $b * $BLCKSZ + 8176, 16));
		next unless $ptype == 2 && $id == 0xFF8C;
		for my $i (0 .. $nitems - 2)
		{
			next if substr($data, $b * $BLCKSZ + 24 + 8 * $i, 8) ne $code;
			write_at($file, $b * $BLCKSZ + 24 + 8 * ($i + 1), $code);
			write_at($file, $b * $BLCKSZ + $tidoff + 6 * ($i + 1),
				substr($data, $b * $BLCKSZ + $tidoff + 6 * $i, 6));
			return;
		}
	}
	die "no entry with key $k in $file";
}

# the (only) entry with int8 key $k gets heap TID ($blk,$off)
sub redirect_entry
{
	my ($file, $k, $blk, $off) = @_;
	my $data = read_file_bytes($file);
	my $code = pack('q<', $k);
	substr($code, 7, 1) = chr(ord(substr($code, 7, 1)) ^ 0x80);
	for my $b (1 .. length($data) / $BLCKSZ - 1)
	{
		my ($nitems, $ptype, $id) =
		  unpack('x8 S x2 S S', substr($data, $b * $BLCKSZ + 8176, 16));
		next unless ($ptype == 2 || $ptype == 3) && $id == 0xFF8C;
		for my $i (0 .. $nitems - 1)
		{
			next if substr($data, $b * $BLCKSZ + 24 + 8 * $i, 8) ne $code;
			write_at($file, $b * $BLCKSZ + $tidoff + 6 * $i,
				pack('S S S', $blk >> 16, $blk & 0xFFFF, $off));
			return;
		}
	}
	die "no entry with key $k in $file";
}

# the entry of deleted row k = 300 leads to the live row k = 3000; that of
# k = 600 to an unused line pointer; that of k = 900 past the heap's end
redirect_entry($path{misdirect}, 300, @{ $ctid{3000} });
redirect_entry($path{unusedtid}, 600, $ctid{600}[0], 290);
redirect_entry($path{pastend}, 900, 4000000, 1);
duplicate_entry($path{duptid}, 3000);
# the entry of k = 5 names its heap-only version instead of the chain's root
redirect_entry($path{heaponly}, 5, $hot_blk, $hot_off);
# the NULL entry leads to the live row k = 3000
{
	my $b = find_page($path{nullmisdirect}, 4, 1);
	write_at($path{nullmisdirect}, $b * $BLCKSZ + 24,
		pack('S S S', $ctid{3000}[0] >> 16, $ctid{3000}[0] & 0xFFFF, $ctid{3000}[1]));
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
check_fails('swaptid', 'true', qr/lacks matching index entry|whose indexed key/);
for my $c (qw(misdirect unusedtid pastend heaponly nullmisdirect))
{
	is($node->safe_psql('postgres', "SELECT learned_index_check('idx_$c', false)"), '',
		"$c: the structural check passes");
}
my $to = join(',', @{ $ctid{3000} });
my $unused = "$ctid{600}[0],290";
check_fails('misdirect', 'true',
	qr/Entry \d+ \(key 300\) points to heap tuple \($to\), whose indexed key is 3000/);
check_fails('unusedtid', 'true', qr/points to heap item \($unused\), which is unused/);
check_fails('pastend', 'true', qr/points to heap block 4000000, past the end of table "t"/);
check_fails('heaponly', 'true',
	qr/Entry \d+ \(key 5\) points to heap-only tuple \($hot_blk,$hot_off\) instead of the root/);
check_fails('nullmisdirect', 'true',
	qr/NULL entry 0 \(key NULL\) points to heap tuple \($to\), whose indexed key is 3000/);
is($node->safe_psql('postgres', "SELECT learned_index_check('idx_duptid', false)"), '',
	'duptid: the structural check passes');
check_fails('duptid', 'true', qr/The entry \(key 3000, heap TID \($to\)\) is in the index twice/);
# what the misdirected entry does to a query (so the check must see it)
{
	my $others = join(', ', map { "idx_$_" } grep { $_ ne 'misdirect' } @cases);
	is($node->safe_psql('postgres', qq{
		BEGIN;
		DROP INDEX $others;
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SELECT count(*) FROM t WHERE k = 300;
		ROLLBACK;}), '1', 'misdirect: an index scan returns a row that is not there');
}
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
