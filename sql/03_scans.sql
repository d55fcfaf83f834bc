--
-- 03_scans: scan shapes and data shapes.  Empty and one-row tables,
-- duplicates (all equal, long runs crossing leaf pages), heap order
-- ascending / descending / random, range scans at several selectivities,
-- missing keys and keys outside [min, max], ORDER BY ... LIMIT, rescans of
-- the inner side of a nested loop, mark/restore under a merge join, scroll
-- cursors, BitmapAnd/BitmapOr/IN lists, partitioned tables.  Results are
-- compared with sequential scans of the same queries.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

--
-- empty table
--
CREATE TABLE te (k int4) WITH (autovacuum_enabled = off);
CREATE INDEX te_l ON te USING learned (k);
SELECT keys, leaf_pages, nulls, pending, max_error FROM learned_index_stats('te_l');
SELECT li_check('SELECT k FROM te WHERE k = 1');
SELECT li_check('SELECT k FROM te WHERE k > 1');
SELECT li_check('SELECT k FROM te WHERE k IS NULL');
SELECT li_check('SELECT k FROM te ORDER BY k LIMIT 3', true, '{index,ios}');
SELECT li_check('SELECT k FROM te ORDER BY k DESC LIMIT 3', true, '{index,ios}');
SELECT li_cursor_check('SELECT k FROM te ORDER BY k', 'F2 B2 LAST FIRST');
SELECT min(k), max(k) FROM te;
-- the first rows inserted into the empty index
INSERT INTO te VALUES (5), (3), (NULL), (4);
SELECT li_check('SELECT k FROM te WHERE k >= 4');
SELECT li_check('SELECT k FROM te ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM te ORDER BY k DESC', true, '{index,ios}');
-- an empty table whose index is built after all rows were deleted
TRUNCATE te;
INSERT INTO te VALUES (1), (2);
DELETE FROM te;
VACUUM te;
SELECT keys, pending, dead FROM learned_index_stats('te_l');
SELECT li_check('SELECT k FROM te WHERE k >= 0');

--
-- one row
--
CREATE TABLE t1 (k int8, v text) WITH (autovacuum_enabled = off);
INSERT INTO t1 VALUES (42, 'only');
CREATE INDEX t1_l ON t1 USING learned (k);
SELECT keys, leaf_pages, segments FROM learned_index_stats('t1_l');
SELECT li_check('SELECT * FROM t1 WHERE k = 42', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM t1 WHERE k = 41');
SELECT li_check('SELECT k FROM t1 WHERE k = 43');
SELECT li_check('SELECT k FROM t1 WHERE k < 42');
SELECT li_check('SELECT k FROM t1 WHERE k <= 42');
SELECT li_check('SELECT k FROM t1 WHERE k > 42');
SELECT li_check('SELECT k FROM t1 WHERE k >= 42');
SELECT li_cursor_check('SELECT k FROM t1 ORDER BY k', 'F3 B3 F1 B1 LAST FIRST R1 R-1');
SELECT li_cursor_check('SELECT k FROM t1 ORDER BY k DESC', 'F3 B3 F1 B1 LAST FIRST R1 R-1', 'ios');

--
-- 100% duplicates: 100000 rows with one single value, over ~20 leaf pages
--
CREATE TABLE tdup (k int4, v int4) WITH (autovacuum_enabled = off);
INSERT INTO tdup SELECT 7, g FROM generate_series(1, 100000) g;
CREATE INDEX tdup_l ON tdup USING learned (k);
VACUUM ANALYZE tdup;
SELECT keys, leaf_pages > 10 AS many_leaves, segments >= 1 AS has_segments,
       max_error <= epsilon AS error_bounded FROM learned_index_stats('tdup_l');
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM tdup WHERE k = 7;
SELECT count(*) FROM tdup WHERE k = 7;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT * FROM tdup WHERE k = 7', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tdup WHERE k = 7');
SELECT li_check('SELECT k FROM tdup WHERE k = 6');
SELECT li_check('SELECT k FROM tdup WHERE k = 8');
SELECT li_check('SELECT k FROM tdup WHERE k < 7');
SELECT li_check('SELECT k FROM tdup WHERE k > 7');
SELECT li_check('SELECT k FROM tdup WHERE k <= 7');
SELECT li_check('SELECT k FROM tdup WHERE k >= 7 AND k < 8');
SELECT li_check('SELECT k FROM tdup WHERE k = 7 ORDER BY k DESC LIMIT 5', true);
SELECT li_cursor_check('SELECT k FROM tdup WHERE k = 7 ORDER BY k',
    'F1000 B1500 F3 MF99000 F2000 B1200 LAST B3 FIRST B2 F700');
