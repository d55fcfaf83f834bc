--
-- 06_stats: learned_index_stats() against the data (keys, NULLs, pages,
-- segments, error bound) for several epsilons, fillfactors and key
-- distributions; reloption changes taking effect at retrain; and the
-- planner's choices (learned index for selective predicates, sequential scan
-- for unselective ones, learned index over a btree for point lookups).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- key distributions, 20000 rows each
CREATE TABLE tdist (dist text, k int8) WITH (autovacuum_enabled = off);
SELECT setseed(0.61);
INSERT INTO tdist SELECT 'sequential', g FROM generate_series(1, 20000) g;
INSERT INTO tdist SELECT 'uniform', (random() * 1e12)::int8 FROM generate_series(1, 20000);
-- exponential / skewed: most keys small, a long sparse tail
INSERT INTO tdist SELECT 'skewed', exp(random() * 40)::int8 FROM generate_series(1, 20000);
-- five dense clusters far apart
INSERT INTO tdist SELECT 'clustered', (g % 5) * 1000000000000 + (random() * 10000)::int8
    FROM generate_series(1, 20000) g;
-- heavy duplicates: 20 values, Zipf-like frequencies
INSERT INTO tdist SELECT 'duplicates', (20 * random() ^ 4)::int8 * 1000 FROM generate_series(1, 20000);
-- one value, and runs of one value longer than a leaf page
INSERT INTO tdist SELECT 'constant', 42 FROM generate_series(1, 20000);
INSERT INTO tdist SELECT 'runs', g / 2000 FROM generate_series(1, 20000) g;
-- steps: dense runs of consecutive keys separated by huge gaps
INSERT INTO tdist SELECT 'steps', (g / 1000) * 1000000000::int8 + g % 1000 FROM generate_series(1, 20000) g;
-- with NULLs mixed in
INSERT INTO tdist SELECT 'nulls', CASE WHEN g % 3 = 0 THEN NULL ELSE g * 7 END FROM generate_series(1, 20000) g;
-- extremes of the key space
INSERT INTO tdist SELECT 'extremes', CASE WHEN g % 2 = 0 THEN -9223372036854775808 + g ELSE 9223372036854775807 - g END
    FROM generate_series(1, 20000) g;

-- leaf pages expected for nk keys at a fillfactor ff: a leaf's compressed
-- block holds at most 8192 entries, and a leaf of m entries keeps room for
-- (100 - ff) / ff * m more in its tail (14 bytes each); the widest entries
-- (64-bit key residuals, 48-bit TIDs) take 14 bytes and a block 56 bytes
-- more (header, slack), so no index needs more leaves than that worst case
-- (+1 for the balanced last two), nor fewer than nk / 8192
CREATE FUNCTION pages_fit(leaf_pages bigint, nk bigint, ff int) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT leaf_pages BETWEEN greatest(1, ceil(nk / 8192.0))
                          AND greatest(1, ceil(nk / floor((8152 - 70) * ff / 1400.0)) + 1)
$$;

