--
-- 10_datetime: the datetime operator family (date, timestamp, timestamptz
-- in one family, like btree's datetime_ops).  Every cross-type pairing and
-- operator through the learned index (index scan, bitmap scan, index-only
-- scan) is compared with a sequential scan of the same query (li_battery),
-- in two time zones, with values around DST transitions (gaps and
-- overlaps), infinities, values out of range of the other type and
-- fractional times; plans of literal and generic (prepared) queries.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- the operator classes are in one family and pass amvalidate
SELECT opc.opcname, opf.opfname, amvalidate(opc.oid)
  FROM pg_opclass opc JOIN pg_opfamily opf ON opf.oid = opc.opcfamily
 WHERE opc.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'learned')
   AND opc.opcintype IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
 ORDER BY 1;
SELECT amoplefttype::regtype, amoprighttype::regtype, count(*)
  FROM pg_amop WHERE amopfamily = (SELECT oid FROM pg_opfamily WHERE opfname = 'datetime_ops'
                                    AND opfmethod = (SELECT oid FROM pg_am WHERE amname = 'learned'))
 GROUP BY 1, 2 ORDER BY 1, 2;

-- data, entered in UTC: every 10 minutes over the two days around the DST
-- transitions of 2018 in America/New_York (03-11, 11-04) and Europe/Berlin
-- (03-25, 10-28), values a microsecond off midnight, infinities, extremes
SET TimeZone = 'UTC';
CREATE TABLE dt_ts (id serial, k timestamp) WITH (autovacuum_enabled = off);
INSERT INTO dt_ts (k)
SELECT d + i * interval '10 minutes'
  FROM unnest(ARRAY['2018-03-10', '2018-11-03', '2018-03-24', '2018-10-27']::timestamp[]) d,
       generate_series(0, 2 * 144 + 12) i;
INSERT INTO dt_ts (k) VALUES ('-infinity'), ('infinity'), ('-infinity'),
  ('4714-11-24 00:00:00 BC'), ('4714-11-24 00:00:00.000001 BC'), ('4714-11-25 00:00:00 BC'),
  ('294276-12-31 23:59:59.999999'), ('294276-12-31 00:00:00'),
  ('2018-03-10 23:59:59.999999'), ('2018-03-11 00:00:00.000001'),
  ('2018-03-11 02:29:59.999999'), ('2018-03-11 03:30:00.000001'),
  ('2018-03-25 02:29:59.999999'), ('2018-03-25 03:30:00.000001'), (NULL);
CREATE TABLE dt_tz (id serial, k timestamptz) WITH (autovacuum_enabled = off);
INSERT INTO dt_tz (k) SELECT k FROM dt_ts ORDER BY id;
INSERT INTO dt_tz (k) VALUES ('2018-03-11 04:59:59.999999+00'), ('2018-03-11 05:00:00+00'),
  ('2018-03-25 23:00:00+00');
CREATE TABLE dt_d (id serial, k date) WITH (autovacuum_enabled = off);
INSERT INTO dt_d (k) SELECT d::date FROM generate_series(timestamp '2018-03-01', '2018-11-10', interval '1 day') d;
INSERT INTO dt_d (k) VALUES ('-infinity'), ('infinity'), ('infinity'), ('4714-11-24 BC'),
  ('4714-11-25 BC'), ('294276-12-31'), ('294277-01-01'), ('294277-01-02'),
  ('5874897-12-31'), (NULL);
CREATE INDEX dt_ts_l ON dt_ts USING learned (k);
CREATE INDEX dt_tz_l ON dt_tz USING learned (k);
CREATE INDEX dt_d_l ON dt_d USING learned (k);
VACUUM ANALYZE dt_ts, dt_tz, dt_d;

-- the arguments of each type
CREATE TABLE dt_args (t regtype, v text[]);
INSERT INTO dt_args VALUES
 ('date', ARRAY['-infinity', 'infinity', '2018-03-10', '2018-03-11', '2018-03-12',
                '2018-03-25', '2018-10-28', '2018-11-04', '4714-11-24 BC', '4714-11-25 BC',
                '294276-12-31', '294277-01-01', '5874897-12-31']),
 ('timestamp', ARRAY['-infinity', 'infinity', '2018-03-11 00:00', '2018-03-11 00:00:00.000001',
                     '2018-03-10 23:59:59.999999', '2018-03-11 12:00', '2018-03-11 02:30',
                     '2018-03-11 03:00', '2018-03-11 01:59:59.999999', '2018-11-04 01:30',
                     '2018-03-25 02:30', '2018-10-28 02:30', '4714-11-24 00:00:00 BC',
                     '294276-12-31 23:59:59.999999']),
 ('timestamptz', ARRAY['-infinity', 'infinity', '2018-03-11 07:30+00', '2018-03-11 07:00+00',
                       '2018-03-11 06:59:59.999999+00', '2018-03-11 07:59:59.999999+00',
                       '2018-11-04 05:30+00', '2018-11-04 06:30+00', '2018-03-25 01:30+00',
                       '2018-03-25 01:00+00', '2018-10-28 00:30+00', '2018-10-28 01:30+00',
                       '2018-03-11 05:00+00', '2018-03-24 23:00+00',
                       '4714-11-24 00:00:00+00 BC', '294276-12-31 23:59:59.999999+00']);

