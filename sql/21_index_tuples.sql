--
-- 21_index_tuples: index-only scans of int8, timestamp and timestamptz keys
-- decode a lazy leaf's chunks straight into the index tuples they return
-- (li_itup records, li_cleaf_decode_itups); every other group (NULL pages,
-- leaves with tail entries) returns li_item records as before.  Scans that
-- go from such leaves to NULL pages and to leaves with tail entries, both
-- ways, cursors turning around across them, mark/restore, an insert into
-- the leaf an index-only cursor is reading (its next chunk checks the page
-- again: the LSN moved), and cross-type datetime keys, exact and inexact
-- (a recheck: no index tuples decoded in place), each compared with a
-- sequential scan.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- int8 keys with NULLs (every 7th row), the extremes and zero
CREATE TABLE it8 (k int8, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.21);
INSERT INTO it8
  SELECT CASE WHEN g % 7 = 0 THEN NULL ELSE ((random() * 2 - 1) * 9e18)::int8 END, g
  FROM generate_series(1, 20000) g;
INSERT INTO it8 VALUES (-9223372036854775808, -1), (9223372036854775807, -2), (0, -3),
  (-1, -4), (1, -5);
CREATE INDEX it8_l ON it8 USING learned (k);
VACUUM ANALYZE it8;
SELECT leaf_pages > 5 AS many_leaves, pending FROM learned_index_stats('it8_l');
-- from the keys into the NULL pages, and back (ASC NULLS LAST / DESC NULLS FIRST)
SELECT li_check('SELECT k FROM it8 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 WHERE k > 9e18 OR k IS NULL ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 WHERE k >= 9223372036854775807 OR k IS NULL ORDER BY k DESC',
                true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 WHERE k < -9e18 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 WHERE k = ANY (ARRAY[-9223372036854775808, -1, 0, 1, 9223372036854775807]::int8[]) ORDER BY k',
                true, '{index,ios}');
-- the key values themselves, not only their order: sums over every row
SELECT li_check('SELECT sum(k::numeric), count(k), count(*) FROM it8 WHERE k IS NOT NULL OR k IS NULL',
                false, '{ios}');
-- scroll cursors crossing from the last leaf into the NULL pages and back
SELECT li_cursor_check('SELECT k FROM it8 WHERE k > 8e18 OR k IS NULL ORDER BY k',
                       'F1 F300 F3000 B200 B3000 F5000 LAST B50 FIRST F10 B5', 'ios');
SELECT li_cursor_check('SELECT k FROM it8 ORDER BY k DESC',
                       'F10 F3000 B100 F20000 B4000 LAST B10 FIRST F2 B1', 'ios');
-- mark/restore: a merge join on duplicated outer keys
CREATE TABLE it8_o AS SELECT k FROM it8 WHERE k IS NOT NULL AND v % 5 = 0
  UNION ALL SELECT k FROM it8 WHERE k IS NOT NULL AND v % 5 = 0;
