--
-- 17_lazy_chunks: leaves without tail entries or delta pages are read by
-- amgettuple a chunk at a time (16 positions first, then two 64-entry
-- groups of the compressed block, in the scan's direction:
-- learned_scan_group, learned_lazy_chunk).
-- Ranges and LIMITs that end mid-chunk, mid-leaf or leaves later, both
-- directions, ANY arrays (several ranges), duplicates in runs longer than a
-- chunk and a leaf, scroll cursors turning around inside and across chunks
-- and leaves, mark/restore under merge joins, and leaves that have tail
-- entries next to lazy ones; on int8 (uniform), int4 (runs), float8 and
-- timestamptz.  Every result is compared with a sequential scan.
-- (Tombstones under an open cursor: isolation spec lazy_tombstones.)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- uniform int8 keys: about 800 entries a leaf
CREATE TABLE lz8 (k int8, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.16);
INSERT INTO lz8 SELECT ((random() * 2 - 1) * 9e18)::int8, g FROM generate_series(1, 30000) g;
CREATE INDEX lz8_l ON lz8 USING learned (k);
VACUUM ANALYZE lz8;
SELECT leaf_pages > 20 AS many_leaves, pending, delta_pages FROM learned_index_stats('lz8_l');
-- start keys: an existing key, one just above it, the extremes
CREATE TABLE lz8_at AS
  SELECT k FROM (SELECT k, row_number() OVER (ORDER BY k) AS r FROM lz8) s
   WHERE r IN (1, 2, 64, 65, 128, 129, 500, 777, 4000, 15000, 29000, 29990, 30000);
SELECT count(*) FROM lz8_at;
-- forward and backward LIMITs: inside one chunk, at chunk ends, across leaves
SELECT n, li_check(format('SELECT k FROM lz8 WHERE k >= %s ORDER BY k LIMIT %s', k, n),
                   true, '{index,ios}') AS fwd,
          li_check(format('SELECT k FROM lz8 WHERE k > %s ORDER BY k DESC LIMIT %s', k, n),
                   true, '{index,ios}') AS bwd_gt,
          li_check(format('SELECT k FROM lz8 WHERE k <= %s ORDER BY k DESC LIMIT %s', k, n),
                   true, '{index,ios}') AS bwd,
          li_check(format('SELECT k, v FROM lz8 WHERE k >= %s ORDER BY k LIMIT %s', k, n),
                   true, '{index}') AS fwd_heap
  FROM (SELECT k FROM lz8_at ORDER BY k OFFSET 8 LIMIT 1) a,
       unnest(ARRAY[1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 300, 1000, 2500]) n
 ORDER BY n;
SELECT count(*) AS checks,
       count(*) FILTER (WHERE f LIKE 'rows=% index=ok ios=ok') AS ok
  FROM (SELECT a.k, n, li_check(format('SELECT k FROM lz8 WHERE k >= %s ORDER BY k LIMIT %s', a.k + d, n),
                               true, '{index,ios}') AS f
          FROM lz8_at a, unnest(ARRAY[0, 1]) d, unnest(ARRAY[1, 16, 17, 65, 129, 900]) n) s;
SELECT count(*) AS checks,
       count(*) FILTER (WHERE f LIKE 'rows=% index=ok ios=ok') AS ok
  FROM (SELECT li_check(format('SELECT k FROM lz8 WHERE k <= %s ORDER BY k DESC LIMIT %s', a.k - d, n),
                        true, '{index,ios}') AS f
          FROM lz8_at a, unnest(ARRAY[0, 1]) d, unnest(ARRAY[1, 16, 17, 65, 129, 900]) n) s;
-- ranges with both bounds: inside a chunk, ending mid-leaf, spanning leaves
SELECT count(*) AS checks,
       count(*) FILTER (WHERE f LIKE 'rows=% index=ok ios=ok') AS ok
  FROM (SELECT li_check(format('SELECT k FROM lz8 WHERE k BETWEEN %s AND %s ORDER BY k %s',
                               a.k, b.k, dir), true, '{index,ios}') AS f
          FROM lz8_at a JOIN lz8_at b ON b.k >= a.k, unnest(ARRAY['ASC', 'DESC']) dir) s;
SELECT li_check('SELECT k FROM lz8 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz8 ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz8 WHERE k > 0 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz8 WHERE k < 0 ORDER BY k DESC', true, '{index,ios}');
-- several ranges (ANY), each visited in turn, both directions
SELECT li_check(format('SELECT k FROM lz8 WHERE k = ANY (%L) ORDER BY k', array_agg(k)),
                true, '{index,ios}') FROM lz8_at;
SELECT li_check(format('SELECT k FROM lz8 WHERE k = ANY (%L) ORDER BY k DESC LIMIT 7', array_agg(k)),
                true, '{index,ios}') FROM lz8_at;