-- li_battery over one column with the arguments of one type
CREATE FUNCTION dt_battery(tbl text, argtype regtype) RETURNS SETOF text
LANGUAGE sql AS $$
  SELECT * FROM li_battery(tbl, 'k',
    (SELECT array_agg(quote_literal(x) || '::' || argtype::text) FROM dt_args, unnest(v) x
      WHERE t = argtype))
$$;

SET TimeZone = 'America/New_York';
SELECT * FROM dt_battery('dt_d', 'timestamp');
SELECT * FROM dt_battery('dt_d', 'timestamptz');
SELECT * FROM dt_battery('dt_ts', 'date');
SELECT * FROM dt_battery('dt_ts', 'timestamptz');
SELECT * FROM dt_battery('dt_tz', 'date');
SELECT * FROM dt_battery('dt_tz', 'timestamp');
SET TimeZone = 'Europe/Berlin';
SELECT * FROM dt_battery('dt_d', 'timestamp');
SELECT * FROM dt_battery('dt_d', 'timestamptz');
SELECT * FROM dt_battery('dt_ts', 'date');
SELECT * FROM dt_battery('dt_ts', 'timestamptz');
SELECT * FROM dt_battery('dt_tz', 'date');
SELECT * FROM dt_battery('dt_tz', 'timestamp');
-- same-type keys still work in the family
SELECT * FROM dt_battery('dt_d', 'date');
SELECT * FROM dt_battery('dt_ts', 'timestamp');
SELECT * FROM dt_battery('dt_tz', 'timestamptz');

-- a few answers spelled out (each also compared with a sequential scan)
SET TimeZone = 'America/New_York';
-- a date is less than a timestamp later on the same day
SELECT li_check($$SELECT k FROM dt_d WHERE k < '2018-03-11 12:00'::timestamp AND k > '2018-03-08'$$);
SELECT k FROM dt_d WHERE k < '2018-03-11 12:00'::timestamp AND k > '2018-03-08' ORDER BY k;
-- date = timestamp only at midnight
SELECT k FROM dt_d WHERE k = '2018-03-11 00:00'::timestamp;
SELECT k FROM dt_d WHERE k = '2018-03-11 00:00:00.000001'::timestamp;
-- the two local times 02:30 (in the gap, read as EST) and 03:30 EDT are the same instant
SELECT k FROM dt_ts WHERE k = '2018-03-11 07:30+00'::timestamptz ORDER BY k;
SELECT li_check($$SELECT k FROM dt_ts WHERE k = '2018-03-11 07:30+00'::timestamptz$$);
-- an overlap: 01:30 is read as EST (06:30 UTC), not EDT (05:30 UTC)
SELECT k FROM dt_ts WHERE k = '2018-11-04 05:30+00'::timestamptz;
SELECT k FROM dt_ts WHERE k = '2018-11-04 06:30+00'::timestamptz;
-- dates beyond the range of timestamp are above every finite timestamp, below infinity
SELECT k FROM dt_d WHERE k > '294276-12-31 23:59:59.999999'::timestamp ORDER BY k;
SELECT k FROM dt_ts WHERE k >= '294277-01-01'::date ORDER BY k;
SELECT count(*) FROM dt_ts WHERE k < '294277-01-01'::date;

-- plans use the learned index, also for generic plans of prepared statements
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM dt_d WHERE k < '2010-01-01 12:00'::timestamp;
EXPLAIN (COSTS OFF) SELECT * FROM dt_ts WHERE k = current_date;
EXPLAIN (COSTS OFF) SELECT * FROM dt_tz WHERE k >= '2018-03-11 02:30'::timestamp;
EXPLAIN (COSTS OFF) SELECT * FROM dt_ts WHERE '2018-03-11 07:30+00'::timestamptz > k;
SET plan_cache_mode = force_generic_plan;
PREPARE p_d(timestamp) AS SELECT k FROM dt_d WHERE k < $1 AND k >= $1 - interval '3 days';
PREPARE p_ts(timestamptz) AS SELECT k FROM dt_ts WHERE k >= $1 AND k < $1 + interval '2 hours';
PREPARE p_tz(date) AS SELECT k FROM dt_tz WHERE k = $1;
EXPLAIN (COSTS OFF) EXECUTE p_d('2018-03-11 12:00');
EXPLAIN (COSTS OFF) EXECUTE p_ts('2018-03-11 07:00+00');
EXPLAIN (COSTS OFF) EXECUTE p_tz('2018-03-11');
-- the conversion follows the session time zone at execution time: generic
-- plans (plpgsql's cached plans of static queries with parameters, forced
-- generic, planned with the index) against sequential scans of the query
-- with literals
CREATE FUNCTION dt_gen_ts(a timestamptz) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(s::text), '{}') FROM
          (SELECT k FROM dt_ts WHERE k >= a AND k < a + interval '2 hours' ORDER BY k) s);
