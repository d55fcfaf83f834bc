# learned_index_check finds corruption: copies of one index are damaged on
# purpose (relation files written with the server stopped), and each check
# must raise index_corrupted (SQLSTATE XX002) with the expected message,
# while the intact copy passes.  The misdirected-entry cases change the
# TID of the entry of a deleted (not yet vacuumed) row: the heap-to-index
# direction cannot see them (every visible row keeps its entry), only the
# index-to-heap verification of heapallindexed does.  Leaves are compressed
# (docs/design.md, leaf format 2): the helpers below read and write their
# bit-packed TID fields; a damaged block header (wrong width, truncated
# size) must be reported by the check and by scans, never crash them.
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
  misdirect unusedtid pastend nullmisdirect width truncated);
for my $c (@cases)
{
	$node->safe_psql('postgres', "CREATE INDEX idx_$c ON t USING learned (k)");
}
# an entry made twice needs two entries with one key: a table of pairs
$node->safe_psql('postgres', q{
	CREATE TABLE d (k int8);
	INSERT INTO d SELECT g * 3 FROM generate_series(1, 5000) g, generate_series(1, 2);
	CREATE INDEX idx_duptid ON d USING learned (k);
});
# rows inserted after the build sit in a leaf's tail (14-byte entries)
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1), (2)');
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
});
my ($hot_root_blk, $hot_root_off) = $node->safe_psql('postgres',
	"SELECT ctid FROM h WHERE k = 5") =~ /\((\d+),(\d+)\)/;
$node->safe_psql('postgres', 'UPDATE h SET v = 1 WHERE k = 5');
my ($hot_blk, $hot_off) = $node->safe_psql('postgres',
	"SELECT ctid FROM h WHERE k = 5") =~ /\((\d+),(\d+)\)/;
my $node_ctids_d = $node->safe_psql('postgres', 'SELECT ctid FROM d WHERE k = 3000 ORDER BY ctid');
my $dup_to;
my %path;
for my $c (@cases)
{
	$path{$c} = $node->data_dir . '/'
	  . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$c')");
}
for my $c (qw(heaponly duptid))
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

# ------------------------------------------------------------------
# compressed leaves: the block header at page offset 24 (src/li_leaf.h)
# ------------------------------------------------------------------
my $HDR = 48;

# the header of the leaf in block $b of $data, with derived offsets
sub leaf_header
{
	my ($data, $b) = @_;
	my $base = $b * $BLCKSZ + 24;
	my %h;
	@h{qw(n kw bw ow version bytes min_blk base slope_int slope_frac rmin)} =
	  unpack('S C C C C x2 L L Q< Q< L x4 Q<', substr($data, $base, $HDR));
	$h{tw} = $h{bw} + $h{ow};
	$h{kbits} = $base + $HDR;
	$h{tbits} = $h{kbits} + int(($h{n} * $h{kw} + 7) / 8);
	my $cap = int((8152 - $h{bytes}) / 14);
	$h{tail_keys} = $base + $h{bytes};
	$h{tail_tids} = $h{tail_keys} + 8 * $cap;
	($h{nitems}) = unpack('S', substr($data, $b * $BLCKSZ + 8176 + 8, 2));
	return \%h;
}

# the w-bit field at bit $pos of the bit array starting at byte $off
sub get_bits
{
	my ($data, $off, $pos, $w) = @_;
	my $v = 0;
	$v |= vec($data, $off * 8 + $pos + $_, 1) << $_ for 0 .. $w - 1;
	return $v;
}

# write the w-bit field at bit $pos of the bit array at byte $off of $file
sub put_bits
{
	my ($file, $off, $pos, $w, $val) = @_;
	my $first = int($pos / 8);
	my $last = int(($pos + $w - 1) / 8);
	my $data = read_file_bytes($file);
	my $bytes = substr($data, $off + $first, $last - $first + 1);
	vec($bytes, $pos - 8 * $first + $_, 1) = ($val >> $_) & 1 for 0 .. $w - 1;
	write_at($file, $off + $first, $bytes);
}

# (block, offset) of sorted entry $i of leaf header $h
sub leaf_tid
{
	my ($data, $h, $i) = @_;
	my $t = get_bits($data, $h->{tbits}, $i * $h->{tw}, $h->{tw});
	return ($h->{min_blk} + ($t >> $h->{ow}), $t & ((1 << $h->{ow}) - 1));
}

# set sorted entry $i's TID; dies if (blk, off) does not fit the widths
sub set_leaf_tid
{
	my ($file, $h, $i, $blk, $off) = @_;
	my $d = $blk - $h->{min_blk};
	die "TID ($blk,$off) does not fit the leaf's widths"
	  if $d < 0 || $d >= (1 << $h->{bw}) || $off >= (1 << $h->{ow});
	put_bits($file, $h->{tbits}, $i * $h->{tw}, $h->{tw}, ($d << $h->{ow}) | $off);
}

