--
-- 02_nulls: NULL keys.  IS NULL / IS NOT NULL, NULL comparison arguments,
-- tables of only NULLs, ORDER BY served by the index (ascending puts NULLs
-- last, descending first) matching a sequential scan plus sort, min/max.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- 30% NULLs, over several NULL pages (about 1350 NULL entries per page)
CREATE TABLE tn (k int4, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.21);
INSERT INTO tn SELECT CASE WHEN random() < 0.3 THEN NULL ELSE (random() * 10000)::int END, g
    FROM generate_series(1, 20000) g;
INSERT INTO tn SELECT 7, -g FROM generate_series(1, 5) g;
INSERT INTO tn SELECT 9, -g FROM generate_series(1, 3) g;
CREATE INDEX tn_l ON tn USING learned (k);
VACUUM ANALYZE tn;
SELECT count(*) FILTER (WHERE k IS NULL) > 5000 AS many_nulls,
       (SELECT nulls FROM learned_index_stats('tn_l')) = count(*) FILTER (WHERE k IS NULL) AS stats_nulls_match,
       (SELECT keys FROM learned_index_stats('tn_l')) = count(k) AS stats_keys_match
  FROM tn;

EXPLAIN (COSTS OFF) SELECT k FROM tn WHERE k IS NULL;
SELECT li_check('SELECT k FROM tn WHERE k IS NULL');
SELECT li_check('SELECT * FROM tn WHERE k IS NULL', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tn WHERE k IS NOT NULL');
SELECT li_check('SELECT * FROM tn WHERE k IS NOT NULL AND k < 100', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tn WHERE k IS NULL AND k > 5');
SELECT li_check('SELECT k FROM tn WHERE k IS NULL AND k IS NOT NULL');
SELECT li_check('SELECT k FROM tn WHERE k IS NOT NULL AND k >= 9990');
SELECT li_check('SELECT k FROM tn WHERE k <= 10');

-- comparisons with NULL never match: folded by the planner ...
EXPLAIN (COSTS OFF) SELECT k FROM tn WHERE k = NULL;
SELECT count(*) FROM tn WHERE k = NULL;
-- ... or a NULL reaching the index scan at run time (generic plan parameter)
SET plan_cache_mode = force_generic_plan;
PREPARE pn(int) AS SELECT count(*) FROM tn WHERE k = $1;
PREPARE pr(int) AS SELECT count(*) FROM tn WHERE k > $1;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) EXECUTE pn(NULL);
EXECUTE pn(NULL);
EXECUTE pr(NULL);
EXECUTE pn(7);
SELECT count(*) FROM tn WHERE k + 0 = 7;  -- reference
EXECUTE pr(9990);
SELECT count(*) FROM tn WHERE k + 0 > 9990;  -- reference
RESET enable_seqscan; RESET enable_bitmapscan;
RESET plan_cache_mode;
DEALLOCATE pn;
DEALLOCATE pr;
-- ... or NULL outer values of a nested loop probing the index
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT v.x, tn.k FROM (VALUES (NULL::int), (7), (NULL), (9)) v(x) JOIN tn ON tn.k = v.x;
SELECT v.x, count(tn.k) FROM (VALUES (NULL::int), (7), (NULL), (9)) v(x) JOIN tn ON tn.k = v.x
 GROUP BY v.x ORDER BY v.x;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT v.x, count(tn.k) FROM (VALUES (NULL::int), (7), (NULL), (9)) v(x) JOIN tn ON tn.k = v.x
 GROUP BY v.x ORDER BY v.x;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize;

-- ORDER BY served by the index: NULLS LAST ascending, NULLS FIRST descending
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT k FROM tn ORDER BY k LIMIT 10;
EXPLAIN (COSTS OFF) SELECT k FROM tn ORDER BY k DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT k FROM tn ORDER BY k NULLS FIRST LIMIT 10;
EXPLAIN (COSTS OFF) SELECT k FROM tn ORDER BY k DESC NULLS LAST LIMIT 10;
SELECT k FROM tn ORDER BY k DESC LIMIT 3;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT k FROM tn ORDER BY k LIMIT 10', true, '{index,ios}');
SELECT li_check('SELECT k FROM tn ORDER BY k DESC LIMIT 10', true, '{index,ios}');
SELECT li_check('SELECT k FROM tn ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM tn ORDER BY k DESC', true, '{index,ios}');
-- windows that cross from the non-NULL keys into the NULLs and back
SELECT li_check(format('SELECT k FROM tn ORDER BY k OFFSET %s LIMIT 20',
                       (SELECT count(k) - 10 FROM tn)), true, '{index,ios}');
SELECT li_check(format('SELECT k FROM tn ORDER BY k DESC OFFSET %s LIMIT 20',
                       (SELECT count(*) - count(k) - 10 FROM tn)), true, '{index,ios}');
SELECT li_check('SELECT k FROM tn WHERE k IS NOT NULL ORDER BY k DESC LIMIT 10', true);
SELECT li_check('SELECT k FROM tn WHERE k > 9000 ORDER BY k DESC LIMIT 10', true);
-- the unsupported orders still give right answers (through a sort)
SELECT li_check('SELECT k FROM tn ORDER BY k NULLS FIRST LIMIT 10', true, '{ios}');
SELECT li_check('SELECT k FROM tn ORDER BY k DESC NULLS LAST LIMIT 10', true, '{ios}');
-- scroll cursors crossing between the non-NULL keys and the NULLs
SELECT li_cursor_check('SELECT k FROM tn ORDER BY k',
    'MF13900 F200 B400 F600 LAST B7000 F10 MF100000 B20 FIRST B5 F5');
SELECT li_cursor_check('SELECT k FROM tn ORDER BY k DESC',
    'MF5900 F300 B500 F600 LAST B20 F30 B100 FIRST B5 F5', 'ios');
SELECT li_cursor_check('SELECT k FROM tn WHERE k IS NULL', 'F2000 B2500 F7000 B3 LAST B2');

-- min and max skip the NULLs
EXPLAIN (COSTS OFF) SELECT min(k), max(k) FROM tn;
SELECT min(k) = (SELECT min(k + 0) FROM tn) AS min_ok, max(k) = (SELECT max(k + 0) FROM tn) AS max_ok
  FROM tn;

-- a table of only NULLs
CREATE TABLE tnn (k int8) WITH (autovacuum_enabled = off);
INSERT INTO tnn SELECT NULL FROM generate_series(1, 3000);
CREATE INDEX tnn_l ON tnn USING learned (k);
VACUUM ANALYZE tnn;
SELECT keys, nulls, pending FROM learned_index_stats('tnn_l');
SELECT li_check('SELECT k FROM tnn WHERE k IS NULL');
SELECT li_check('SELECT k FROM tnn WHERE k IS NOT NULL');
SELECT li_check('SELECT k FROM tnn WHERE k = 5');
SELECT li_check('SELECT k FROM tnn WHERE k > 5');
SELECT li_check('SELECT k FROM tnn ORDER BY k LIMIT 5', true, '{index,ios}');
SELECT li_check('SELECT k FROM tnn ORDER BY k DESC LIMIT 5', true, '{index,ios}');
SELECT min(k), max(k), count(k), count(*) FROM tnn;
SELECT li_cursor_check('SELECT k FROM tnn ORDER BY k', 'F10 B20 LAST F2 B5 MF4000 B3');
-- then non-NULL keys arrive
INSERT INTO tnn SELECT g FROM generate_series(1, 1000) g;
INSERT INTO tnn SELECT NULL FROM generate_series(1, 10);
SELECT keys, nulls FROM learned_index_stats('tnn_l');
SELECT li_check('SELECT k FROM tnn WHERE k IS NULL');
SELECT li_check('SELECT k FROM tnn WHERE k IS NOT NULL');
SELECT li_check('SELECT k FROM tnn WHERE k BETWEEN 10 AND 20');
SELECT li_check('SELECT k FROM tnn ORDER BY k DESC LIMIT 5', true, '{index,ios}');
SELECT li_check(format('SELECT k FROM tnn ORDER BY k OFFSET %s LIMIT 20', 990), true, '{index,ios}');
VACUUM tnn;
SELECT keys, nulls, pending FROM learned_index_stats('tnn_l');
SELECT li_check('SELECT k FROM tnn WHERE k IS NULL');
SELECT li_check('SELECT k FROM tnn ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM tnn ORDER BY k DESC', true, '{index,ios}');

-- NULL keys inserted after the build, into the existing index
INSERT INTO tn SELECT NULL, -g FROM generate_series(1, 2000) g;
INSERT INTO tn SELECT g % 50, -g FROM generate_series(1, 500) g;
SELECT li_check('SELECT k FROM tn WHERE k IS NULL');
SELECT li_check('SELECT v FROM tn WHERE k IS NULL', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tn WHERE k IS NOT NULL');
SELECT li_check('SELECT k FROM tn ORDER BY k DESC', true, '{index,ios}');
SELECT li_check(format('SELECT k FROM tn ORDER BY k OFFSET %s LIMIT 20',
                       (SELECT count(k) - 10 FROM tn)), true, '{index,ios}');

DROP TABLE tn, tnn;
