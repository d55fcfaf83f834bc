# Extension upgrade 0.1.0 -> 0.2.0 -> 0.3.0 -> 0.4.0 and removal: indexes built under 0.1.0
# keep answering like a sequential scan after ALTER EXTENSION UPDATE; the
# new functions (learned_index_check, learned_index_segments,
# learned_index_retrain(idx, full)) work on them; the upgraded extension
# has exactly the objects (and comments) of a fresh 0.2.0 install; DROP
# EXTENSION ... CASCADE leaves nothing of it behind (pg_am, pg_opclass,
# pg_opfamily, pg_amop, pg_proc, pg_depend), and it can be created again.
# 0.2.0 -> 0.3.0: the date/timestamp/timestamptz indexes built before (one
# family per type) answer cross-type comparisons through the index, like
# the datetime_ops family of a fresh 0.3.0 install, and equal a seq scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

q1(q{CREATE EXTENSION learned_index VERSION '0.1.0'});
is(q1(q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}),
	'0.1.0', 'installed at 0.1.0');
is( q1(q{SELECT to_regprocedure('learned_index_check(regclass, boolean)') IS NULL
	       AND to_regprocedure('learned_index_segments(regclass)') IS NULL
	       AND to_regprocedure('learned_index_retrain(regclass, boolean)') IS NULL
	       AND to_regprocedure('learned_index_retrain(regclass)') IS NOT NULL}),
	't', '0.1.0 has no check/segments and a one-argument retrain');

q1(q{
	CREATE TABLE t (id int, k int8, ts timestamptz, r real);
	INSERT INTO t SELECT g, (random() * 1000000)::int8,
		'2024-01-01'::timestamptz + g * interval '1 minute', random()
		FROM generate_series(1, 100000) g;
	INSERT INTO t (id) SELECT g FROM generate_series(100001, 100010) g;
	CREATE INDEX t_k ON t USING learned (k);
	CREATE INDEX t_ts ON t USING learned (ts) WITH (epsilon = 16);
	CREATE INDEX t_r ON t USING learned (r) WITH (fillfactor = 70);
	INSERT INTO t SELECT g, (random() * 1000000)::int8, now(), random()
		FROM generate_series(100011, 110000) g;
	DELETE FROM t WHERE id % 13 = 0;
	VACUUM t;
	SELECT learned_index_retrain('t_ts');
});

my $fp = "count(*), coalesce(sum(id), 0), md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))";
my @queries = (
	"SELECT $fp FROM t WHERE k BETWEEN 300000 AND 450000",
	"SELECT $fp FROM t WHERE k = (SELECT k FROM t WHERE id = 777)",
	"SELECT $fp FROM t WHERE k IS NULL",
	"SELECT $fp FROM t WHERE ts >= '2024-01-20' AND ts < '2024-02-03'",
	"SELECT $fp FROM t WHERE r < 0.05",
	"SELECT string_agg(k::text, ',') FROM (SELECT k FROM t WHERE k > 900000 ORDER BY k LIMIT 20) s",
);
my $force_index = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
my $force_seq = 'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;';

sub compare
{
	my ($label) = @_;
	my @i = split /\n/, q1(join("\n", $force_index, map { "$_;" } @queries));
	my @s = split /\n/, q1(join("\n", $force_seq, map { "$_;" } @queries));
	is($i[$_], $s[$_], "$label: index = seqscan: $queries[$_]") for 0 .. $#queries;
}

compare('0.1.0');
my $stats01 = q1(q{SELECT keys || ':' || generation || ':' || retrains FROM learned_index_stats('t_k')});

# ------------------------------------------------------------------
# ALTER EXTENSION UPDATE
# ------------------------------------------------------------------
q1(q{ALTER EXTENSION learned_index UPDATE TO '0.2.0'});
is(q1(q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}),
	'0.2.0', 'ALTER EXTENSION UPDATE TO 0.2.0: extversion = 0.2.0');
