# learned_index_check finds corruption: copies of one index are damaged on
# purpose (relation files written with the server stopped), and each check
# must raise index_corrupted (SQLSTATE XX002) with the expected message,
# while the intact copy passes.  The misdirected-entry cases change the
# TID of the entry of a deleted (not yet vacuumed) row: the heap-to-index
# direction cannot see them (every visible row keeps its entry), only the
# index-to-heap verification of heapallindexed does.  Leaves are compressed
# (docs/design.md, leaf format 2): TIDs are damaged in the plain entries of
# leaf tails (rows inserted after the build) and, for the compressed part,
# through its header (the TID line moved past the heap, the key line made
# to descend, a width out of range, a truncated block): the check reports
# each, and scans report a damaged header instead of crashing.
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
  misdirect unusedtid pastend cpastend nullmisdirect width truncated modeldir
  modeldirkey);
for my $c (@cases)
{
	$node->safe_psql('postgres', "CREATE INDEX idx_$c ON t USING learned (k)");
}
# rows inserted after the build sit in leaf tails as plain 14-byte entries:
# the misdirected entries are made there.  1 and 2 stay; 301, 601 and 901
# are deleted (not vacuumed), so that no visible row loses its entry
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1), (2), (301), (601), (901)');
my %ctid;
for my $k (1, 2, 601, 3000)
{
	my ($blk, $off) = $node->safe_psql('postgres',
		"SELECT ctid FROM t WHERE k = $k") =~ /\((\d+),(\d+)\)/;
	$ctid{$k} = [ $blk, $off ];
}
$node->safe_psql('postgres', 'DELETE FROM t WHERE k IN (301, 601, 901)');
# an entry made twice needs two entries with one key (tail entries again)
$node->safe_psql('postgres', q{
	CREATE TABLE d (k int8);
	CREATE INDEX idx_duptid ON d USING learned (k);
	INSERT INTO d SELECT g * 3 FROM generate_series(1, 200) g, generate_series(1, 2);
});
# a HOT chain: h's row k = 5 gets a heap-only version (v is not indexed)
$node->safe_psql('postgres', q{
	CREATE TABLE h (k int8, v int) WITH (fillfactor = 50);
	CREATE INDEX idx_heaponly ON h USING learned (k);
	INSERT INTO h SELECT g, 0 FROM generate_series(1, 100) g;
	UPDATE h SET v = 1 WHERE k = 5;
});
my ($hot_blk, $hot_off) = $node->safe_psql('postgres',
	"SELECT ctid FROM h WHERE k = 5") =~ /\((\d+),(\d+)\)/;
my $dup_to = join(',', $node->safe_psql('postgres',
	'SELECT min(ctid) FROM d WHERE k = 300') =~ /\((\d+),(\d+)\)/);
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
# leaf pages (format 2): a compressed block at page offset 24
# (src/li_leaf.h), then the tail of plain entries
# ------------------------------------------------------------------
# the header of the leaf in block $b of $data, and where its tail is
sub leaf_header
{
	my ($data, $b) = @_;
	my $base = $b * $BLCKSZ + 24;
	my %h;
	@h{qw(n version kgw tgw bytes mult)} = unpack('S C C C x3 L L', substr($data, $base, 16));
	my $cap = int((8152 - $h{bytes}) / 14);
	$h{tail_keys} = $base + $h{bytes};
	$h{tail_tids} = $h{tail_keys} + 8 * $cap;
	($h{nitems}) = unpack('S', substr($data, $b * $BLCKSZ + 8176 + 8, 2));
	return \%h;
}

# the int8 key $k as the index stores it (sign bit flipped, little-endian)
sub key_code
{
	my $code = pack('q<', $_[0]);
	substr($code, 7, 1) = chr(ord(substr($code, 7, 1)) ^ 0x80);
	return $code;
}

# byte offsets of the key and the TID of every plain (tail or delta) entry
# of int8 key $k in $file, in page order
sub plain_entries
{
	my ($file, $k) = @_;
	my $data = read_file_bytes($file);
	my $code = key_code($k);
	my @found;
	for my $b (1 .. length($data) / $BLCKSZ - 1)
	{
		my ($nitems, $ptype, $id) =
		  unpack('x8 S x2 S S', substr($data, $b * $BLCKSZ + 8176, 16));
		next unless $id == 0xFF8C && ($ptype == 2 || $ptype == 3);
		my ($keys, $tids, $from);
		if ($ptype == 2)
		{
			my $h = leaf_header($data, $b);
			($keys, $tids, $from) = ($h->{tail_keys}, $h->{tail_tids}, $h->{n});
		}
		else
		{
			($keys, $tids, $from) = ($b * $BLCKSZ + 24, $b * $BLCKSZ + 24 + 8 * 582, 0);
		}
		for my $j (0 .. $nitems - $from - 1)
		{
			push @found, [ $keys + 8 * $j, $tids + 6 * $j ]
			  if substr($data, $keys + 8 * $j, 8) eq $code;
		}
	}
	die "no plain entry with key $k in $file" unless @found;
	return @found;
}

