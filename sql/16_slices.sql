--
-- 16_slices: retrains in slices (learned_index.retrain_slice_leaves).  A
-- retrain rewrites its dirty leaves a slice at a time, each slice with its
-- own switch, the pages it replaced reused by the next: a bulk-merge batch
-- that dirties every leaf, a VACUUM, and threshold retrains of single
-- rows, each of which rewrites one slice and leaves the rest for the next
-- commits.  After each step the index returns exactly what a sequential
-- scan does (per-key counts), learned_index_check(heapallindexed) passes,
-- and the file stays near the size of its live pages.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- per-key counts through the index vs a sequential scan, and the check
CREATE FUNCTION sl_same(tab text, idx text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    q text := format('SELECT k, count(*) FROM %I WHERE k > -1 GROUP BY k ORDER BY k', tab);
BEGIN
    IF NOT li_plan_uses(q, li_mode_settings('ios'), 'Index Only Scan') THEN
        RETURN 'noidx';
    END IF;
    IF li_fingerprint(q, li_mode_settings('ios')) IS DISTINCT FROM
       li_fingerprint(q, li_mode_settings('seq')) THEN
        RETURN 'DIFF';
    END IF;
    PERFORM learned_index_check(idx::regclass, true);
    RETURN 'ok';
END $$;

-- leaf pages, retrains and whether the file is within 1.25x of what the
-- live structure needs (leaves, delta pages, model and metapage)
CREATE FUNCTION sl_state(idx text, OUT leaves int, OUT delta int, OUT retrains bigint,
                         OUT compact bool)
LANGUAGE sql AS $$
    SELECT leaf_pages::int, delta_pages::int, retrains,
           pg_relation_size(idx::regclass) / 8192 <= (leaf_pages + delta_pages + 4) * 1.25
      FROM learned_index_stats(idx::regclass)
$$;

CREATE TABLE sl (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO sl SELECT (g::int8 * 7919) % 200003 * 1000, 0 FROM generate_series(1, 200000) g;
CREATE INDEX sl_l ON sl USING learned (k);
SELECT leaves > 16 AS enough_leaves, delta, retrains, compact FROM sl_state('sl_l');

-- a batch of 30% of the index: a bulk merge that dirties every leaf, in 8
-- slices (at least an eighth of the leaves each)
SET learned_index.retrain_slice_leaves = 1;
INSERT INTO sl SELECT (g::int8 * 104729) % 200003 * 1000 + 1, 1 FROM generate_series(1, 60000) g;
SELECT delta, retrains AS slices, compact FROM sl_state('sl_l');
SELECT sl_same('sl', 'sl_l');

-- the same batch in one switch: the file holds the old copy too
CREATE TABLE sl1 (LIKE sl) WITH (autovacuum_enabled = off);
INSERT INTO sl1 SELECT (g::int8 * 7919) % 200003 * 1000, 0 FROM generate_series(1, 200000) g;
CREATE INDEX sl1_l ON sl1 USING learned (k);
SET learned_index.retrain_slice_leaves = 0;
INSERT INTO sl1 SELECT (g::int8 * 104729) % 200003 * 1000 + 1, 1 FROM generate_series(1, 60000) g;
SELECT delta, retrains AS switches, compact FROM sl_state('sl1_l');
SELECT sl_same('sl1', 'sl1_l');
RESET learned_index.retrain_slice_leaves;

-- deletes and pending entries everywhere: VACUUM retrains in slices, and
-- the file grows by a slice at most (an eighth of the leaves: the first
-- slice's new leaves are written before the pages they replace are free)
SET learned_index.retrain_slice_leaves = 1;
DELETE FROM sl WHERE k % 3000 = 0;
INSERT INTO sl SELECT (g::int8 * 15485863) % 200003 * 1000 + 2, 2 FROM generate_series(1, 5000) g;
SELECT pending > 0 AS has_pending FROM learned_index_stats('sl_l');
SELECT pg_relation_size('sl_l') AS size_before \gset
VACUUM sl;
SELECT delta, retrains > 8 AS sliced, pg_relation_size('sl_l') <= :size_before * 1.15 AS bounded
  FROM sl_state('sl_l');
SELECT sl_same('sl', 'sl_l');
RESET learned_index.retrain_slice_leaves;

-- single rows into leaves without tail room (fillfactor 100) at a low
-- threshold: each commit that finds the index over it rewrites one slice
-- (the leaves its batch overflowed, at least retrain_slice_leaves = 2)
-- and leaves the rest dirty for the next commits
CREATE TABLE sr (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO sr SELECT (g::int8 * 7919) % 200003 * 1000, 0 FROM generate_series(1, 200000) g;
CREATE INDEX sr_l ON sr USING learned (k) WITH (fillfactor = 100, retrain_threshold = 0.05);
SET learned_index.retrain_slice_leaves = 2;
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        INSERT INTO sr VALUES ((i::int8 * 7727) % 200003 * 1000 + 3, 3);
        COMMIT;
    END LOOP;
END $$;
SELECT retrains > 10 AS many_retrains, local_retrains = retrains AS all_local,
       dirty_leaves < leaf_pages / 10 AS mostly_clean,
       pg_relation_size('sr_l') / 8192 <= (leaf_pages + delta_pages + 4) * 1.25 AS compact
  FROM learned_index_stats('sr_l');
SELECT sl_same('sr', 'sr_l');
SELECT v, count(*) FROM sr GROUP BY v ORDER BY v;
RESET learned_index.retrain_slice_leaves;

-- a batch of under 10% of the index that would overflow most of the
-- leaves it touches is merged into their retrain (no delta pages), as a
-- larger one is; one that fits the tails is appended
CREATE TABLE sp (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO sp SELECT (g::int8 * 7919) % 250007 * 1000, 0 FROM generate_series(1, 250000) g;
CREATE INDEX sp_l ON sp USING learned (k);
SET learned_index.retrain_slice_leaves = 1;
INSERT INTO sp SELECT (g::int8 * 104729) % 250007 * 1000 + 1, 1 FROM generate_series(1, 15000) g;
RESET learned_index.retrain_slice_leaves;
SELECT delta_pages, retrains > 0 AS merged,
       pg_relation_size('sp_l') / 8192 <= (leaf_pages + delta_pages + 4) * 1.25 AS compact
  FROM learned_index_stats('sp_l');
SELECT sl_same('sp', 'sp_l');
INSERT INTO sp SELECT (g::int8 * 15485863) % 250007 * 1000 + 2, 2 FROM generate_series(1, 300) g;
SELECT retrains > 1 AS sliced, pending > 0 AS appended FROM learned_index_stats('sp_l');
SELECT sl_same('sp', 'sp_l');

-- inside a transaction that rolls back, and in a savepoint rolled back
-- after its flush: nothing of the aborted level stays visible
SET learned_index.retrain_slice_leaves = 1;
BEGIN;
INSERT INTO sl SELECT (g::int8 * 7) % 200003 * 1000 + 4, 4 FROM generate_series(1, 40000) g;
SELECT count(*) FROM sl WHERE k % 1000 = 4;
SAVEPOINT s;
INSERT INTO sl SELECT (g::int8 * 11) % 200003 * 1000 + 5, 5 FROM generate_series(1, 40000) g;
SELECT count(*) FROM sl WHERE k % 1000 = 5;
ROLLBACK TO s;
COMMIT;
SELECT v, count(*) FROM sl GROUP BY v ORDER BY v;
SELECT sl_same('sl', 'sl_l');
BEGIN;
INSERT INTO sl SELECT (g::int8 * 13) % 200003 * 1000 + 6, 6 FROM generate_series(1, 40000) g;
SELECT count(*) FROM sl WHERE k % 1000 = 6;
ROLLBACK;
VACUUM sl;
SELECT sl_same('sl', 'sl_l');
RESET learned_index.retrain_slice_leaves;

-- learned_index.retrain_neighbours: a short run of overflowed leaves takes
-- a clean neighbour along (on, the default: fewer, fuller leaves) or is
-- split alone (off: more leaves, about half of the rewrites); the same
-- rows either way
CREATE TABLE nb_on (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO nb_on SELECT g::int8 * 1000, 0 FROM generate_series(1, 100000) g;
CREATE TABLE nb_off (LIKE nb_on) WITH (autovacuum_enabled = off);
INSERT INTO nb_off SELECT * FROM nb_on;
CREATE INDEX nb_on_l ON nb_on USING learned (k) WITH (retrain_threshold = 0.01);
CREATE INDEX nb_off_l ON nb_off USING learned (k) WITH (retrain_threshold = 0.01);
CREATE FUNCTION nb_load(tab text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..40 LOOP
		EXECUTE format('INSERT INTO %I SELECT (g::int8 * 7919 + %s) %% 100000 * 1000 + %s, 1 '
					   'FROM generate_series(1, 400) g', tab, i * 104729, i);
	END LOOP;
END $$;
SELECT nb_load('nb_on');
SET learned_index.retrain_neighbours = off;
SELECT nb_load('nb_off');
RESET learned_index.retrain_neighbours;
SELECT (SELECT retrains FROM learned_index_stats('nb_on_l')) > 1 AS on_retrained,
       (SELECT retrains FROM learned_index_stats('nb_off_l')) > 1 AS off_retrained,
       (SELECT leaf_pages FROM learned_index_stats('nb_off_l')) >
       (SELECT leaf_pages FROM learned_index_stats('nb_on_l')) AS off_has_more_leaves;
SELECT sl_same('nb_on', 'nb_on_l'), sl_same('nb_off', 'nb_off_l');
SELECT learned_index_check('nb_on_l', true), learned_index_check('nb_off_l', true);
DROP FUNCTION nb_load(text);
DROP TABLE nb_on, nb_off;

DROP TABLE sl, sl1, sr, sp;
