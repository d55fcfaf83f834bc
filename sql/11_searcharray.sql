--
-- 11_searcharray: k = ANY(array) / k IN (...) in plain and index-only
-- scans (amsearcharray), not only bitmap scans: each element one lookup,
-- the output in index order (forward and backward), NULL elements and
-- empty arrays matching nothing, duplicates once, cross-type arrays,
-- ANY with inequalities, two array keys and an array with a range, float
-- -0.0/+0.0, NULL keys, prepared statements, cursors moving both ways.
-- Every result is compared with a sequential scan (li_check).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

CREATE TABLE sa (k int8, f float8, i2 int2) WITH (autovacuum_enabled = off);
SELECT setseed(0.5);
INSERT INTO sa SELECT (g % 5000) * 3, (g % 7) - 3, (g % 600) - 300 FROM generate_series(1, 60000) g;
INSERT INTO sa VALUES (NULL, NULL, NULL), (NULL, '-0', 0), (42, '-0', 1), (42, '0', 2),
                      (-9223372036854775808, 'NaN', -32768), (9223372036854775807, 'Infinity', 32767);
CREATE INDEX sa_k ON sa USING learned (k);
CREATE INDEX sa_f ON sa USING learned (f);
CREATE INDEX sa_i2 ON sa USING learned (i2);
VACUUM ANALYZE sa;

-- the plans: index and index-only scans with the array as index condition, no sort
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT k FROM sa WHERE k = ANY(ARRAY[6, 3, 14997]) ORDER BY k;
EXPLAIN (COSTS OFF) SELECT * FROM sa WHERE k IN (6, 3, 14997) ORDER BY k DESC;
RESET enable_seqscan; RESET enable_bitmapscan;

SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[6, 3, 14997, 3, NULL, 999999])');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[6, 3, 14997]) ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[6, 3, 14997]) ORDER BY k DESC', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k IN (42, 45, 0) ORDER BY k DESC LIMIT 7', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(''{}''::int8[])');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[NULL::int8, NULL])');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[-9223372036854775808, 9223372036854775807, 0])');
-- cross-type arrays, and two array keys (their common elements)
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[3, 6, 9]::int4[])');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[3, 6, 9]::int4[]) AND k = ANY(ARRAY[6, 9, 12]::int2[]) ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[3, 6, 9, 3000]) AND k > 5 AND k <= 3000 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY[3, 6]) AND k > 100');
-- inequalities with ANY reduce to one range
SELECT li_check('SELECT k FROM sa WHERE k < ANY(ARRAY[30, 60])');
SELECT li_check('SELECT k FROM sa WHERE k >= ANY(ARRAY[14990, 14000]) ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM sa WHERE k > ANY(ARRAY[14997, NULL])');
SELECT li_check('SELECT k FROM sa WHERE k <= ANY(ARRAY[-9223372036854775808])');
-- float: -0.0 = 0.0, NaN, infinity; int2 at its extremes
SELECT li_check('SELECT f FROM sa WHERE f = ANY(ARRAY[0.0, 2.0, ''NaN'', ''Infinity''])');
SELECT li_check('SELECT f FROM sa WHERE f = ANY(ARRAY[''-0''::float8])');
SELECT li_check('SELECT i2 FROM sa WHERE i2 = ANY(ARRAY[-32768, 32767, 0, 299]::int2[]) ORDER BY i2', true, '{index,ios}');
SELECT li_check('SELECT i2 FROM sa WHERE i2 = ANY(ARRAY[-32768, 32767, 70000]::int4[])');
-- many elements: one lookup each, still in order
SELECT li_check('SELECT k FROM sa WHERE k = ANY(ARRAY(SELECT g * 7 FROM generate_series(0, 3000) g)) ORDER BY k', true, '{index,ios}');
-- a cursor moving both ways over an array scan
SELECT li_cursor_check('SELECT k FROM sa WHERE k = ANY(ARRAY[6, 3, 14997, 42]) ORDER BY k',
                       'F5 B3 F40 B50 LAST FIRST R1 R-1');