-- build one index per distribution and epsilon, and check what
-- learned_index_stats reports against the data
CREATE FUNCTION stats_check(eps int, ff int DEFAULT NULL)
RETURNS TABLE (dist text, keys_ok boolean, nulls_ok boolean, pages_ok boolean,
               segments_ok boolean, error_bounded boolean, radius_ok boolean,
               clean boolean, epsilon_ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
    d text;
    s record;
    nk bigint;
    nn bigint;
    nd bigint;
BEGIN
    FOR d IN SELECT DISTINCT t.dist FROM tdist t ORDER BY 1 LOOP
        EXECUTE format('CREATE TEMP TABLE st AS SELECT k FROM tdist WHERE dist = %L', d);
        EXECUTE format('CREATE INDEX st_l ON st USING learned (k) WITH (epsilon = %s%s)',
                       eps, CASE WHEN ff IS NULL THEN '' ELSE ', fillfactor = ' || ff END);
        SELECT count(k), count(*) - count(k), count(DISTINCT k) INTO nk, nn, nd FROM st;
        SELECT * INTO s FROM learned_index_stats('st_l');
        dist := d;
        keys_ok := s.keys = nk;
        nulls_ok := s.nulls = nn;
        pages_ok := pages_fit(s.leaf_pages, nk, coalesce(ff, 95))
                    AND s.index_bytes = pg_relation_size('st_l');
        -- at least one segment, at most one per point fitted (a key and its gap)
        segments_ok := s.segments >= 1 AND s.segments <= 2 * nd + 2;
        error_bounded := s.max_error <= s.epsilon;
        radius_ok := s.search_radius >= s.epsilon AND s.search_radius >= s.max_error;
        clean := s.pending = 0 AND s.dead = 0 AND s.delta_pages = 0;
        epsilon_ok := s.epsilon = eps;
        RETURN NEXT;
        DROP TABLE st;
    END LOOP;
END $$;
SELECT * FROM stats_check(1);
SELECT * FROM stats_check(4);
SELECT * FROM stats_check(32, 100);
SELECT * FROM stats_check(256, 50);
SELECT * FROM stats_check(65536, 10);

-- a larger epsilon never needs more segments
CREATE FUNCTION segments_for(d text, eps int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('CREATE TEMP TABLE st AS SELECT k FROM tdist WHERE dist = %L', d);
    EXECUTE format('CREATE INDEX st_l ON st USING learned (k) WITH (epsilon = %s)', eps);
    SELECT segments INTO n FROM learned_index_stats('st_l');
    DROP TABLE st;
    RETURN n;
END $$;
SELECT d, s1 >= s8 AS s1_ge_s8, s8 >= s64 AS s8_ge_s64, s64 >= s4096 AS s64_ge_s4096
  FROM (SELECT d, segments_for(d, 1) AS s1, segments_for(d, 8) AS s8,
               segments_for(d, 64) AS s64, segments_for(d, 4096) AS s4096
          FROM (SELECT DISTINCT dist FROM tdist) AS x(d)) AS y
 ORDER BY d;

-- the error bound after inserts and a retrain, on floats, dates, timestamps
CREATE TABLE tstat2 (f float8, d date, ts timestamptz) WITH (autovacuum_enabled = off);
SELECT setseed(0.62);
INSERT INTO tstat2 SELECT random() * 1000, date '2020-01-01' + (random() * 3000)::int,
    timestamptz '2020-01-01 00:00+00' + random() * interval '3000 days' FROM generate_series(1, 20000);
CREATE INDEX tstat2_f ON tstat2 USING learned (f) WITH (epsilon = 8);
CREATE INDEX tstat2_d ON tstat2 USING learned (d) WITH (epsilon = 2);
CREATE INDEX tstat2_ts ON tstat2 USING learned (ts);
INSERT INTO tstat2 SELECT random() * 2000, date '2010-01-01' + (random() * 9000)::int,
    timestamptz '2000-01-01 00:00+00' + random() * interval '9000 days' FROM generate_series(1, 20000);
VACUUM tstat2;
SELECT i, keys = 40000 AS keys_ok, max_error <= epsilon AS error_bounded, pending = 0 AS merged
  FROM unnest(ARRAY['tstat2_f', 'tstat2_d', 'tstat2_ts']) AS i, learned_index_stats(i::regclass);

-- a new epsilon / fillfactor takes effect at the next full retrain, and at REINDEX
CREATE TABLE tre (k int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.63);
INSERT INTO tre SELECT (random() * 1000000)::int FROM generate_series(1, 50000);
CREATE INDEX tre_l ON tre USING learned (k);
SELECT epsilon, pages_fit(leaf_pages, keys, 95) AS ff95_pages FROM learned_index_stats('tre_l');
ALTER INDEX tre_l SET (epsilon = 4, fillfactor = 50);
SELECT epsilon FROM learned_index_stats('tre_l');
SELECT li_check('SELECT k FROM tre WHERE k BETWEEN 1000 AND 5000');
SELECT learned_index_retrain('tre_l', full => true);
SELECT epsilon, max_error <= 4 AS error_bounded, pages_fit(leaf_pages, keys, 50) AS ff50_pages
  FROM learned_index_stats('tre_l');
SELECT li_check('SELECT k FROM tre WHERE k BETWEEN 1000 AND 5000');
ALTER INDEX tre_l RESET (epsilon, fillfactor);
REINDEX INDEX tre_l;
SELECT epsilon, max_error <= 32 AS error_bounded, pages_fit(leaf_pages, keys, 95) AS ff95_pages
  FROM learned_index_stats('tre_l');
SELECT li_check('SELECT k FROM tre WHERE k BETWEEN 1000 AND 5000');

--
-- the planner
--
CREATE TABLE tplan (k int4, v text) WITH (autovacuum_enabled = off);
SELECT setseed(0.64);
INSERT INTO tplan SELECT g, repeat('x', 50) FROM generate_series(1, 100000) g ORDER BY random();
CREATE INDEX tplan_l ON tplan USING learned (k);
-- sample every row, so that the statistics do not depend on ANALYZE's sampling
ALTER TABLE tplan ALTER COLUMN k SET STATISTICS 1000;
VACUUM ANALYZE tplan;
-- selective: the learned index
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k = 4242;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k BETWEEN 4242 AND 4262;
EXPLAIN (COSTS OFF) SELECT k FROM tplan WHERE k BETWEEN 4242 AND 5242;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k BETWEEN 4242 AND 5242;
EXPLAIN (COSTS OFF) SELECT * FROM tplan ORDER BY k LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k > 50000 ORDER BY k DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k IS NULL;
EXPLAIN (COSTS OFF) SELECT min(k), max(k) FROM tplan;
-- unselective: a sequential scan
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k > 1000;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k IS NOT NULL;
-- (a count needs only the key: an index-only scan of the all-visible table)
EXPLAIN (COSTS OFF) SELECT count(*) FROM tplan WHERE k < 60000;
SELECT li_check('SELECT * FROM tplan WHERE k BETWEEN 4242 AND 5242', false, '{index,bitmap}');
-- the same choices when a btree index on the same column competes: a point
-- lookup and a short range go to the learned index
CREATE INDEX tplan_b ON tplan USING btree (k);
ANALYZE tplan;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k = 4242;
EXPLAIN (COSTS OFF) SELECT k FROM tplan WHERE k = 4242;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k BETWEEN 4242 AND 4262;
EXPLAIN (COSTS OFF) SELECT * FROM tplan WHERE k > 1000;
-- the learned index's estimate for a point lookup is below the btree's
CREATE FUNCTION plan_cost(q text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END $$;
SET enable_bitmapscan = off;
BEGIN;
DROP INDEX tplan_b;
SELECT plan_cost('SELECT * FROM tplan WHERE k = 4242') AS learned_cost \gset
ROLLBACK;
BEGIN;
DROP INDEX tplan_l;
SELECT plan_cost('SELECT * FROM tplan WHERE k = 4242') AS btree_cost \gset
ROLLBACK;
SELECT :learned_cost < :btree_cost AS learned_cheaper;
RESET enable_bitmapscan;

DROP TABLE tdist, tstat2, tre, tplan;
DROP FUNCTION stats_check(int, int);
DROP FUNCTION segments_for(text, int);
DROP FUNCTION plan_cost(text);
DROP FUNCTION pages_fit(bigint, bigint, int);