-- nested loop: a rescan per outer row
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
SELECT li_compare('SELECT a.k, x.k FROM lz8_at a CROSS JOIN LATERAL (SELECT k FROM lz8 WHERE lz8.k >= a.k ORDER BY k LIMIT 150) x',
    'enable_seqscan=off,enable_bitmapscan=off', 'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
SELECT li_compare('SELECT a.k, x.k FROM lz8_at a CROSS JOIN LATERAL (SELECT k FROM lz8 WHERE lz8.k <= a.k ORDER BY k DESC LIMIT 150) x',
    'enable_seqscan=off,enable_bitmapscan=off', 'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize;
-- scroll cursors turning around inside chunks, at their ends and across leaves
SELECT li_cursor_check(format('SELECT k FROM lz8 WHERE k >= %s ORDER BY k', k),
                       'F1 B1 F16 B16 F17 B1 F130 B70 F64 B1 F1 F400 B500 B100 F1000 B3 F2000 LAST B300 FIRST F3 B2', 'ios')
  FROM (SELECT k FROM lz8_at ORDER BY k OFFSET 5 LIMIT 1) a;
SELECT li_cursor_check(format('SELECT k, v FROM lz8 WHERE k >= %s ORDER BY k', k),
                       'F129 B129 B1 F1 F900 B850 F3000 R-1000 R700 A5 A-5 LAST FIRST', 'index')
  FROM (SELECT k FROM lz8_at ORDER BY k OFFSET 5 LIMIT 1) a;
SELECT li_cursor_check(format('SELECT k FROM lz8 WHERE k BETWEEN %s AND %s ORDER BY k DESC', a.k, b.k),
                       'F65 B65 F1 B2 F900 B400 F2000 LAST B70 FIRST B1 F1', 'ios')
  FROM (SELECT k FROM lz8_at ORDER BY k OFFSET 3 LIMIT 1) a, (SELECT k FROM lz8_at ORDER BY k OFFSET 10 LIMIT 1) b;
SELECT li_cursor_check(format('SELECT k FROM lz8 WHERE k = ANY (%L) OR k BETWEEN %s AND %s ORDER BY k',
                              (SELECT array_agg(k) FROM lz8_at), a.k, a.k + 100000000000000000),
                       'F5 B3 F300 B200 LAST B400 F50 FIRST F1', 'ios')
  FROM (SELECT k FROM lz8_at ORDER BY k OFFSET 8 LIMIT 1) a;

-- int4 runs of 250 equal keys: longer than a chunk, some cross leaves
CREATE TABLE lz4 (k int4, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.17);
INSERT INTO lz4 SELECT g / 250, g FROM generate_series(0, 59999) g ORDER BY random();
CREATE INDEX lz4_l ON lz4 USING learned (k);
VACUUM ANALYZE lz4;
SELECT leaf_pages > 1 AS several_leaves, pending FROM learned_index_stats('lz4_l');
SELECT li_check('SELECT k, v FROM lz4 WHERE k = 7 ORDER BY k', false, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k BETWEEN 31 AND 33 ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k >= 40 ORDER BY k LIMIT 1000', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k <= 140 ORDER BY k DESC LIMIT 3000', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k = ANY (ARRAY[3, 30, 31, 100, 101, 239, 240]) ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k = ANY (ARRAY[3, 30, 31, 100, 101, 239, 240]) ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz4 WHERE k = ANY (ARRAY[3, 30, 100]) AND k > 20 ORDER BY k DESC LIMIT 300', true, '{index,ios}');
SELECT li_cursor_check('SELECT k FROM lz4 WHERE k BETWEEN 10 AND 60 ORDER BY k',
                       'F100 B50 F300 B299 F2000 B1000 LAST B700 FIRST F130', 'ios');
SELECT li_cursor_check('SELECT k FROM lz4 WHERE k = ANY (ARRAY[5, 6, 90]) ORDER BY k DESC',
                       'F200 B150 F300 B10 LAST B260 FIRST F1', 'index');
-- mark/restore: merge joins with lz4 on the inner side; each outer row of
-- a run restores the inner scan to the start of its run (250 rows: over a
-- chunk, some over a leaf)
CREATE TABLE lz4_outer (k int4) WITH (autovacuum_enabled = off);
INSERT INTO lz4_outer SELECT g / 3 FROM generate_series(0, 900) g;
CREATE INDEX lz4_outer_l ON lz4_outer USING learned (k);
VACUUM ANALYZE lz4_outer;
SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_sort = off; SET enable_material = off;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT o.k, lz4.k FROM lz4_outer o JOIN lz4 ON o.k = lz4.k;
EXPLAIN (COSTS OFF) SELECT o.k, lz4.v FROM lz4_outer o JOIN lz4 ON o.k = lz4.k
  WHERE o.k BETWEEN 20 AND 200 ORDER BY o.k DESC;
EXPLAIN (COSTS OFF) SELECT a.v, b.v FROM lz4 a JOIN lz4 b ON a.k = b.k
  WHERE a.k IN (0, 10, 130, 239) AND a.v % 53 = 0;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_compare('SELECT o.k, lz4.k FROM lz4_outer o JOIN lz4 ON o.k = lz4.k',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT o.k, lz4.v FROM lz4_outer o JOIN lz4 ON o.k = lz4.k WHERE o.k BETWEEN 20 AND 200 ORDER BY o.k DESC',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
SELECT li_compare('SELECT a.v, b.v FROM lz4 a JOIN lz4 b ON a.k = b.k WHERE a.k IN (0, 10, 130, 239) AND a.v % 53 = 0',
    'enable_seqscan=off,enable_bitmapscan=off,enable_indexonlyscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_hashjoin=on,enable_sort=on');
RESET enable_hashjoin; RESET enable_nestloop; RESET enable_sort; RESET enable_material;

-- float8 and timestamptz keys
CREATE TABLE lzf (k float8, t timestamptz) WITH (autovacuum_enabled = off);
SELECT setseed(0.18);
INSERT INTO lzf SELECT (random() - 0.5) * 1e6, '2026-01-01'::timestamptz + random() * interval '300 days'
  FROM generate_series(1, 20000) g;
CREATE INDEX lzf_k ON lzf USING learned (k);
CREATE INDEX lzf_t ON lzf USING learned (t);
VACUUM ANALYZE lzf;
SELECT li_check('SELECT k FROM lzf WHERE k >= -1234.5 ORDER BY k LIMIT 700', true, '{index,ios}');
SELECT li_check('SELECT k FROM lzf WHERE k < 2000.25 ORDER BY k DESC LIMIT 129', true, '{index,ios}');
SELECT li_check('SELECT k FROM lzf WHERE k BETWEEN -3000 AND 3000 ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT t FROM lzf WHERE t >= ''2026-03-01'' ORDER BY t LIMIT 1500', true, '{index,ios}');
SELECT li_check('SELECT t FROM lzf WHERE t < ''2026-06-01 12:00'' ORDER BY t DESC LIMIT 65', true, '{index,ios}');
SELECT li_check('SELECT t FROM lzf WHERE t BETWEEN ''2026-02-01'' AND ''2026-02-03'' ORDER BY t', true, '{index,ios}');
SELECT li_cursor_check('SELECT t FROM lzf WHERE t >= ''2026-05-01'' ORDER BY t',
                       'F64 B63 F129 B1 F700 B300 LAST B100 FIRST F2', 'ios');

-- tail entries next to lazy leaves: inserts land in some leaves' tails (those
-- groups are collected whole, the others stay lazy); scans cross both kinds
SELECT setseed(0.19);
INSERT INTO lz8 SELECT ((random() * 2 - 1) * 9e18)::int8, -g FROM generate_series(1, 40) g;
INSERT INTO lz8 SELECT k + 1, -1 FROM lz8_at WHERE k < 9223372036854775807;
SELECT pending > 0 AS has_pending FROM learned_index_stats('lz8_l');
SELECT count(*) AS checks,
       count(*) FILTER (WHERE f LIKE 'rows=% index=ok ios=ok') AS ok
  FROM (SELECT li_check(format('SELECT k FROM lz8 WHERE k >= %s ORDER BY k LIMIT %s', a.k, n),
                        true, '{index,ios}') AS f
          FROM lz8_at a, unnest(ARRAY[2, 130, 1700]) n
        UNION ALL
        SELECT li_check(format('SELECT k FROM lz8 WHERE k <= %s ORDER BY k DESC LIMIT %s', a.k, n),
                        true, '{index,ios}')
          FROM lz8_at a, unnest(ARRAY[2, 130, 1700]) n) s;
SELECT li_check('SELECT k FROM lz8 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM lz8 ORDER BY k DESC', true, '{index,ios}');
SELECT li_cursor_check('SELECT k FROM lz8 ORDER BY k',
                       'F1 F2000 B900 F5000 B4000 F30000 LAST B3000 FIRST F10', 'ios');
-- and after VACUUM retrains them: every leaf lazy again
VACUUM lz8;
SELECT pending, dead, delta_pages FROM learned_index_stats('lz8_l');
SELECT li_check('SELECT k FROM lz8 ORDER BY k DESC', true, '{index,ios}');
SELECT learned_index_check('lz8_l', true), learned_index_check('lz4_l', true);

DROP TABLE lz8, lz8_at, lz4, lz4_outer, lzf;