END $$;
CREATE FUNCTION dt_gen_d(a timestamptz) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(s::text), '{}') FROM
          (SELECT k FROM dt_d WHERE k > a - interval '3 days' AND k <= a ORDER BY k) s);
END $$;
CREATE FUNCTION dt_gen_tz(a date) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(s::text), '{}') FROM
          (SELECT k FROM dt_tz WHERE k >= a AND k < a + 1 ORDER BY k) s);
END $$;
CREATE FUNCTION dt_prepared() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  tzname text;
  a timestamptz;
  d date;
  n int := 0;
  bad int := 0;
  nrows bigint := 0;
  saved text;
BEGIN
  saved := li_set(li_mode_settings('index'));
  FOREACH tzname IN ARRAY ARRAY['America/New_York', 'Europe/Berlin', 'UTC', 'Pacific/Apia'] LOOP
    PERFORM set_config('TimeZone', tzname, true);
    FOREACH a IN ARRAY ARRAY['2018-03-11 06:30+00', '2018-03-11 07:00+00', '2018-03-11 07:30+00',
                             '2018-03-25 00:30+00', '2018-03-25 01:30+00', '2018-11-04 05:00+00',
                             '2018-10-28 00:00+00', '-infinity', 'infinity']::timestamptz[] LOOP
      n := n + 2;
      nrows := nrows + coalesce(array_length(dt_gen_ts(a), 1), 0)
                     + coalesce(array_length(dt_gen_d(a), 1), 0);
      IF dt_gen_ts(a) IS DISTINCT FROM
         li_rows(format('SELECT k FROM dt_ts WHERE k >= %L::timestamptz AND k < %L::timestamptz + interval %L ORDER BY k',
                        a, a, '2 hours'), li_mode_settings('seq')) THEN
        bad := bad + 1;
        RETURN NEXT format('DIFF ts %s %s', tzname, a);
      END IF;
      IF dt_gen_d(a) IS DISTINCT FROM
         li_rows(format('SELECT k FROM dt_d WHERE k > %L::timestamptz - interval %L AND k <= %L::timestamptz ORDER BY k',
                        a, '3 days', a), li_mode_settings('seq')) THEN
        bad := bad + 1;
        RETURN NEXT format('DIFF d %s %s', tzname, a);
      END IF;
    END LOOP;
    FOREACH d IN ARRAY ARRAY['2018-03-11', '2018-03-25', '2018-11-04', '4714-11-24 BC',
                             '294277-01-01', 'infinity']::date[] LOOP
      n := n + 1;
      nrows := nrows + coalesce(array_length(dt_gen_tz(d), 1), 0);
      IF dt_gen_tz(d) IS DISTINCT FROM
         li_rows(format('SELECT k FROM dt_tz WHERE k >= %L::date AND k < %L::date + 1 ORDER BY k', d, d),
                 li_mode_settings('seq')) THEN
        bad := bad + 1;
        RETURN NEXT format('DIFF tz %s %s', tzname, d);
      END IF;
    END LOOP;
  END LOOP;
  PERFORM li_set(saved);
  RETURN NEXT format('%s generic-plan queries, %s rows, %s differ from a sequential scan', n, nrows, bad);
END $$;
SELECT * FROM dt_prepared();
-- prepared statements: generic plans on the index, answers follow TimeZone
SELECT li_plan_uses('EXECUTE p_ts(''2018-03-11 07:00+00'')', li_mode_settings('ios'), 'Index Only Scan') AS p_ts,
       li_plan_uses('EXECUTE p_d(''2018-03-11 12:00'')', li_mode_settings('ios'), 'Index Only Scan') AS p_d,
       li_plan_uses('EXECUTE p_tz(''2018-03-11'')', li_mode_settings('ios'), 'Index Only Scan') AS p_tz;
RESET enable_seqscan;
SET TimeZone = 'Europe/Berlin';
EXECUTE p_tz('2018-03-25');
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT k FROM dt_tz WHERE k = '2018-03-25'::date;
RESET enable_indexscan; RESET enable_bitmapscan;
SET TimeZone = 'America/New_York';
EXECUTE p_tz('2018-03-25');
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT k FROM dt_tz WHERE k = '2018-03-25'::date;
RESET enable_indexscan; RESET enable_bitmapscan;
RESET plan_cache_mode;
DEALLOCATE ALL;
RESET TimeZone;
