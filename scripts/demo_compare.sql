-- scripts/demo_compare.sql -- included by demo.sql once per data set.
-- Expects :ds (data set name, tables :ds_bt, :ds_li, :ds_probes), :am,
-- :nprobes, :reps and :have_stats.

\set bt :ds _bt
\set li :ds _li
\set probes :ds _probes
\set bt_idx :ds _bt_idx
\set li_idx :ds _li_idx

\echo
\echo '##########' :ds 'data set ##########'

-- build both indexes, timed
SELECT demo_time_ms(format('CREATE INDEX %I ON %I USING btree (k)',
						   :'bt_idx', :'bt')) AS bt_build_ms \gset
SELECT demo_time_ms(format('CREATE INDEX %I ON %I USING %I (k)',
						   :'li_idx', :'li', :'am')) AS li_build_ms \gset
VACUUM ANALYZE :bt, :li;
INSERT INTO demo_results (dataset, nrows, btree_bytes, learned_bytes,
						  btree_build_ms, learned_build_ms)
SELECT :'ds',
	   (SELECT count(*) FROM :bt),
	   pg_relation_size(:'bt_idx'),
	   pg_relation_size(:'li_idx'),
	   :bt_build_ms,
	   :li_build_ms;

\echo
\echo '--- index sizes'
SELECT :'bt_idx' AS btree_index,
	   pg_size_pretty(pg_relation_size(:'bt_idx')) AS btree_size,
	   :'li_idx' AS learned_index,
	   pg_size_pretty(pg_relation_size(:'li_idx')) AS learned_size;

\echo '--- point lookup, btree'
SELECT k AS probe_key FROM :probes LIMIT 1 \gset
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT * FROM :bt WHERE k = :probe_key;
\echo '--- point lookup,' :am
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT * FROM :li WHERE k = :probe_key;

-- a parameterized nested loop: one index probe per outer row
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_memoize = off;

\echo '---' :nprobes'-probe nested-loop lookup, btree'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
SELECT sum(t.v) FROM :probes p JOIN :bt t ON t.k = p.k;
\echo '---' :nprobes'-probe nested-loop lookup,' :am
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
SELECT sum(t.v) FROM :probes p JOIN :li t ON t.k = p.k;

UPDATE demo_results
SET btree_probe_ms = demo_time_ms(
		format('SELECT sum(t.v) FROM %I p JOIN %I t ON t.k = p.k',
			   :'probes', :'bt'), :reps),
	learned_probe_ms = demo_time_ms(
		format('SELECT sum(t.v) FROM %I p JOIN %I t ON t.k = p.k',
			   :'probes', :'li'), :reps)
WHERE dataset = :'ds';

RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_memoize;

\if :have_stats
\echo '--- SELECT * FROM learned_index_stats(':li_idx')'
\x on
SELECT * FROM learned_index_stats(:'li_idx');
\x off
\else
\echo '--- learned_index_stats() is not defined by the extension (yet)'
\endif
