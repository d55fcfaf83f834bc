--
-- 13_compressed: compressed leaves (leaf format 2).  Each type's extreme
-- values share one leaf with ordinary values, so its key residuals need
-- the widest widths (64 bits for int8, float8 and the timestamps); dense,
-- duplicated and time-ordered keys need few bits.  Every result through
-- the index (index, bitmap and index-only scans: the exact stored value)
-- equals a sequential scan, learned_index_check() verifies every leaf
-- decodes to sorted keys inside the model's bound, and learned_index_stats
-- reports the widths the data needs.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- one table per type: random values, the extremes, duplicates, NULLs
CREATE FUNCTION cl_table(typ text, gen text, extremes text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE cl_%s (k %s) WITH (autovacuum_enabled = off)', typ, typ);
    EXECUTE format('INSERT INTO cl_%s SELECT %s FROM generate_series(1, 1500) g', typ, gen);
    EXECUTE format('INSERT INTO cl_%s SELECT unnest($1::%s[])', typ, typ) USING extremes;
    EXECUTE format('INSERT INTO cl_%s SELECT unnest($1::%s[])', typ, typ) USING extremes;
    EXECUTE format('INSERT INTO cl_%s SELECT NULL FROM generate_series(1, 20)', typ);
    EXECUTE format('CREATE INDEX cl_%s_l ON cl_%s USING learned (k)', typ, typ);
END $$;

SELECT setseed(0.13);
SELECT cl_table('int2', '(random() * 2000 - 1000)::int', '{-32768,-32767,0,32766,32767}');
SELECT cl_table('int4', '(random() * 2e6 - 1e6)::int', '{-2147483648,-2147483647,0,2147483646,2147483647}');
SELECT cl_table('int8', '(random() * 2e12 - 1e12)::int8',
                '{-9223372036854775808,-9223372036854775807,0,9223372036854775806,9223372036854775807}');
SELECT cl_table('float4', '(random() * 100 - 50)::float4', '{-Infinity,-3.4e38,-0,0,1e-45,3.4e38,Infinity,NaN}');
SELECT cl_table('float8', '(random() * 100 - 50)::float8',
                '{-Infinity,-1.7e308,-5e-324,-0,0,5e-324,1.7e308,Infinity,NaN}');
SELECT cl_table('date', $$date '2000-01-01' + (random() * 3000)::int$$,
                '{-infinity,4713-01-01 BC,5874897-12-31,infinity}');
SELECT cl_table('timestamp', $$timestamp '2000-01-01' + random() * interval '3000 days'$$,
                '{-infinity,4713-01-01 00:00 BC,294276-12-31 23:59:59.999999,infinity}');
SELECT cl_table('timestamptz', $$timestamptz '2000-01-01 00:00+00' + random() * interval '3000 days'$$,
                '{-infinity,4713-01-01 00:00+00 BC,294276-12-31 23:59:59.999999+00,infinity}');
VACUUM ANALYZE cl_int2, cl_int4, cl_int8, cl_float4, cl_float8, cl_date, cl_timestamp, cl_timestamptz;

-- a leaf or two each; the extremes force wide key groups (the widest
-- group's bits per entry; an Elias-Fano group's are its bits / entries)
-- but int2's: its whole range fits 16 bits, see design.md §4
SELECT t, leaf_pages, keys, nulls, key_bits_max, key_bits_max >= 15 AS wide
  FROM unnest(ARRAY['int2', 'int4', 'int8', 'float4', 'float8', 'date', 'timestamp', 'timestamptz']) AS t,
       learned_index_stats(('cl_' || t || '_l')::regclass);
SELECT t, learned_index_check(('cl_' || t || '_l')::regclass, true) AS check
  FROM unnest(ARRAY['int2', 'int4', 'int8', 'float4', 'float8', 'date', 'timestamp', 'timestamptz']) AS t;

SELECT * FROM li_battery('cl_int2', 'k', ARRAY['-32768', '-32767', '-1', '0', '32766', '32767']);
SELECT * FROM li_battery('cl_int4', 'k', ARRAY['-2147483648', '-1', '0', '2147483647']);
SELECT * FROM li_battery('cl_int8', 'k',
    ARRAY['-9223372036854775808', '-9223372036854775807', '-1', '0', '9223372036854775806', '9223372036854775807']);
SELECT * FROM li_battery('cl_float4', 'k',
    ARRAY[$$'-Infinity'$$, '-3.4e38', '-0.0', '0', '1e-45', '3.4e38', $$'Infinity'$$, $$'NaN'$$], 'k + 0');
SELECT * FROM li_battery('cl_float8', 'k',
    ARRAY[$$'-Infinity'$$, '-1.7e308', '-5e-324', '-0.0', '0', '5e-324', '1.7e308', $$'Infinity'$$, $$'NaN'$$], 'k + 0');
SELECT * FROM li_battery('cl_date', 'k',
    ARRAY[$$'-infinity'::date$$, $$'4713-01-01 BC'::date$$, $$'2004-01-01'::date$$, $$'5874897-12-31'::date$$, $$'infinity'::date$$]);
SELECT * FROM li_battery('cl_timestamp', 'k',
    ARRAY[$$'-infinity'::timestamp$$, $$'4713-01-01 00:00 BC'::timestamp$$, $$'2004-01-01'::timestamp$$,
          $$'294276-12-31 23:59:59.999999'::timestamp$$, $$'infinity'::timestamp$$]);
SELECT * FROM li_battery('cl_timestamptz', 'k',
    ARRAY[$$'-infinity'::timestamptz$$, $$'4713-01-01 00:00+00 BC'::timestamptz$$, $$'2004-01-01 00:00+00'::timestamptz$$,
          $$'294276-12-31 23:59:59.999999+00'::timestamptz$$, $$'infinity'::timestamptz$$]);
-- index-only scans return the stored value bit for bit: -0.0 stays -0.0
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT k FROM cl_float8 WHERE k = 0;
SELECT k::text FROM cl_float8 WHERE k = 0 ORDER BY k::text;
SELECT k::text FROM cl_float4 WHERE k = 0 ORDER BY k::text;
RESET enable_seqscan; RESET enable_bitmapscan;

--
-- dense keys need no key bits; the heap in key order few TID bits
--
CREATE TABLE cl_dense (k int8) WITH (autovacuum_enabled = off);
INSERT INTO cl_dense SELECT g FROM generate_series(1, 100000) g;
CREATE INDEX cl_dense_l ON cl_dense USING learned (k);
CREATE INDEX cl_dense_b ON cl_dense USING btree (k);
VACUUM ANALYZE cl_dense;
SELECT key_bits_max, tid_bits_max <= 16 AS narrow_tids, sorted_bytes_per_entry < 2.5 AS small,
       leaf_pages < 100000 / 582 AS fewer_leaves_than_format1,
       pg_relation_size('cl_dense_l') * 4 < pg_relation_size('cl_dense_b') AS quarter_of_btree
  FROM learned_index_stats('cl_dense_l');
SELECT learned_index_check('cl_dense_l', true);
SELECT li_check('SELECT k FROM cl_dense WHERE k BETWEEN 4000 AND 61000');
SELECT li_check('SELECT k FROM cl_dense WHERE k = 77777');
SELECT li_check('SELECT k FROM cl_dense WHERE k > 99990 ORDER BY k DESC', true, '{index,ios}');

--
-- heavy duplicates: each value's TIDs sorted (posting-list order)
--
CREATE TABLE cl_dup (k int4, pad int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.14);
INSERT INTO cl_dup SELECT (random() * 300)::int, g FROM generate_series(1, 60000) g;
CREATE INDEX cl_dup_l ON cl_dup USING learned (k);
VACUUM ANALYZE cl_dup;
SELECT key_bits_max <= 4 AS few_key_bits, learned_index_check('cl_dup_l', true) AS check
  FROM learned_index_stats('cl_dup_l');
SELECT li_check('SELECT k, pad FROM cl_dup WHERE k = 150');
SELECT li_check('SELECT k FROM cl_dup WHERE k BETWEEN 100 AND 103 ORDER BY k', true, '{index,ios}');
SELECT li_check('SELECT k FROM cl_dup WHERE k = ANY (ARRAY[0, 7, 299, 300, 301])');

--
-- inserts after the build go to the tails (14-byte entries) and delta
-- pages; deletes tombstone compressed entries until VACUUM retrains
--
CREATE TABLE cl_dml (k int8, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.15);
INSERT INTO cl_dml SELECT (random() * 1e9)::int8, g FROM generate_series(1, 40000) g;
CREATE INDEX cl_dml_l ON cl_dml USING learned (k) WITH (retrain_threshold = 0);
INSERT INTO cl_dml SELECT (random() * 1e9)::int8, -g FROM generate_series(1, 3000) g;
INSERT INTO cl_dml VALUES (-9223372036854775808, 0), (9223372036854775807, 0), (NULL, 0);
SELECT pending > 0 AS has_pending, delta_pages > 0 AS has_delta FROM learned_index_stats('cl_dml_l');
SELECT learned_index_check('cl_dml_l', true);
SELECT li_check('SELECT k, v FROM cl_dml WHERE k BETWEEN 100000000 AND 300000000');
DELETE FROM cl_dml WHERE v % 7 = 0;
SELECT li_check('SELECT k, v FROM cl_dml WHERE k BETWEEN 100000000 AND 300000000');
VACUUM cl_dml;
SELECT pending, dead, learned_index_check('cl_dml_l', true) AS check FROM learned_index_stats('cl_dml_l');
SELECT li_check('SELECT k, v FROM cl_dml WHERE k < 500000000');
SELECT li_check('SELECT k FROM cl_dml WHERE k > 900000000 OR k < 0');