# the (first) plain entry of int8 key $k gets heap TID ($blk,$off)
sub redirect_entry
{
	my ($file, $k, $blk, $off) = @_;
	my ($e) = plain_entries($file, $k);
	write_at($file, $e->[1], pack('S S S', $blk >> 16, $blk & 0xFFFF, $off));
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

# a heap TID with an impossible offset number, in a leaf's tail
{
	my ($e) = plain_entries($path{badtid}, 2);
	write_at($path{badtid}, $e->[1] + 4, pack('S', 5000));
}

# two TIDs swapped: the structure is fine, but the keys no longer match
# their heap tuples, which only heapallindexed can see
{
	my ($e1) = plain_entries($path{swaptid}, 1);
	my ($e2) = plain_entries($path{swaptid}, 2);
	my $data = read_file_bytes($path{swaptid});
	my ($t1, $t2) = (substr($data, $e1->[1], 6), substr($data, $e2->[1], 6));
	write_at($path{swaptid}, $e1->[1], $t2);
	write_at($path{swaptid}, $e2->[1], $t1);
}

# a key group width of 65 bits: the block header is invalid
{
	my $b = find_page($path{width}, 2, 20);
	write_at($path{width}, $b * $BLCKSZ + 24 + 3, pack('C', 65));
}

# the block claims more entries than its size holds (truncated bits)
{
	my $data = read_file_bytes($path{truncated});
	my $b = find_page($path{truncated}, 2, 20);
	my $h = leaf_header($data, $b);
	write_at($path{truncated}, $b * $BLCKSZ + 24, pack('S', $h->{n} + 500));
}

# compressed TIDs: the TID column's base moves 4000000 blocks on (M * 4000000
# added to blk * M + off): every entry of the leaf points past the heap
{
	my $data = read_file_bytes($path{cpastend});
	my $b = find_page($path{cpastend}, 2, 20);
	my $h = leaf_header($data, $b);
	my ($base) = unpack('Q<', substr($data, $b * $BLCKSZ + 24 + 48, 8));
	write_at($path{cpastend}, $b * $BLCKSZ + 24 + 48, pack('Q<', $base + $h->{mult} * 4000000));
}

# one entry made twice: of the two entries of k = 300 in d, the second
# gets the first's heap TID (same key, order kept)
{
	my @e = plain_entries($path{duptid}, 300);
	my $data = read_file_bytes($path{duptid});
	my ($first) = grep { my ($hi, $lo, $o) = unpack('S S S', substr($data, $_->[1], 6));
		(($hi << 16) | $lo) . ",$o" eq $dup_to } @e;
	my ($second) = grep { $_ != $first } @e;
	write_at($path{duptid}, $second->[1], substr($data, $first->[1], 6));
}

# the entry of deleted row k = 301 leads to the live row k = 3000; that of
# k = 601 to an unused line pointer; that of k = 901 past the heap's end
redirect_entry($path{misdirect}, 301, @{ $ctid{3000} });
redirect_entry($path{unusedtid}, 601, $ctid{601}[0], 290);
redirect_entry($path{pastend}, 901, 4000000, 1);
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

# the metapage's model directory (after the 128-byte struct: one model
# page here) names block 1 (a leaf) as the first model page; or gives it
# another first key
write_at($path{modeldir}, 24 + 128, pack('L', 1));
write_at($path{modeldirkey}, 24 + 128 + 8, pack('q<', 12345));

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
for my $c (qw(misdirect unusedtid pastend cpastend heaponly nullmisdirect))
{
	is($node->safe_psql('postgres', "SELECT learned_index_check('idx_$c', false)"), '',
		"$c: the structural check passes");
}
my $to = join(',', @{ $ctid{3000} });
my $unused = "$ctid{601}[0],290";
check_fails('misdirect', 'true',
	qr/Entry \d+ \(key 301\) points to heap tuple \($to\), whose indexed key is 3000/);
check_fails('unusedtid', 'true', qr/points to heap item \($unused\), which is unused/);
check_fails('pastend', 'true', qr/points to heap block 4000000, past the end of table "t"/);
check_fails('cpastend', 'true', qr/points to heap block 400\d{4}, past the end of table "t"/);
check_fails('heaponly', 'true',
	qr/Entry \d+ \(key 5\) points to heap-only tuple \($hot_blk,$hot_off\) instead of the root/);
check_fails('nullmisdirect', 'true',
	qr/NULL entry 0 \(key NULL\) points to heap tuple \($to\), whose indexed key is 3000/);
is($node->safe_psql('postgres', "SELECT learned_index_check('idx_duptid', false)"), '',
	'duptid: the structural check passes');
check_fails('duptid', 'true', qr/The entry \(key 300, heap TID \($dup_to\)\) is in the index twice/);
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
		SELECT count(*) FROM t WHERE k = 301;
		ROLLBACK;}), '1', 'misdirect: an index scan returns a row that is not there');
}
check_fails('model', 'false', qr/invalid parameters/);
check_fails('modeldir', 'false', qr/model page with a bad directory/);
check_fails('modeldirkey', 'false', qr/model directory's key of model page 0 is 12345/);

# scans of damaged indexes raise a clear error instead of crashing or
# returning wrong rows
for my $c (qw(magic type width truncated modeldir))
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