-- one different value among the duplicates: first, middle and last in the heap
CREATE TABLE tneedle (k int4, v int4) WITH (autovacuum_enabled = off);
INSERT INTO tneedle VALUES (9, 0);
INSERT INTO tneedle SELECT 5, g FROM generate_series(1, 50000) g;
INSERT INTO tneedle VALUES (3, 50001);
INSERT INTO tneedle SELECT 5, g FROM generate_series(50002, 100000) g;
INSERT INTO tneedle VALUES (6, 100001);
CREATE INDEX tneedle_l ON tneedle USING learned (k);
VACUUM ANALYZE tneedle;
EXPLAIN (COSTS OFF) SELECT * FROM tneedle WHERE k = 6;
SELECT * FROM tneedle WHERE k = 6;
SELECT li_check('SELECT * FROM tneedle WHERE k = 6', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM tneedle WHERE k = 3', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM tneedle WHERE k = 9', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM tneedle WHERE k <> 5 AND k > 0', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM tneedle WHERE k > 5', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM tneedle WHERE k < 5', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tneedle WHERE k = 4');
SELECT li_check('SELECT k FROM tneedle WHERE k BETWEEN 4 AND 6');
SELECT li_check('SELECT k FROM tneedle ORDER BY k LIMIT 3', true, '{index,ios}');
SELECT li_check('SELECT k FROM tneedle ORDER BY k DESC LIMIT 3', true, '{index,ios}');

