-- scripts/demo.sql -- btree vs learned index, side by side.
--
-- Run by scripts/demo.sh, in a throwaway cluster, as a superuser (the
-- Debian sample is read with server-side COPY). It builds two data sets,
-- each into two identical tables (one gets a btree, the other a learned
-- index) and then runs scripts/demo_compare.sql once per data set.
--
--   uni    :nkeys random distinct bigint keys over the whole bigint range
--   real   :nkeys distinct keys shaped like the Installed-Size values of the
--          Debian packages (data/debian-installed-size.txt: 63,314 values,
--          10,347 distinct, heavily skewed): each key is a value drawn from
--          the file times 2^20 plus uniform jitter below 2^20, so the key
--          CDF follows the real one while keys stay distinct
--
-- Both heaps are in random order. Parameters (psql -v name=value):
--   nkeys     rows per table                          default 1000000
--   nprobes   probes in the nested-loop lookup        default 100000
--   datafile  absolute path of the Debian sample      (required)
--   am        access method of the second index       default learned
--   reps      timed runs per measurement (best kept)  default 3

\set ON_ERROR_STOP on
\set QUIET on
\pset pager off
\if :{?nkeys}
\else
\set nkeys 1000000
\endif
\if :{?nprobes}
\else
\set nprobes 100000
\endif
\if :{?am}
\else
\set am learned
\endif
\if :{?reps}
\else
\set reps 3
\endif

SET client_min_messages = warning;
-- one backend, no JIT: timings compare the indexes, not the planner's
-- parallelism or LLVM
SET jit = off;
SET max_parallel_workers_per_gather = 0;
SET max_parallel_maintenance_workers = 0;

CREATE EXTENSION IF NOT EXISTS learned_index;
SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'learned_index_stats')
	AS have_stats \gset

-- best of :reps runs of a statement, in milliseconds
CREATE FUNCTION demo_time_ms(q text, reps int DEFAULT 1) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	t0		timestamptz;
	ms		numeric;
	best	numeric;
BEGIN
	FOR i IN 1..reps LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
		best := least(best, ms);
	END LOOP;
	RETURN round(best, 1);
END
$$;

CREATE TABLE demo_results (
	dataset			text,
	nrows			bigint,
	btree_bytes		bigint,
	learned_bytes	bigint,
	btree_build_ms	numeric,
	learned_build_ms numeric,
	btree_probe_ms	numeric,
	learned_probe_ms numeric
);

SELECT setseed(0.4242) \gset seed_

\echo
\echo '=== loading: uniform data set (':nkeys' random distinct bigint keys)'
CREATE TABLE uni_bt AS
SELECT k, (abs(k) % 1000)::int AS v
FROM (SELECT DISTINCT ((random() - 0.5) * 1.8e19)::bigint AS k
	  FROM generate_series(1, :nkeys + :nkeys / 100 + 100)) d
ORDER BY random()
LIMIT :nkeys;

\echo '=== loading: real data set (':nkeys' keys shaped like' :datafile')'
CREATE TABLE real_src (v bigint);
COPY real_src (v) FROM :'datafile';
SELECT count(*) AS nsrc, count(DISTINCT v) AS nsrc_distinct FROM real_src \gset
\echo '    sample:' :nsrc 'values,' :nsrc_distinct 'distinct'
CREATE TABLE real_bt AS
SELECT k, (k % 1000)::int AS v
FROM (SELECT DISTINCT s.v * 1048576 + floor(random() * 1048576)::bigint AS k
	  FROM (SELECT 1 + floor(random() * :nsrc)::bigint AS i
			FROM generate_series(1, :nkeys + :nkeys / 50 + 100)) g
	  JOIN (SELECT row_number() OVER () AS i, v FROM real_src) s USING (i)) d
ORDER BY random()
LIMIT :nkeys;

-- identical copies (same physical order) for the second index, and the
-- probe keys (existing keys, random order)
CREATE TABLE uni_li AS TABLE uni_bt;
CREATE TABLE real_li AS TABLE real_bt;
CREATE TABLE uni_probes AS SELECT k FROM uni_bt ORDER BY random() LIMIT :nprobes;
CREATE TABLE real_probes AS SELECT k FROM real_bt ORDER BY random() LIMIT :nprobes;
VACUUM ANALYZE uni_bt, uni_li, uni_probes, real_bt, real_li, real_probes;

\set ds uni
\ir demo_compare.sql
\set ds real
\ir demo_compare.sql

\echo
\echo '=== summary: btree vs' :am '(sizes from pg_relation_size; probe = best of' :reps 'runs of' :nprobes 'nested-loop lookups)'
SELECT dataset,
	   nrows,
	   pg_size_pretty(btree_bytes) AS btree_size,
	   pg_size_pretty(learned_bytes) AS learned_size,
	   round(btree_bytes::numeric / nrows, 2) AS btree_b_per_key,
	   round(learned_bytes::numeric / nrows, 2) AS learned_b_per_key,
	   btree_build_ms,
	   learned_build_ms,
	   btree_probe_ms,
	   learned_probe_ms,
	   round(btree_probe_ms / nullif(learned_probe_ms, 0), 2) AS probe_speedup
FROM demo_results
ORDER BY dataset DESC;