-- prepared statements (generic plans)
SET plan_cache_mode = force_generic_plan;
PREPARE sa_p(int8[]) AS SELECT count(*), coalesce(sum(k), 0) FROM sa WHERE k = ANY($1);
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXECUTE sa_p('{3, 6, 6, 14997}');
EXECUTE sa_p('{}');
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT count(*), coalesce(sum(k), 0) FROM sa WHERE k IN (3, 6, 14997);
RESET plan_cache_mode;
-- a merge join over an array scan (mark and restore)
SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_seqscan = off; SET enable_sort = off;
SELECT count(*) FROM sa a JOIN sa b ON a.k = b.k WHERE a.k = ANY(ARRAY[3, 6, 42]) AND b.k = ANY(ARRAY[6, 42, 45]);
RESET enable_hashjoin; RESET enable_nestloop; RESET enable_seqscan; RESET enable_sort;
SELECT count(*) FROM sa a JOIN sa b ON a.k = b.k WHERE a.k = ANY(ARRAY[3, 6, 42]) AND b.k = ANY(ARRAY[6, 42, 45]);
-- arrays of another datetime type than the column: each element converted
-- exactly into the column's codes (learned_datetime.c), in two time zones,
-- around a DST change, with exact matches and elements matching nothing
CREATE TABLE sad (d date, ts timestamp, tz timestamptz) WITH (autovacuum_enabled = off);
SET timezone = 'America/New_York';
INSERT INTO sad SELECT '2018-03-01'::date + g % 40, '2018-03-01'::timestamp + g * interval '30 minutes',
                       '2018-03-01 00:00-05'::timestamptz + g * interval '30 minutes'
  FROM generate_series(1, 3000) g;
INSERT INTO sad VALUES ('infinity', 'infinity', 'infinity'), ('-infinity', '-infinity', '-infinity');
CREATE INDEX sad_d ON sad USING learned (d);
CREATE INDEX sad_ts ON sad USING learned (ts);
CREATE INDEX sad_tz ON sad USING learned (tz);
VACUUM ANALYZE sad;
SELECT li_check($$SELECT d FROM sad WHERE d = ANY(ARRAY['2018-03-05 00:00', '2018-03-06 12:00', 'infinity']::timestamp[])$$);
SELECT li_check($$SELECT d FROM sad WHERE d = ANY(ARRAY['2018-03-05 00:00-05', '2018-03-11 05:00+00', '2018-03-12 04:00+00']::timestamptz[]) ORDER BY d$$, true, '{index,ios}');
SELECT li_check($$SELECT tz FROM sad WHERE tz = ANY(ARRAY['2018-03-05', '2018-03-11', '2018-03-12', '-infinity']::date[]) ORDER BY tz$$, true, '{index,ios}');
SELECT li_check($$SELECT ts FROM sad WHERE ts = ANY(ARRAY['2018-03-11 07:00+00', '2018-03-11 06:30+00', '2018-03-11 08:00+00']::timestamptz[])$$);
SELECT li_check($$SELECT ts FROM sad WHERE ts < ANY(ARRAY['2018-03-11 07:30+00', '2018-03-02 00:00+00']::timestamptz[])$$);
SELECT li_check($$SELECT d FROM sad WHERE d > ANY(ARRAY['2018-03-20 12:00', '2018-03-25']::timestamp[])$$);
SELECT li_check($$SELECT tz FROM sad WHERE tz >= ANY(ARRAY['2018-03-30']::date[])$$);
SET timezone = 'Europe/Berlin';
SELECT li_check($$SELECT d FROM sad WHERE d = ANY(ARRAY['2018-03-05 00:00+01', '2018-03-25 01:00+00', '2018-03-26 00:00+02']::timestamptz[])$$);
SELECT li_check($$SELECT ts FROM sad WHERE ts = ANY(ARRAY['2018-03-25 01:00+00', '2018-03-25 00:30+00', '2018-03-11 07:00+00']::timestamptz[]) ORDER BY ts$$, true, '{index,ios}');
SELECT li_check($$SELECT tz FROM sad WHERE tz = ANY(ARRAY['2018-03-10 23:00', '2018-03-11 06:00']::timestamp[])$$);
RESET timezone;