--
-- few distinct values, runs of 1000 (longer than a leaf page) that start
-- and end in the middle of pages
--
CREATE TABLE truns (k int4, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.31);
INSERT INTO truns SELECT (g / 1000) * 10, g FROM generate_series(1, 100000) g ORDER BY random();
CREATE INDEX truns_l ON truns USING learned (k);
VACUUM ANALYZE truns;
SELECT keys, max_error <= epsilon AS error_bounded FROM learned_index_stats('truns_l');
SELECT li_check('SELECT * FROM truns WHERE k = 500', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM truns WHERE k = 0');
SELECT li_check('SELECT k FROM truns WHERE k = 1000');
SELECT li_check('SELECT k FROM truns WHERE k = 990');
SELECT li_check('SELECT k FROM truns WHERE k = 995');
SELECT li_check('SELECT k FROM truns WHERE k = 1010');
SELECT li_check('SELECT k FROM truns WHERE k = -10');
SELECT li_check('SELECT k FROM truns WHERE k > 500 AND k < 530');
SELECT li_check('SELECT k FROM truns WHERE k >= 500 AND k <= 530');
SELECT li_check('SELECT k FROM truns WHERE k > 495 AND k < 505');
SELECT li_check('SELECT k FROM truns WHERE k >= 990');
SELECT li_check('SELECT k FROM truns WHERE k < 10');
-- every run, one by one (a nested loop with the learned index on the inner
-- side: one rescan per run value, plus values between and outside the runs)
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
EXPLAIN (COSTS OFF)
SELECT x, count(*) FROM generate_series(-20, 1020, 5) x JOIN truns ON truns.k = x GROUP BY x;
SELECT li_compare('SELECT x, count(*) FROM generate_series(-20, 1020, 5) x JOIN truns ON truns.k = x GROUP BY x',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
SELECT li_compare('SELECT x, count(*) FROM generate_series(-20, 1020, 5) x JOIN truns ON truns.k = x GROUP BY x',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
SELECT li_compare('SELECT x, count(*) FROM generate_series(-20, 1020, 5) x JOIN truns ON truns.k = x GROUP BY x',
    'enable_seqscan=off,enable_indexscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize;

--
-- heap order: ascending, descending, random; sparse keys (multiples of 20)
--
CREATE TABLE tasc (k int4, v text) WITH (autovacuum_enabled = off);
INSERT INTO tasc SELECT g * 20, 'v' || g FROM generate_series(1, 30000) g;
CREATE TABLE tdesc (k int4, v text) WITH (autovacuum_enabled = off);
INSERT INTO tdesc SELECT g * 20, 'v' || g FROM generate_series(30000, 1, -1) g;
CREATE TABLE trand (k int4, v text) WITH (autovacuum_enabled = off);
SELECT setseed(0.32);
INSERT INTO trand SELECT g * 20, 'v' || g FROM generate_series(1, 30000) g ORDER BY random();
CREATE INDEX tasc_l ON tasc USING learned (k);
CREATE INDEX tdesc_l ON tdesc USING learned (k);
CREATE INDEX trand_l ON trand USING learned (k);
VACUUM ANALYZE tasc;
VACUUM ANALYZE tdesc;
VACUUM ANALYZE trand;
SELECT t, keys, leaf_pages > 1 AS many_leaves, max_error <= epsilon AS error_bounded
  FROM unnest(ARRAY['tasc_l', 'tdesc_l', 'trand_l']) AS t, learned_index_stats(t::regclass);
EXPLAIN (COSTS OFF) SELECT * FROM trand WHERE k = 12340;
EXPLAIN (COSTS OFF) SELECT * FROM trand WHERE k BETWEEN 1000 AND 1500;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM trand WHERE k BETWEEN 1000 AND 30000;
RESET enable_indexscan;
EXPLAIN (COSTS OFF) SELECT * FROM trand ORDER BY k LIMIT 5;
EXPLAIN (COSTS OFF) SELECT * FROM trand ORDER BY k DESC LIMIT 5;
SELECT * FROM trand ORDER BY k DESC LIMIT 5;
SELECT * FROM trand WHERE k = 12340;
CREATE FUNCTION li_order_suite(tbl text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    res text;
    n int := 0;
    fails text[] := '{}';
    qs text[] := ARRAY[
        -- point lookups: present, missing (between keys), below min, above max
        'SELECT * FROM %1$I WHERE k = 20',
        'SELECT * FROM %1$I WHERE k = 600000',
        'SELECT * FROM %1$I WHERE k = 300000',
        'SELECT * FROM %1$I WHERE k = 12345',
        'SELECT * FROM %1$I WHERE k = 9',
        'SELECT * FROM %1$I WHERE k = 0',
        'SELECT * FROM %1$I WHERE k = -2147483648',
        'SELECT * FROM %1$I WHERE k = 600001',
        'SELECT * FROM %1$I WHERE k = 2147483647',
        -- ranges from 0 rows up to every row
        'SELECT * FROM %1$I WHERE k BETWEEN 21 AND 39',
        'SELECT * FROM %1$I WHERE k BETWEEN 12341 AND 12349',
        'SELECT * FROM %1$I WHERE k > 600000',
        'SELECT * FROM %1$I WHERE k < 20',
        'SELECT * FROM %1$I WHERE k >= 600000',
        'SELECT * FROM %1$I WHERE k <= 20',
        'SELECT * FROM %1$I WHERE k BETWEEN 300000 AND 300060',
        'SELECT * FROM %1$I WHERE k BETWEEN 300001 AND 306000',
        'SELECT * FROM %1$I WHERE k BETWEEN 100000 AND 160000',
        'SELECT * FROM %1$I WHERE k > 300000',
        'SELECT * FROM %1$I WHERE k < 300005',
        'SELECT * FROM %1$I WHERE k > -5',
        'SELECT * FROM %1$I WHERE k >= -2147483648 AND k <= 2147483647',
        'SELECT k FROM %1$I WHERE k BETWEEN 300001 AND 306000',
        'SELECT k FROM %1$I WHERE k > 300000',
        'SELECT k FROM %1$I WHERE k < 600001'];
    oqs text[] := ARRAY[
        'SELECT k FROM %1$I WHERE k > 123456 ORDER BY k LIMIT 10',
        'SELECT k FROM %1$I WHERE k < 123456 ORDER BY k DESC LIMIT 10',
        'SELECT k FROM %1$I WHERE k BETWEEN 100000 AND 200000 ORDER BY k',
        'SELECT k FROM %1$I WHERE k BETWEEN 100000 AND 200000 ORDER BY k DESC',
        'SELECT k FROM %1$I WHERE k > 599950 ORDER BY k LIMIT 10',
        'SELECT k FROM %1$I WHERE k < 50 ORDER BY k DESC LIMIT 10',
        'SELECT k, v FROM %1$I WHERE k > 0 ORDER BY k OFFSET 15000 LIMIT 10',
        'SELECT k, v FROM %1$I WHERE k > 0 ORDER BY k DESC OFFSET 15000 LIMIT 10'];
BEGIN
    FOREACH q IN ARRAY qs LOOP
        q := format(q, tbl);
        IF q LIKE 'SELECT k %' THEN
            res := li_check(q);
            IF res !~ ' index=ok bitmap=ok ios=ok$' THEN
                fails := fails || (q || '  ->  ' || res);
            END IF;
        ELSE
            res := li_check(q, false, '{index,bitmap}');
            IF res !~ ' index=ok bitmap=ok$' THEN
                fails := fails || (q || '  ->  ' || res);
            END IF;
        END IF;
        n := n + 1;
    END LOOP;
    FOREACH q IN ARRAY oqs LOOP
        q := format(q, tbl);
        IF q LIKE 'SELECT k FROM%' THEN
            res := li_check(q, true);
            IF res !~ ' index=ok bitmap=ok ios=ok$' THEN
                fails := fails || (q || '  ->  ' || res);
            END IF;
        ELSE
            res := li_check(q, true, '{index,bitmap}');
            IF res !~ ' index=ok bitmap=ok$' THEN
                fails := fails || (q || '  ->  ' || res);
            END IF;
        END IF;
        n := n + 1;
    END LOOP;
    RETURN NEXT format('%s: %s queries, %s failing', tbl, n, coalesce(array_length(fails, 1), 0));
    RETURN QUERY SELECT 'FAIL: ' || f FROM unnest(fails) AS f;
END $$;
SELECT li_order_suite('tasc');
SELECT li_order_suite('tdesc');
SELECT li_order_suite('trand');
-- scroll cursors across many page boundaries, past both ends and back
SELECT li_cursor_check('SELECT k FROM trand WHERE k > 100 ORDER BY k',
    'F1500 B1700 F20 MF25000 F3000 B2500 LAST F3 B1 R-600 R600 R1 A1 A-1 A15000 B700 FIRST B1 F1');
SELECT li_cursor_check('SELECT k FROM trand ORDER BY k DESC',
    'F1500 B1700 F20 MF25000 F3000 B2500 LAST F3 B1 R-600 R600 R1 A1 A-1 A15000 B700 FIRST B1 F1', 'ios');
SELECT li_cursor_check('SELECT k, v FROM tdesc WHERE k BETWEEN 5000 AND 50000 ORDER BY k',
    'F800 B900 F5000 LAST B1000 F1001 B2 MB3000 F3');
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) DECLARE c SCROLL CURSOR FOR SELECT k FROM trand WHERE k > 100 ORDER BY k;
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT k, v FROM trand WHERE k > 100 ORDER BY k;
FETCH 3 FROM c;
MOVE FORWARD 1200 IN c;
FETCH BACKWARD 2 FROM c;
FETCH LAST FROM c;
FETCH NEXT FROM c;
FETCH BACKWARD 2 FROM c;
FETCH ABSOLUTE 1 FROM c;
FETCH BACKWARD 1 FROM c;
FETCH NEXT FROM c;
COMMIT;
RESET enable_seqscan; RESET enable_bitmapscan;

--
-- rescans: nested loops with the learned index on the inner side
--
CREATE TABLE tprobe (x int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.33);
INSERT INTO tprobe SELECT (random() * 620000 - 10000)::int FROM generate_series(1, 300);
INSERT INTO tprobe SELECT g * 20 FROM generate_series(1, 200) g;           -- present
INSERT INTO tprobe SELECT g * 20 + 5 FROM generate_series(1, 100) g;       -- missing
INSERT INTO tprobe VALUES (-2147483648), (0), (9), (600000), (600001), (2147483647), (20), (20);
ANALYZE tprobe;
-- a smaller probe set for the probes whose sequential-scan reference has to
-- scan the whole table once per probe
CREATE TABLE tprobe_s (x int4) WITH (autovacuum_enabled = off);
INSERT INTO tprobe_s SELECT x FROM tprobe WHERE x % 37 = 3 OR x < 10 OR x > 599990;
ANALYZE tprobe_s;
SELECT count(*) FROM tprobe_s;
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT x, v FROM tprobe JOIN trand ON trand.k = tprobe.x;
EXPLAIN (COSTS OFF) SELECT x, k FROM tprobe_s JOIN trand ON trand.k BETWEEN tprobe_s.x::int8 - 25 AND tprobe_s.x::int8 + 25;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_compare('SELECT x, v FROM tprobe JOIN trand ON trand.k = tprobe.x',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
SELECT li_compare('SELECT x, k FROM tprobe JOIN trand ON trand.k = tprobe.x',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
SELECT li_compare('SELECT x, v FROM tprobe JOIN trand ON trand.k = tprobe.x',
    'enable_seqscan=off,enable_indexscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on');
-- range probes: several groups per rescan
SELECT li_compare('SELECT x, k FROM tprobe_s JOIN trand ON trand.k BETWEEN tprobe_s.x::int8 - 25 AND tprobe_s.x::int8 + 25',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
SELECT li_compare('SELECT x, v FROM tprobe_s JOIN trand ON trand.k BETWEEN tprobe_s.x::int8 - 25 AND tprobe_s.x::int8 + 25',
    'enable_seqscan=off,enable_indexscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
-- a LIMIT per outer row: rescans that stop early, forward and backward
SELECT li_compare('SELECT x, (SELECT array_agg(k) FROM (SELECT k FROM trand WHERE k > tprobe_s.x ORDER BY k LIMIT 3) s) FROM tprobe_s',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
SELECT li_compare('SELECT x, (SELECT array_agg(k) FROM (SELECT k FROM trand WHERE k <= tprobe_s.x ORDER BY k DESC LIMIT 3) s) FROM tprobe_s',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
SELECT li_compare('SELECT x, (SELECT count(*) FROM truns WHERE truns.k = tprobe_s.x / 600) FROM tprobe_s',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize;

--
-- mark/restore: merge joins of two learned index scans, with duplicates on
-- both sides and inner runs longer than a leaf page
--
CREATE TABLE tma (k int4, v int4) WITH (autovacuum_enabled = off);
CREATE TABLE tmb (k int4, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.34);
INSERT INTO tma SELECT g / 3, g FROM generate_series(1, 30000) g ORDER BY random();
INSERT INTO tmb SELECT (g / 1000) * 5, g FROM generate_series(1, 60000) g ORDER BY random();
INSERT INTO tmb SELECT g, -g FROM generate_series(1, 10000, 7) g;
CREATE INDEX tma_l ON tma USING learned (k);
CREATE INDEX tmb_l ON tmb USING learned (k);
VACUUM ANALYZE tma;
VACUUM ANALYZE tmb;
SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_sort = off; SET enable_material = off;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT tma.v, tmb.v FROM tma JOIN tmb ON tma.k = tmb.k;
EXPLAIN (COSTS OFF) SELECT tma.k, tmb.k FROM tma JOIN tmb ON tma.k = tmb.k;
EXPLAIN (COSTS OFF) SELECT tma.v, tmb.v FROM tma JOIN tmb ON tma.k = tmb.k ORDER BY tma.k DESC;
EXPLAIN (COSTS OFF) SELECT tma.v, tmb.v FROM tma LEFT JOIN tmb ON tma.k = tmb.k WHERE tma.k BETWEEN 100 AND 400;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_compare('SELECT tma.v, tmb.v FROM tma JOIN tmb ON tma.k = tmb.k',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT tma.k, tmb.k FROM tma JOIN tmb ON tma.k = tmb.k',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT tma.k, tma.v, tmb.v FROM tma JOIN tmb ON tma.k = tmb.k ORDER BY tma.k DESC',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT tma.k, tmb.k FROM tma JOIN tmb ON tma.k = tmb.k ORDER BY tma.k DESC',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on', true);
SELECT li_compare('SELECT tma.v, tmb.v FROM tma LEFT JOIN tmb ON tma.k = tmb.k WHERE tma.k BETWEEN 100 AND 400',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT tma.v, tmb.v FROM tma FULL JOIN tmb ON tma.k = tmb.k',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
-- the same joins after inserts that are not merged yet (leaf tails, delta
-- pages): groups are read as a merge of sorted and unsorted entries
SELECT setseed(0.36);
INSERT INTO tma SELECT (random() * 10000)::int, -g FROM generate_series(1, 3000) g;
INSERT INTO tmb SELECT (random() * 300)::int / 5 * 5, -g FROM generate_series(1, 3000) g;
INSERT INTO tmb SELECT 150, -g FROM generate_series(1, 1200) g;
SELECT pending > 0 AS has_pending FROM learned_index_stats('tmb_l');
SELECT li_compare('SELECT tma.v, tmb.v FROM tma JOIN tmb ON tma.k = tmb.k',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT tma.k, tmb.k FROM tma JOIN tmb ON tma.k = tmb.k ORDER BY tma.k DESC',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on', true);
SELECT li_compare('SELECT tma.v, tmb.v FROM tma FULL JOIN tmb ON tma.k = tmb.k',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
-- self join of the runs: every outer row restores to the start of its run
SELECT li_compare('SELECT a.v, b.v FROM truns a JOIN truns b ON a.k = b.k WHERE a.k IN (0, 10, 500) AND a.v % 97 = 0',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
RESET enable_hashjoin; RESET enable_nestloop; RESET enable_sort; RESET enable_material;

--
-- bitmap combinations and IN lists
--
SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM trand WHERE k < 1000 OR k > 599000;
EXPLAIN (COSTS OFF) SELECT * FROM trand WHERE k IN (20, 40, 25, 600000, 600020);
RESET enable_seqscan; RESET enable_indexscan; RESET enable_indexonlyscan;
SELECT li_check('SELECT * FROM trand WHERE k < 1000 OR k > 599000', false, '{bitmap}');
SELECT li_check('SELECT * FROM trand WHERE k IN (20, 40, 25, 600000, 600020, -1)', false, '{bitmap}');
SELECT li_check('SELECT * FROM trand WHERE k = ANY (ARRAY[300000, 300000, 5, NULL])', false, '{bitmap}');
SELECT li_check('SELECT * FROM trand WHERE (k BETWEEN 1000 AND 9000 OR k = 123450) AND k % 3 = 0', false, '{bitmap}');
CREATE INDEX trand_l2 ON trand USING learned ((k % 1000));
SELECT li_check('SELECT * FROM trand WHERE k BETWEEN 1000 AND 90000 AND k % 1000 = 20', false, '{bitmap}');
DROP INDEX trand_l2;

--
-- a partitioned table: one learned index per partition, merged in order
--
CREATE TABLE tpart (k int8, v int4) PARTITION BY RANGE (k);
CREATE TABLE tpart_1 PARTITION OF tpart FOR VALUES FROM (MINVALUE) TO (10000) WITH (autovacuum_enabled = off);
CREATE TABLE tpart_2 PARTITION OF tpart FOR VALUES FROM (10000) TO (20000) WITH (autovacuum_enabled = off);
CREATE TABLE tpart_3 PARTITION OF tpart DEFAULT WITH (autovacuum_enabled = off);
SELECT setseed(0.35);
INSERT INTO tpart SELECT (random() * 30000)::int8, g FROM generate_series(1, 30000) g;
INSERT INTO tpart VALUES (NULL, 0), (NULL, -1);
CREATE INDEX tpart_l ON tpart USING learned (k);
VACUUM ANALYZE tpart;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT k FROM tpart WHERE k BETWEEN 9990 AND 10010;
EXPLAIN (COSTS OFF) SELECT k FROM tpart ORDER BY k DESC LIMIT 5;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT k FROM tpart WHERE k BETWEEN 9990 AND 10010');
SELECT li_check('SELECT * FROM tpart WHERE k > 19000 AND k < 21000', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tpart WHERE k IS NULL');
SELECT li_check('SELECT k FROM tpart WHERE k > 9000 ORDER BY k LIMIT 2000', true);
SELECT li_check('SELECT k FROM tpart ORDER BY k DESC LIMIT 5', true, '{index,ios}');

DROP TABLE te, t1, tdup, tneedle, truns, tasc, tdesc, trand, tprobe, tprobe_s, tma, tmb, tpart;
DROP FUNCTION li_order_suite(text);
