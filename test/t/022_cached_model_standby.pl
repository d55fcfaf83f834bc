# Issue 16: scans skip the metapage read when their backend's cached model
# is trusted, learning of generation switches from the relcache
# invalidation every switch sends.  Replay of a switch on a hot standby
# sends none: a standby backend must never trust its model, and after a
# promotion a model confirmed during recovery must not be trusted either
# (it would miss switches replayed after its confirmation).  One standby
# session (kept open across the retrains and the promotion) caches the
# model, the primary rewrites every leaf (the old pages are recycled) and
# writes a row into the new pages; the session must find exactly the
# committed rows each time.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('cm_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->start;
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('cm_slot')");
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('cm_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'cm_slot'\n");
$standby->start;

$primary->safe_psql('postgres', q{
	CREATE EXTENSION learned_index;
	CREATE TABLE t (k int, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	CREATE INDEX t_k ON t USING learned (k);
});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

# the standby session: point queries through the index
my $s = $standby->background_psql('postgres', on_error_stop => 0);
$s->query_safe('SET enable_seqscan = off; SET enable_bitmapscan = off');
my $q = 'SELECT count(*) FROM t WHERE k = 15000';
# twice: a confirmation that raced with a replayed invalidation would not
# have trusted the model (an implementation that trusted models during
# recovery would then be caught below)
is($s->query($q), '1', 'standby: the model is cached');
is($s->query($q), '1', 'standby: the cached model is used');

# a whole rewrite on the primary (every leaf moves, old pages recycled),
# then a row that only the new pages hold
sub switch_and_insert
{
	my ($node, $v) = @_;
	$node->safe_psql('postgres', "SELECT learned_index_retrain('t_k', true)");
	$node->safe_psql('postgres', "INSERT INTO t VALUES (15000, $v)");
}

for my $round (1 .. 3)
{
	switch_and_insert($primary, $round);
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	is($s->query($q), 1 + $round, "standby round $round: the row written after the replayed switch is found");
}

# promotion: the session's model was confirmed during recovery
switch_and_insert($primary, 10);
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'promotion did not finish';
is($s->query($q), 5, 'after promotion: the session finds every row');

# a primary now: a switch by another session reaches the session's trusted
# model through the invalidation
for my $round (1 .. 2)
{
	switch_and_insert($standby, 20 + $round);
	is($s->query($q), 5 + $round, "promoted round $round: the row written after the switch is found");
}
my $seq = $standby->safe_psql('postgres',
	'SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; '
	  . 'SELECT count(*), sum(v) FROM t WHERE k BETWEEN 14000 AND 16000');
is($s->query('SELECT count(*), sum(v) FROM t WHERE k BETWEEN 14000 AND 16000'),
	$seq, 'promoted: a range through the index equals a sequential scan');
is($standby->safe_psql('postgres', "SELECT learned_index_check('t_k', true)"), '',
	'promoted: learned_index_check');
$s->quit;

done_testing();