is( q1(q{SELECT to_regprocedure('learned_index_check(regclass, boolean)') IS NOT NULL
	       AND to_regprocedure('learned_index_segments(regclass)') IS NOT NULL
	       AND to_regprocedure('learned_index_retrain(regclass, boolean)') IS NOT NULL
	       AND to_regprocedure('learned_index_retrain(regclass)') IS NULL}),
	't', 'new functions exist, the one-argument retrain is replaced');
is(q1(q{SELECT count(*) FROM pg_proc WHERE proname = 'learned_index_retrain'}),
	'1', 'exactly one learned_index_retrain');

# the same members, definitions and comments as a fresh 0.2.0 install
my $members_sql = q{
	SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY 1)
	FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'learned_index')
};
my $funcs_sql = q{
	SELECT string_agg(pg_get_functiondef(p.oid) || coalesce(obj_description(p.oid, 'pg_proc'), '<no comment>'),
	                  E'\n' ORDER BY p.oid::regprocedure::text)
	FROM pg_proc p WHERE proname LIKE 'learned%'
};
my $opclass_sql = q{
	SELECT string_agg(format('%s %s %s %s', opc.opcname, opf.opfname, opc.opcintype::regtype, opc.opcdefault),
	                  E'\n' ORDER BY opc.opcname)
	FROM pg_opclass opc JOIN pg_opfamily opf ON opf.oid = opc.opcfamily
	JOIN pg_am am ON am.oid = opc.opcmethod WHERE am.amname = 'learned'
};
my $amop_sql = q{
	SELECT count(*) || ':' || md5(string_agg(format('%s %s %s %s %s', opf.opfname, amoplefttype::regtype,
	                                                 amoprighttype::regtype, amopstrategy, amopopr::regoperator),
	                                          ',' ORDER BY 1))
	FROM pg_amop ao JOIN pg_opfamily opf ON opf.oid = ao.amopfamily
	JOIN pg_am am ON am.oid = opf.opfmethod WHERE am.amname = 'learned'
};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', q{CREATE EXTENSION learned_index VERSION '0.2.0'});
for my $c ([ 'extension members', $members_sql ], [ 'function definitions and comments', $funcs_sql ],
	[ 'operator classes', $opclass_sql ], [ 'operators of the families', $amop_sql ])
{
	my $upgraded = q1($c->[1]);
	isnt($upgraded, '', "upgraded: $c->[0] not empty");
	is($upgraded, $node->safe_psql('fresh', $c->[1]), "upgraded = fresh 0.2.0: $c->[0]");
}
is( q1(q{SELECT obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'learned'}),
	$node->safe_psql('fresh', q{SELECT obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'learned'}),
	'upgraded = fresh 0.2.0: access method comment');

# the new functions on the indexes built under 0.1.0
compare('0.2.0, before any retrain');
is( q1(q{SELECT keys || ':' || generation || ':' || retrains FROM learned_index_stats('t_k')}),
	$stats01, 'learned_index_stats: same counters through the 0.2.0 definition');
is( q1(q{SELECT dirty_leaves >= 0 AND local_retrains >= 0 FROM learned_index_stats('t_k')}),
	't', 'learned_index_stats has the new columns');
