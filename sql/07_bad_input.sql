--
-- Bad and extreme input at scale: one distinct value among a million rows,
-- a rolled-back transaction that inserted a million rows, keys arriving in
-- descending order.  Every result is compared with a sequential scan.
--
SET client_min_messages = warning;

CREATE FUNCTION bi_cmp(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE 'SELECT count(*) || '':'' || coalesce(sum(k), 0) FROM (' || q || ') s' INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
  SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE 'SELECT count(*) || '':'' || coalesce(sum(k), 0) FROM (' || q || ') s' INTO b;
  RETURN CASE WHEN a = b THEN 'ok ' || a ELSE 'MISMATCH index=' || a || ' seq=' || b END;
END $$;

-- one distinct value among 1M rows
CREATE TABLE one (k int8) WITH (autovacuum_enabled = off);
INSERT INTO one SELECT 42 FROM generate_series(1, 1000000);
INSERT INTO one VALUES (41), (43);
CREATE INDEX one_l ON one USING learned (k);
VACUUM ANALYZE one;
SELECT bi_cmp('SELECT k FROM one WHERE k = 42');
SELECT bi_cmp('SELECT k FROM one WHERE k < 42');
SELECT bi_cmp('SELECT k FROM one WHERE k > 42');
SELECT bi_cmp('SELECT k FROM one WHERE k BETWEEN 42 AND 43');
SELECT segments <= 4 AS few_segments, max_error <= epsilon AS bound_ok, keys
  FROM learned_index_stats('one_l');
SELECT learned_index_check('one_l', true);
DROP TABLE one;

-- a rolled-back transaction that inserted a million rows
CREATE TABLE rb (k int8) WITH (autovacuum_enabled = off);
INSERT INTO rb SELECT g * 7 FROM generate_series(1, 10000) g;
CREATE INDEX rb_l ON rb USING learned (k);
BEGIN;
INSERT INTO rb SELECT g FROM generate_series(1, 1000000) g;
SELECT bi_cmp('SELECT k FROM rb WHERE k BETWEEN 1 AND 5000');
ROLLBACK;
SELECT bi_cmp('SELECT k FROM rb WHERE k BETWEEN 1 AND 5000');
SELECT bi_cmp('SELECT k FROM rb WHERE k > 0');
SELECT learned_index_check('rb_l', true);
VACUUM rb;
SELECT bi_cmp('SELECT k FROM rb WHERE k > 0');
SELECT keys, pending, dead FROM learned_index_stats('rb_l');
SELECT learned_index_check('rb_l', true);
DROP TABLE rb;

-- keys arriving in descending order, one row per statement and in batches
CREATE TABLE dsc (k int4) WITH (autovacuum_enabled = off);
INSERT INTO dsc SELECT 1000000 - g FROM generate_series(1, 20000) g;
CREATE INDEX dsc_l ON dsc USING learned (k);
DO $$ BEGIN FOR i IN 1..300 LOOP INSERT INTO dsc VALUES (500000 - i * 3); END LOOP; END $$;
INSERT INTO dsc SELECT 400000 - g FROM generate_series(1, 20000) g;
SELECT bi_cmp('SELECT k FROM dsc WHERE k < 600000');
SELECT bi_cmp('SELECT k FROM dsc WHERE k BETWEEN 380000 AND 499500');
SELECT learned_index_check('dsc_l', true);
VACUUM dsc;
SELECT bi_cmp('SELECT k FROM dsc WHERE k > 0');
SELECT pending FROM learned_index_stats('dsc_l');
DROP TABLE dsc;
DROP FUNCTION bi_cmp(text);