# the sorted entries of int8 key $k: (block, first index, count, header).
# Keys are found by the TIDs of the rows that hold them ($ctids: list of
# [blk, off]): the key decode needs 64-bit modular arithmetic, the TIDs not
sub find_entries
{
	my ($file, $ctids) = @_;
	my $data = read_file_bytes($file);
	my %want = map {; "$_->[0],$_->[1]" => 1 } @$ctids;
	for my $b (1 .. length($data) / $BLCKSZ - 1)
	{
		my ($ptype, $id) = unpack('S S', substr($data, $b * $BLCKSZ + 8188, 4));
		next unless $ptype == 2 && $id == 0xFF8C;
		my $h = leaf_header($data, $b);
		for my $i (0 .. $h->{n} - 1)
		{
			my ($blk, $off) = leaf_tid($data, $h, $i);
			return ($b, $i, $h, $data) if $want{"$blk,$off"};
		}
	}
	die "no entry for the given TIDs in $file";
}

# metapage magic and version
write_at($path{magic}, 24, pack('L', 0xDEADBEEF));
write_at($path{version}, 28, pack('L', 99));

# a leaf's line descends (slope -1 modulo 2^64): the order is broken
{
	my $b = find_page($path{order}, 2, 20);
	write_at($path{order}, $b * $BLCKSZ + 24 + 24, pack('q<', -1));
}

# a leaf page claims to be a delta page
{
	my $b = find_page($path{type}, 2, 20);
	write_at($path{type}, $b * $BLCKSZ + 8176 + 12, pack('S', 3));
}

# a heap TID with an impossible offset number, in a leaf's tail (the rows
# inserted after the build)
{
	my $data = read_file_bytes($path{badtid});
	my $b = find_page($path{badtid}, 2, 20);
	my $h = leaf_header($data, $b);
	die "no tail entry" unless $h->{nitems} > $h->{n};
	write_at($path{badtid}, $h->{tail_tids} + 4, pack('S', 5000));
}

# two TIDs swapped: the structure is fine, but the keys no longer match
# their heap tuples, which only heapallindexed can see
{
	my $data = read_file_bytes($path{swaptid});
	my $b = find_page($path{swaptid}, 2, 20);
	my $h = leaf_header($data, $b);
	my @t3 = leaf_tid($data, $h, 3);
	my @t8 = leaf_tid($data, $h, 8);
	set_leaf_tid($path{swaptid}, $h, 3, @t8);
	set_leaf_tid($path{swaptid}, $h, 8, @t3);
}

# a key width of 65 bits: the block header is invalid
{
	my $b = find_page($path{width}, 2, 20);
	write_at($path{width}, $b * $BLCKSZ + 24 + 2, pack('C', 65));
}

# the block claims more entries than its size holds (truncated bits)
{
	my $data = read_file_bytes($path{truncated});
	my $b = find_page($path{truncated}, 2, 20);
	my $h = leaf_header($data, $b);
	write_at($path{truncated}, $b * $BLCKSZ + 24, pack('S', $h->{n} + 500));
}

# one entry made twice: of the two entries of k = 3000 in d, the second
# gets the first's heap TID (same key, order kept)
{
	my @ct = map { [ /\((\d+),(\d+)\)/ ] } split /\n/, $node_ctids_d;
	my ($b, $i, $h, $data) = find_entries($path{duptid}, \@ct);
	my @t = leaf_tid($data, $h, $i);
	set_leaf_tid($path{duptid}, $h, $i + 1, @t);
	$dup_to = join(',', @t);
}

# the (only) entry of the row at heap TID $from gets heap TID ($blk,$off)
sub redirect_entry
{
	my ($file, $from, $blk, $off) = @_;
	my ($b, $i, $h) = find_entries($file, [$from]);
	set_leaf_tid($file, $h, $i, $blk, $off);
}

# the entry of deleted row k = 300 leads to the live row k = 3000; that of
# k = 600 to an unused line pointer (offset 250: no heap page of t has that
# many rows); for k = 900, the leaf's smallest block number becomes 4000000,
# so its entries point past the heap's end
redirect_entry($path{misdirect}, $ctid{300}, @{ $ctid{3000} });
redirect_entry($path{unusedtid}, $ctid{600}, $ctid{600}[0], 250);
{
	my ($b) = find_entries($path{pastend}, [ $ctid{900} ]);
	write_at($path{pastend}, $b * $BLCKSZ + 24 + 12, pack('L', 4000000));
}
# the entry of k = 5 names its heap-only version instead of the chain's root
redirect_entry($path{heaponly}, [ $hot_root_blk, $hot_root_off ], $hot_blk, $hot_off);
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
my $unused = "$ctid{600}[0],250";
check_fails('misdirect', 'true',
	qr/Entry \d+ \(key 300\) points to heap tuple \($to\), whose indexed key is 3000/);
check_fails('unusedtid', 'true', qr/points to heap item \($unused\), which is unused/);
check_fails('pastend', 'true', qr/points to heap block 400\d{4}, past the end of table "t"/);
check_fails('heaponly', 'true',
	qr/Entry \d+ \(key 5\) points to heap-only tuple \($hot_blk,$hot_off\) instead of the root/);
check_fails('nullmisdirect', 'true',
	qr/NULL entry 0 \(key NULL\) points to heap tuple \($to\), whose indexed key is 3000/);
is($node->safe_psql('postgres', "SELECT learned_index_check('idx_duptid', false)"), '',
	'duptid: the structural check passes');
check_fails('duptid', 'true', qr/The entry \(key 3000, heap TID \($dup_to\)\) is in the index twice/);
check_fails('width', 'false', qr/Compressed leaf block header is invalid/);
check_fails('truncated', 'false', qr/Compressed leaf block header is invalid/);
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
for my $c (qw(magic type width truncated))
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