for my $idx (qw(t_k t_ts t_r))
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT learned_index_check('$idx', true)");
	is($ret, 0, "learned_index_check('$idx', true) on a 0.1.0 index") or diag($err);
	($ret, $out, $err) = $node->psql('postgres', "SELECT learned_index_check('$idx')");
	is($ret, 0, "learned_index_check('$idx') (default heapallindexed)") or diag($err);
}
for my $idx (qw(t_k t_ts t_r))
{
	my ($gen0, $ret0) = split /\|/, q1("SELECT generation, retrains FROM learned_index_stats('$idx')");
	q1("SELECT learned_index_retrain('$idx', true)");
	my ($gen1, $ret1, $pending, $ok) = split /\|/,
	  q1("SELECT generation, retrains, pending, max_error <= epsilon FROM learned_index_stats('$idx')");
	cmp_ok($gen1, '>', $gen0, "learned_index_retrain('$idx', true): new generation");
	cmp_ok($ret1, '>', $ret0, "learned_index_retrain('$idx', true): retrains counted");
	is("$pending:$ok", '0:t', "$idx after full retrain: nothing pending, max_error <= epsilon");
	q1("SELECT learned_index_retrain('$idx')");    # default full => false
	is( q1(qq{SELECT sum(entries) = (SELECT keys FROM learned_index_stats('$idx'))
	                 AND bool_and(max_error <= (SELECT epsilon FROM learned_index_stats('$idx')))
	                 AND count(*) = (SELECT segments FROM learned_index_stats('$idx'))
	          FROM learned_index_segments('$idx')}),
		't', "learned_index_segments('$idx'): entries sum to keys, errors within epsilon, one row per segment");
}
is(q1(q{SELECT epsilon FROM learned_index_stats('t_ts')}), '16', 't_ts keeps epsilon 16');
compare('0.2.0, after full retrains');
for my $idx (qw(t_k t_ts t_r))
{
	is(q1("SELECT learned_index_check('$idx', true)"), '', "$idx: check after retrains");
}
# new indexes under 0.2.0 next to the old ones
q1('CREATE INDEX t_k2 ON t USING learned (k) WITH (epsilon = 8)');
is(q1("SELECT learned_index_check('t_k2', true)"), '', 'a new index under 0.2.0 passes the check');

# ------------------------------------------------------------------
# 0.2.0 -> 0.3.0: cross-type datetime comparisons
# ------------------------------------------------------------------
q1(q{
	CREATE TABLE dt (id int, d date, ts timestamp);
	INSERT INTO dt SELECT g, date '2018-03-01' + g / 96,
		timestamp '2018-03-01' + g * interval '15 minutes' FROM generate_series(1, 20000) g;
	INSERT INTO dt VALUES (0, '-infinity', '-infinity'), (-1, 'infinity', 'infinity'), (-2, NULL, NULL);
	CREATE INDEX dt_d ON dt USING learned (d);
	CREATE INDEX dt_ts ON dt USING learned (ts);
	ANALYZE dt;
});
my @dtq = (
	"SELECT $fp FROM dt WHERE d < '2018-03-11 12:00'::timestamp",
	"SELECT $fp FROM dt WHERE d = '2018-03-11 00:00'::timestamp",
	"SELECT $fp FROM dt WHERE d >= '2018-03-11 07:30+00'::timestamptz AND d < '2018-03-20'",
	"SELECT $fp FROM dt WHERE ts >= '2018-03-11'::date AND ts < '2018-03-12'::date",
	"SELECT $fp FROM dt WHERE ts > '2018-03-11 06:30+00'::timestamptz AND ts <= '2018-03-11 08:00+00'::timestamptz",
	"SELECT $fp FROM t WHERE ts >= '2024-01-20 12:00'::timestamp AND ts < '2024-02-03'::date",
	"SELECT $fp FROM t WHERE ts = '2024-01-05'::date",
);
my $tzset = "SET TimeZone = 'America/New_York';";
sub dt_plans_use_index
{
	my ($label) = @_;
	for my $q (@dtq)
	{
		my $plan = q1("$tzset $force_index EXPLAIN (COSTS OFF) $q");
		like($plan, qr/using (dt_d|dt_ts|t_ts)\b/, "$label: plan uses the learned index: $q");
	}
}
sub dt_compare
{
	my ($label) = @_;
	my @i = split /\n/, q1(join("\n", $tzset, $force_index, map { "$_;" } @dtq));
	my @s = split /\n/, q1(join("\n", $tzset, $force_seq, map { "$_;" } @dtq));
	is($i[$_], $s[$_], "$label: index = seqscan: $dtq[$_]") for 0 .. $#dtq;
}
my ($r0) = q1("$tzset $force_index EXPLAIN (COSTS OFF) $dtq[0]");
unlike($r0, qr/using dt_d\b/, '0.2.0: date vs timestamp does not use the index');