ANALYZE it8_o;
SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_sort = on;
-- the plan: a merge join whose inner side is an index-only scan of it8_l
-- (checked in the JSON plan: the text form differs across versions)
CREATE FUNCTION it8_merge_ios(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  plan jsonb;
  saved text := li_set('enable_seqscan=off,enable_bitmapscan=off');
BEGIN
  EXECUTE 'EXPLAIN (COSTS OFF, FORMAT JSON) ' || q INTO plan;
  PERFORM li_set(saved);
  RETURN format('merge=%s ios=%s',
    jsonb_path_exists(plan, 'strict $.** ? (@."Node Type" == "Merge Join")'),
    li_plan_uses(q, 'enable_seqscan=off,enable_bitmapscan=off', 'Index Only Scan'));
END $$;
SELECT it8_merge_ios('SELECT o.k, i.k FROM it8_o o JOIN it8 i ON i.k = o.k');
SELECT li_compare('SELECT o.k, i.k FROM it8_o o JOIN it8 i ON i.k = o.k',
    'enable_seqscan=off,enable_bitmapscan=off',
    'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off,enable_mergejoin=off,enable_hashjoin=on');
RESET enable_hashjoin; RESET enable_nestloop; RESET enable_sort;
-- an insert into the leaf an index-only cursor is reading, flushed (a scan
-- of the index) between two fetches: the cursor's next chunk sees the LSN
-- moved and checks the page again; its rows are those of its snapshot
CREATE FUNCTION it8_cursor_insert(lo int8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  q text := format('SELECT k FROM it8 WHERE k >= %s ORDER BY k LIMIT 600', lo);
  ref text[] := li_rows(q, li_mode_settings('seq'));
  got text[] := '{}';
  c refcursor;
  r record;
  saved text;
  plan_ios boolean := li_plan_uses(q, li_mode_settings('ios'), 'Index Only Scan');
BEGIN
  saved := li_set(li_mode_settings('ios'));
  OPEN c FOR EXECUTE q;
  FOR i IN 1 .. 20 LOOP
    FETCH c INTO r;
    got := got || r::text;
  END LOOP;
  INSERT INTO it8 SELECT lo + g, -100 - g FROM generate_series(1, 4) g;
  PERFORM count(*) FROM it8 WHERE k = lo + 1;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    got := got || r::text;
  END LOOP;
  CLOSE c;
  PERFORM li_set(saved);
  RETURN format('plan_ios=%s rows=%s %s', plan_ios, cardinality(got),
                CASE WHEN got = ref THEN 'ok' ELSE 'DIFF' END);
END $$;
-- (the key in a scalar subquery: a function in the target list of an
-- OFFSET query would run for every row skipped)
SELECT it8_cursor_insert((SELECT k FROM it8 WHERE k IS NOT NULL ORDER BY k OFFSET 12000 LIMIT 1));
SELECT count(*) AS inserted FROM it8 WHERE v < -100;
SELECT li_check(format('SELECT k FROM it8 WHERE k >= %s ORDER BY k LIMIT 600',
                       (SELECT k FROM it8 WHERE k IS NOT NULL ORDER BY k OFFSET 12000 LIMIT 1)),
                true, '{index,ios}');
-- a leaf with tail entries (li_item records) between lazy ones: keys next
-- to one existing key, so that one leaf gets them (and NULLs)
INSERT INTO it8 SELECT a.k + g, -g FROM generate_series(1, 5) g,
  (SELECT k FROM it8 WHERE k IS NOT NULL ORDER BY k OFFSET 6000 LIMIT 1) a;
INSERT INTO it8 SELECT NULL, -g FROM generate_series(301, 320) g;
SELECT pending, leaf_pages > 5 AS many_leaves FROM learned_index_stats('it8_l');
SELECT li_check('SELECT k FROM it8 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM it8 ORDER BY k DESC', true, '{index,ios}');
SELECT li_cursor_check('SELECT k FROM it8 WHERE k > -5e18 OR k IS NULL ORDER BY k',
                       'F1 F700 B300 F9000 B20 F9000 LAST B700 FIRST F800 B1', 'ios');
VACUUM it8;
SELECT li_check('SELECT k FROM it8 ORDER BY k', true, '{index,ios}');

-- timestamptz and timestamp keys (the same 8-byte integer datum)
CREATE TABLE itz (t timestamptz, u timestamp) WITH (autovacuum_enabled = off);
INSERT INTO itz
  SELECT CASE WHEN g % 11 = 0 THEN NULL
              ELSE '2020-01-01 00:00:00+00'::timestamptz + (g * 37 % 10007) * interval '1 minute 3.000001 s' END,
         CASE WHEN g % 13 = 0 THEN NULL
              ELSE '2020-01-01 00:00:00'::timestamp + (g * 41 % 10009) * interval '59.999999 s' END
  FROM generate_series(1, 15000) g;
-- local times around the DST gap of 2020-03-08 in America/New_York
INSERT INTO itz SELECT NULL, '2020-03-08 01:00'::timestamp + g * interval '1 minute'
  FROM generate_series(0, 240) g;
INSERT INTO itz VALUES ('infinity', 'infinity'), ('-infinity', '-infinity'),
  ('4713-01-01 00:00:00+00 BC', '4713-01-01 00:00:00 BC'), ('294276-12-31 23:59:59.999999+00', '294276-12-31 23:59:59.999999');
CREATE INDEX itz_t ON itz USING learned (t);
CREATE INDEX itz_u ON itz USING learned (u);
VACUUM ANALYZE itz;
SELECT li_check('SELECT t FROM itz ORDER BY t', true, '{index,ios}');
SELECT li_check('SELECT t FROM itz ORDER BY t DESC', true, '{index,ios}');
SELECT li_check('SELECT u FROM itz ORDER BY u', true, '{index,ios}');
SELECT li_check('SELECT u FROM itz WHERE u >= ''2020-01-03'' ORDER BY u DESC', true, '{index,ios}');
SELECT li_check('SELECT t FROM itz WHERE t > ''2020-01-02 12:00+00'' ORDER BY t LIMIT 2000', true, '{index,ios}');
-- cross-type keys: timestamptz against date and timestamp (rechecked)
SET TimeZone = 'America/New_York';
SELECT li_check('SELECT t FROM itz WHERE t >= date ''2020-01-03'' ORDER BY t', true, '{index,ios}');
SELECT li_check('SELECT t FROM itz WHERE t < timestamp ''2020-01-02 05:00'' ORDER BY t DESC', true, '{index,ios}');
SELECT li_check('SELECT u FROM itz WHERE u > timestamptz ''2020-01-04 00:00+09'' ORDER BY u', true, '{index,ios}');
-- inexact: 02:30 (in the gap, read as EST) and 03:30 EDT are the same
-- instant; the index reads the hull between them and the executor rechecks
SELECT li_check('SELECT u FROM itz WHERE u = timestamptz ''2020-03-08 07:30+00'' ORDER BY u', true, '{index,ios}');
RESET TimeZone;
SELECT li_cursor_check('SELECT t FROM itz WHERE t > ''2020-01-05'' OR t IS NULL ORDER BY t',
                       'F1 F500 B499 F4000 B100 LAST B20 FIRST F3', 'ios');