q1(q{ALTER EXTENSION learned_index UPDATE TO '0.3.0'});
is(q1(q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}),
	'0.3.0', 'ALTER EXTENSION UPDATE TO 0.3.0: extversion = 0.3.0');
dt_plans_use_index('0.3.0 (upgraded)');
dt_compare('0.3.0 (upgraded)');
compare('0.3.0 (upgraded)');
for my $idx (qw(t_k t_ts t_r dt_d dt_ts))
{
	is(q1("SELECT learned_index_check('$idx', true)"), '', "$idx: check after the 0.3.0 update");
}
# the same classes and the same (left, right, strategy, operator) entries as
# a fresh 0.3.0 install; only the family names differ (the 0.2.0 classes
# keep one family each, fresh installs have datetime_ops)
$node->safe_psql('postgres', 'CREATE DATABASE fresh3');
$node->safe_psql('fresh3', q{CREATE EXTENSION learned_index VERSION '0.3.0'});
my $opclass3_sql = q{
	SELECT string_agg(format('%s %s %s', opc.opcname, opc.opcintype::regtype, opc.opcdefault),
	                  E'\n' ORDER BY opc.opcname)
	FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod WHERE am.amname = 'learned'
};
my $amop3_sql = q{
	SELECT count(*) || ':' || md5(string_agg(format('%s %s %s %s', amoplefttype::regtype,
	                                                 amoprighttype::regtype, amopstrategy, amopopr::regoperator),
	                                          ',' ORDER BY 1))
	FROM pg_amop ao JOIN pg_am am ON am.oid = ao.amopmethod WHERE am.amname = 'learned'
};
for my $c ([ 'operator classes', $opclass3_sql ], [ 'operators (any family)', $amop3_sql ],
	[ 'function definitions and comments', $funcs_sql ])
{
	is(q1($c->[1]), $node->safe_psql('fresh3', $c->[1]), "upgraded = fresh 0.3.0: $c->[0]");
}
is($node->safe_psql('fresh3', q{SELECT count(*) FROM pg_opfamily f JOIN pg_am a ON a.oid = f.opfmethod
                                 WHERE a.amname = 'learned' AND f.opfname = 'datetime_ops'}),
	'1', 'fresh 0.3.0 has the datetime_ops family');
is($node->safe_psql('fresh3', q{SELECT string_agg(amvalidate(oid)::text, ',') FROM pg_opclass
                                 WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'learned')}),
	q1(q{SELECT string_agg(amvalidate(oid)::text, ',') FROM pg_opclass
	      WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'learned')}),
	'amvalidate: same verdicts upgraded and fresh');
is(q1(q{SELECT bool_and(amvalidate(oid)) FROM pg_opclass
         WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'learned')
           AND opcintype IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)}),
	't', 'amvalidate accepts the upgraded datetime classes');

# ------------------------------------------------------------------
# 0.3.0 -> 0.4.0: learned_index_stats() reports the compressed leaves
# ------------------------------------------------------------------
is(q1(q{SELECT keys FROM learned_index_stats('t_k')}), q1('SELECT count(k) FROM t'),
	'0.3.0 definition of learned_index_stats still works');
q1('ALTER EXTENSION learned_index UPDATE');
is(q1(q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}),
	'0.4.0', 'ALTER EXTENSION UPDATE: extversion = 0.4.0');
$node->safe_psql('postgres', 'CREATE DATABASE fresh4');
$node->safe_psql('fresh4', 'CREATE EXTENSION learned_index');
is(q1($funcs_sql), $node->safe_psql('fresh4', $funcs_sql),
	'upgraded = fresh 0.4.0: function definitions and comments');
is(q1(q{SELECT sorted_bytes_per_entry > 0 AND sorted_bytes_per_entry < 14
                AND key_bits_max BETWEEN 0 AND 64 AND tid_bits_max BETWEEN 0 AND 64
                AND key_bits_avg >= 0 AND tid_bits_avg > 0
                AND (key_bits_avg + tid_bits_avg) / 8 <= sorted_bytes_per_entry
         FROM learned_index_stats('t_k')}),
	't', '0.4.0 learned_index_stats reports bytes per entry and widths');
compare('0.4.0 (upgraded)');
for my $idx (qw(t_k t_ts t_r dt_d dt_ts))
{
	is(q1("SELECT learned_index_check('$idx', true)"), '', "$idx: check after the 0.4.0 update");
}

# ------------------------------------------------------------------
# DROP EXTENSION ... CASCADE
# ------------------------------------------------------------------
my $rows_before_drop = q1('SELECT count(*) FROM t');
my ($am_oid, $ext_oid) = split /\|/,
  q1(q{SELECT (SELECT oid FROM pg_am WHERE amname = 'learned'), (SELECT oid FROM pg_extension WHERE extname = 'learned_index')});
my ($ret, $out, $err) = $node->psql('postgres', 'DROP EXTENSION learned_index');
isnt($ret, 0, 'DROP EXTENSION without CASCADE refuses while learned indexes exist');
like($err, qr/depend/, 'error names the dependent objects');

q1('DROP EXTENSION learned_index CASCADE');
is(q1(q{SELECT count(*) FROM pg_extension WHERE extname = 'learned_index'}), '0', 'extension gone');
is(q1(qq{SELECT count(*) FROM pg_am WHERE amname = 'learned' OR oid = $am_oid}), '0', 'no learned access method in pg_am');
is(q1(qq{SELECT count(*) FROM pg_opclass WHERE opcmethod = $am_oid}), '0', 'no operator class of learned in pg_opclass');
is(q1(qq{SELECT count(*) FROM pg_opfamily WHERE opfmethod = $am_oid}), '0', 'no operator family of learned in pg_opfamily');
is(q1(qq{SELECT count(*) FROM pg_amop WHERE amopmethod = $am_oid}), '0', 'no pg_amop rows of learned');
is(q1(q{SELECT count(*) FROM pg_proc WHERE proname LIKE 'learned%'}), '0', 'no learned% functions in pg_proc');
is(q1(qq{SELECT count(*) FROM pg_class WHERE relam = $am_oid}), '0', 'no relation uses the dropped access method');
is(q1(q{SELECT count(*) FROM pg_class WHERE relname IN ('t_k', 't_ts', 't_r', 't_k2', 'dt_d', 'dt_ts')}), '0', 'the learned indexes were dropped');
is(q1(qq{SELECT count(*) FROM pg_depend WHERE (refclassid = 'pg_extension'::regclass AND refobjid = $ext_oid)
	                                       OR (refclassid = 'pg_am'::regclass AND refobjid = $am_oid)}),
	'0', 'no pg_depend rows point at the extension or the access method');
is(q1(q{SELECT count(*) FROM pg_description WHERE description LIKE '%learned%'}), '0', 'no comment left behind');
is(q1('SELECT count(*) FROM t'), $rows_before_drop, 'table t survives with its rows');
is(q1('SELECT count(*) FROM t WHERE k BETWEEN 300000 AND 450000'),
	q1("$force_seq SELECT count(*) FROM t WHERE k BETWEEN 300000 AND 450000"), 'queries on t still work');

# and it can be installed again, straight at 0.4.0
q1('CREATE EXTENSION learned_index');
is(q1(q{SELECT extversion FROM pg_extension WHERE extname = 'learned_index'}), '0.4.0', 're-created at 0.4.0');
q1('CREATE INDEX t_k ON t USING learned (k)');
q1('CREATE INDEX t_ts ON t USING learned (ts)');
q1('CREATE INDEX dt_d ON dt USING learned (d)');
q1('CREATE INDEX dt_ts ON dt USING learned (ts)');
compare('re-created extension');
dt_plans_use_index('fresh 0.4.0');
dt_compare('fresh 0.4.0');
is(q1("SELECT learned_index_check('t_k', true)"), '', 'check passes on the new index');

my $log = slurp_file($node->logfile);
unlike($log, qr/TRAP:|PANIC|server process .* was terminated/, 'no crash or assertion failure');

$node->stop;
done_testing();
