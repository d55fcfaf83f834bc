--
-- 04_dml: the index under change.  Inserts after the build (random,
-- ascending, descending, duplicates, NULLs), deletes, updates, VACUUM and
-- learned_index_retrain() (pending entries merged, model refitted),
-- rolled-back inserts, savepoints, TRUNCATE, REINDEX, CREATE INDEX
-- CONCURRENTLY, unlogged and temporary tables, the insert buffer, exclusion
-- constraints.  After every step the same set of queries through the
-- learned index is compared with sequential scans (dml_check).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- dml_check(tbl): point lookups, ranges (inside, below and above the
-- original key range), NULL tests, ordered scans and a scroll cursor on
-- column k of tbl, each compared with a sequential scan; then
-- learned_index_check(heapallindexed) on every learned index of tbl.
CREATE FUNCTION dml_check(tbl text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    res text;
    n int := 0;
    nrows bigint := 0;
    fails text[] := '{}';
    ordered boolean;
    modes text[];
    qs text[] := ARRAY[
        'SELECT k FROM %1$I WHERE k = 500000',
        'SELECT k FROM %1$I WHERE k = 123457',
        'SELECT k FROM %1$I WHERE k = -5',
        'SELECT k FROM %1$I WHERE k = 1000500',
        'SELECT k FROM %1$I WHERE k < 0',
        'SELECT k FROM %1$I WHERE k < 5000',
        'SELECT k FROM %1$I WHERE k BETWEEN 400000 AND 600000',
        'SELECT k FROM %1$I WHERE k >= 500000 AND k < 500001',
        'SELECT k FROM %1$I WHERE k > 990000',
        'SELECT k FROM %1$I WHERE k >= 1000000',
        'SELECT k FROM %1$I WHERE k > 3000000',
        'SELECT k FROM %1$I WHERE k IS NULL',
        'SELECT k FROM %1$I WHERE k IS NOT NULL',
        '*SELECT * FROM %1$I WHERE k BETWEEN 250000 AND 260000',
        '*SELECT * FROM %1$I WHERE k = 500000',
        '*SELECT * FROM %1$I WHERE k IS NULL',
        '*SELECT * FROM %1$I WHERE k < 100 OR k > 999900',
        '>SELECT k FROM %1$I ORDER BY k',
        '>SELECT k FROM %1$I ORDER BY k DESC',
        '>SELECT k FROM %1$I WHERE k > 499000 ORDER BY k LIMIT 50',
        '>SELECT k FROM %1$I WHERE k < 501000 ORDER BY k DESC LIMIT 50'];
BEGIN
    FOREACH q IN ARRAY qs LOOP
        ordered := false;
        modes := '{index,bitmap,ios}';
        IF q LIKE '*%' THEN
            modes := CASE WHEN q LIKE '% OR %' THEN '{bitmap}'::text[] ELSE '{index,bitmap}' END;
            q := substr(q, 2);
        ELSIF q LIKE '>%' THEN
            ordered := true;
            IF q NOT LIKE '% WHERE %' THEN
                modes := '{index,ios}';
            END IF;
            q := substr(q, 2);
        END IF;
        q := format(q, tbl);
        res := li_check(q, ordered, modes);
        n := n + 1;
        nrows := nrows + substring(res FROM '^rows=([0-9]+)')::bigint;
        IF res ~ '=(noidx|DIFF|ORDER)' THEN
            fails := fails || (q || '  ->  ' || res);
        END IF;
    END LOOP;
    -- rescans: a nested loop probing the index once per outer value
    res := li_compare(format('SELECT x, t.k FROM generate_series(-3000, 3010000, 997) x JOIN %I t ON t.k = x', tbl),
                      'enable_hashjoin=off,enable_mergejoin=off,enable_memoize=off,enable_seqscan=off,enable_bitmapscan=off',
                      'enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
    n := n + 1;
    IF res !~ ' ok$' THEN
        fails := fails || ('nested loop  ->  ' || res);
    END IF;
    res := li_cursor_check(format('SELECT k FROM %I ORDER BY k', tbl),
                           'F700 B800 MF5000 F1200 B600 LAST B700 F710 FIRST');
    n := n + 1;
    IF res !~ '^plan=ok .* mismatches=0$' THEN
        fails := fails || ('cursor  ->  ' || res);
    END IF;
    FOR q IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_am a ON a.oid = c.relam AND a.amname = 'learned'
             WHERE i.indrelid = tbl::regclass ORDER BY 1 LOOP
        PERFORM learned_index_check(q::regclass, true);
        n := n + 1;
    END LOOP;
    RETURN NEXT format('%s checks, %s rows, %s failing', n, nrows,
                       coalesce(array_length(fails, 1), 0));
    RETURN QUERY SELECT 'FAIL: ' || f FROM unnest(fails) AS f;
END $$;

-- dml_stats(idx): consistency of learned_index_stats with the table (only
-- meaningful when the table has no dead rows: keys counts index entries).
CREATE FUNCTION dml_stats(idx regclass, OUT keys_match boolean, OUT nulls_match boolean,
                          OUT dead bigint, OUT error_bounded boolean)
LANGUAGE plpgsql AS $$
DECLARE
    tbl regclass := (SELECT indrelid FROM pg_index WHERE indexrelid = idx);
    nk bigint;
    nn bigint;
    s record;
BEGIN
    EXECUTE format('SELECT count(k), count(*) - count(k) FROM %s', tbl) INTO nk, nn;
    SELECT * INTO s FROM learned_index_stats(idx);
    keys_match := s.keys = nk;
    nulls_match := s.nulls = nn;
    dead := s.dead;
    error_bounded := s.max_error <= s.epsilon;
END $$;

CREATE TABLE td (k int8, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.41);
INSERT INTO td SELECT (random() * 1000000)::int8, g FROM generate_series(1, 12000) g;
INSERT INTO td SELECT 500000, -g FROM generate_series(1, 100) g;
-- (retrain_threshold = 0: only VACUUM and learned_index_retrain() merge, so
-- the pending entries stay visible in the statistics until then)
CREATE INDEX td_l ON td USING learned (k) WITH (retrain_threshold = 0);
VACUUM ANALYZE td;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');

--
-- inserts after the build
--
-- random keys inside the range
INSERT INTO td SELECT (random() * 1000000)::int8, 100000 + g FROM generate_series(1, 2000) g;
-- ascending keys above the maximum
INSERT INTO td SELECT 1000000 + g, 200000 + g FROM generate_series(1, 2000) g;
-- descending keys below the minimum
INSERT INTO td SELECT -g, 300000 + g FROM generate_series(1, 2000) g;
-- duplicates of one existing key: a long chain on one leaf
INSERT INTO td SELECT 500000, 400000 + g FROM generate_series(1, 2000) g;
-- NULLs
INSERT INTO td SELECT NULL, 500000 + g FROM generate_series(1, 1000) g;
SELECT * FROM dml_stats('td_l');
SELECT pending > 0 AS has_pending FROM learned_index_stats('td_l');
SELECT * FROM dml_check('td');

-- VACUUM merges the pending entries and refits the model
SELECT retrains AS retrains_before FROM learned_index_stats('td_l') \gset
VACUUM td;
SELECT * FROM dml_stats('td_l');
SELECT pending, dead, delta_pages, retrains > :retrains_before AS retrained
  FROM learned_index_stats('td_l');
SELECT * FROM dml_check('td');

--
-- deletes: scattered rows and one whole key range
--
DELETE FROM td WHERE v % 10 < 3;
DELETE FROM td WHERE k BETWEEN 200000 AND 300000;
SELECT * FROM dml_check('td');
SELECT retrains AS retrains_before FROM learned_index_stats('td_l') \gset
VACUUM td;
SELECT * FROM dml_stats('td_l');
SELECT pending, dead, retrains > :retrains_before AS retrained FROM learned_index_stats('td_l');
SELECT * FROM dml_check('td');

--
-- learned_index_retrain()
--
-- (a few scattered rows: they fit in the free space of the leaves)
INSERT INTO td SELECT (random() * 1000000)::int8, 600000 + g FROM generate_series(1, 100) g;
SELECT pending > 0 AS has_pending FROM learned_index_stats('td_l');
SELECT retrains AS retrains_before, generation AS generation_before
  FROM learned_index_stats('td_l') \gset
SELECT learned_index_retrain('td_l');
SELECT * FROM dml_stats('td_l');
SELECT pending, retrains > :retrains_before AS retrained,
       generation <> :generation_before AS new_generation
  FROM learned_index_stats('td_l');
SELECT * FROM dml_check('td');
-- retraining an index with nothing pending is harmless
SELECT learned_index_retrain('td_l');
SELECT * FROM dml_stats('td_l');
SELECT pending FROM learned_index_stats('td_l');

--
-- updates: keys moved, keys set to NULL and back, non-key columns
--
UPDATE td SET k = k + 7 WHERE v % 13 = 0;
UPDATE td SET k = NULL WHERE v % 17 = 0;
UPDATE td SET k = v WHERE k IS NULL AND v % 5 = 0;
UPDATE td SET v = v + 1 WHERE v % 19 = 0;
SELECT * FROM dml_check('td');
VACUUM td;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');

--
-- inserts inside transactions: own rows visible before commit, rolled-back
-- rows never visible, savepoints
--
BEGIN;
INSERT INTO td SELECT 2000000 + g, -g FROM generate_series(1, 5000) g;
INSERT INTO td SELECT NULL, -g FROM generate_series(1, 500) g;
SELECT li_check('SELECT k FROM td WHERE k > 2000000');
SELECT li_check('SELECT * FROM td WHERE k > 2004990', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM td WHERE k IS NULL');
ROLLBACK;
SELECT li_check('SELECT k FROM td WHERE k > 2000000');
SELECT * FROM dml_check('td');
VACUUM td;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');
BEGIN;
INSERT INTO td SELECT 3000000 + g, -g FROM generate_series(1, 100) g;
SAVEPOINT s1;
INSERT INTO td SELECT 3000100 + g, -g FROM generate_series(1, 100) g;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO td SELECT 3000200 + g, -g FROM generate_series(1, 100) g;
SAVEPOINT s2;
INSERT INTO td SELECT 3000300 + g, -g FROM generate_series(1, 100) g;
RELEASE SAVEPOINT s2;
SELECT li_check('SELECT k FROM td WHERE k > 3000000');
COMMIT;
SELECT li_check('SELECT k FROM td WHERE k > 3000000');
SELECT li_check('SELECT * FROM td WHERE k > 3000000', false, '{index,bitmap}');
SELECT * FROM dml_check('td');
-- nested savepoints: released, rolled back, released into a rolled-back
-- parent, plpgsql exception blocks, a buffer flushed by a scan or because
-- it is full inside a subtransaction that then rolls back, an error in the
-- middle of a multi-row insert
CREATE TABLE tsv (k int4, tag text) WITH (autovacuum_enabled = off);
INSERT INTO tsv SELECT g, 'base' FROM generate_series(1, 5000) g;
CREATE INDEX tsv_l ON tsv USING learned (k);
CREATE INDEX tsv_l2 ON tsv USING learned ((k * 2));
BEGIN;
INSERT INTO tsv SELECT 10000 + g, 'A' FROM generate_series(1, 50) g;
SAVEPOINT s1;
INSERT INTO tsv SELECT 20000 + g, 'B' FROM generate_series(1, 50) g;
SAVEPOINT s2;
INSERT INTO tsv SELECT 30000 + g, 'C' FROM generate_series(1, 50) g;
RELEASE s2;
ROLLBACK TO s1;
INSERT INTO tsv SELECT 40000 + g, 'D' FROM generate_series(1, 50) g;
COMMIT;
BEGIN;
SAVEPOINT s1;
INSERT INTO tsv SELECT 50000 + g, 'E' FROM generate_series(1, 50) g;
RELEASE s1;
INSERT INTO tsv SELECT 60000 + g, 'F' FROM generate_series(1, 50) g;
SAVEPOINT s3;
INSERT INTO tsv SELECT 70000 + g, 'G' FROM generate_series(1, 50) g;
ROLLBACK TO s3;
SAVEPOINT s4;
INSERT INTO tsv SELECT 80000 + g, 'H' FROM generate_series(1, 50) g;
RELEASE s4;
COMMIT;
DO $$
BEGIN
    FOR i IN 1 .. 20 LOOP
        BEGIN
            INSERT INTO tsv VALUES (90000 + i, 'I');
            IF i % 3 = 0 THEN
                RAISE EXCEPTION 'undo %', i;
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
END $$;
BEGIN;
INSERT INTO tsv SELECT 100000 + g, 'J' FROM generate_series(1, 50) g;
SAVEPOINT s1;
INSERT INTO tsv SELECT 110000 + g, 'K' FROM generate_series(1, 50) g;
SELECT count(*) FROM tsv WHERE k > 100000;
ROLLBACK TO s1;
INSERT INTO tsv SELECT 120000 + g, 'L' FROM generate_series(1, 50) g;
COMMIT;
SET learned_index.insert_buffer_size = '64kB';
BEGIN;
INSERT INTO tsv SELECT 130000 + g, 'M' FROM generate_series(1, 100) g;
SAVEPOINT s1;
INSERT INTO tsv SELECT 140000 + g, 'N' FROM generate_series(1, 10000) g;
ROLLBACK TO s1;
INSERT INTO tsv SELECT 150000 + g, 'O' FROM generate_series(1, 100) g;
COMMIT;
RESET learned_index.insert_buffer_size;
BEGIN;
INSERT INTO tsv SELECT 160000 + g, 'P' FROM generate_series(1, 100) g;
SAVEPOINT s1;
INSERT INTO tsv SELECT 170000 + g, (1 / (g - 50))::text FROM generate_series(1, 100) g;
ROLLBACK TO s1;
COMMIT;
SELECT tag, count(*) FROM tsv WHERE k > 5000 GROUP BY tag ORDER BY tag;
SELECT li_check('SELECT k FROM tsv WHERE k > 5000');
SELECT li_check('SELECT * FROM tsv WHERE k > 5000', false, '{index,bitmap}');
SELECT li_check('SELECT k FROM tsv WHERE k * 2 > 10000', false, '{index,bitmap}');
SELECT learned_index_check('tsv_l', true);
SELECT learned_index_check('tsv_l2', true);
VACUUM tsv;
SELECT li_check('SELECT k FROM tsv WHERE k > 5000');
SELECT * FROM dml_stats('tsv_l');
DROP TABLE tsv;
-- an error in a subtransaction in the middle of an index scan: the scan
-- never ends normally, which must not leave the index looking busy
SET enable_seqscan = off; SET enable_bitmapscan = off;
BEGIN;
SAVEPOINT s3;
SELECT k, 1 / (k - 3000350) FROM td WHERE k > 3000340 ORDER BY k;
ROLLBACK TO SAVEPOINT s3;
COMMIT;
DO $$
BEGIN
    PERFORM k, 1 / (k - 3000350) FROM td WHERE k > 3000340;
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught division_by_zero';
END $$;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT learned_index_retrain('td_l');
SELECT pending FROM learned_index_stats('td_l');

--
-- parallel workers scanning the index must see the rows this transaction
-- inserted before (the index scans run in the workers)
--
CREATE TABLE tpar (k int4) WITH (autovacuum_enabled = off);
INSERT INTO tpar SELECT g FROM generate_series(1, 10000) g;
CREATE INDEX tpar_l ON tpar USING learned (k);
CREATE TABLE tpar_probe (x int4) WITH (autovacuum_enabled = off);
INSERT INTO tpar_probe SELECT g FROM generate_series(1, 50000) g;
VACUUM ANALYZE tpar;
VACUUM ANALYZE tpar_probe;
SET enable_seqscan = off; SET enable_bitmapscan = off;
BEGIN;
INSERT INTO tpar SELECT 20000 + g FROM generate_series(1, 10) g;
-- PostgreSQL 16 renamed force_parallel_mode to debug_parallel_query
SELECT current_setting('server_version_num')::int >= 160000 AS pg16 \gset
\if :pg16
SET LOCAL debug_parallel_query = regress;
\else
SET LOCAL force_parallel_mode = regress;
\endif
SELECT count(*) FROM tpar WHERE k > 20000;
COMMIT;
SELECT count(*) FROM tpar WHERE k > 20000;
RESET enable_seqscan; RESET enable_bitmapscan;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM tpar_probe JOIN tpar ON tpar.k = tpar_probe.x + 30000;
BEGIN;
INSERT INTO tpar SELECT 30000 + g FROM generate_series(1, 100) g;
SELECT count(*) FROM tpar_probe JOIN tpar ON tpar.k = tpar_probe.x + 30000;
COMMIT;
SELECT count(*) FROM tpar_probe JOIN tpar ON tpar.k = tpar_probe.x + 30000;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize; RESET enable_bitmapscan;
DROP TABLE tpar, tpar_probe;

--
-- TRUNCATE and rebuilds inside transactions, with buffered inserts
--
-- the table was created in this transaction: TRUNCATE empties the same files
BEGIN;
CREATE TABLE ttr1 (k int4) WITH (autovacuum_enabled = off);
CREATE INDEX ttr1_l ON ttr1 USING learned (k);
INSERT INTO ttr1 VALUES (1), (2), (3);
TRUNCATE ttr1;
INSERT INTO ttr1 VALUES (100), (200), (300);
COMMIT;
SELECT li_check('SELECT k FROM ttr1 WHERE k >= 0');
SELECT li_check('SELECT k FROM ttr1 WHERE k = 1');
SELECT keys_match, nulls_match FROM dml_stats('ttr1_l');
SELECT learned_index_check('ttr1_l', true);
-- a TRUNCATE rolled back to a savepoint: the rows inserted before it stay
CREATE TABLE ttr2 (k int4) WITH (autovacuum_enabled = off);
CREATE INDEX ttr2_l ON ttr2 USING learned (k);
BEGIN;
INSERT INTO ttr2 VALUES (1), (2), (3);
SAVEPOINT s;
TRUNCATE ttr2;
INSERT INTO ttr2 VALUES (10);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT li_check('SELECT k FROM ttr2 WHERE k >= 0');
SELECT keys_match, nulls_match FROM dml_stats('ttr2_l');
SELECT learned_index_check('ttr2_l', true);
-- TRUNCATE (new files) after buffered inserts, then more inserts
CREATE TABLE ttr3 (k int4) WITH (autovacuum_enabled = off);
CREATE INDEX ttr3_l ON ttr3 USING learned (k);
INSERT INTO ttr3 SELECT g FROM generate_series(1, 1000) g;
BEGIN;
INSERT INTO ttr3 SELECT g FROM generate_series(1001, 2000) g;
TRUNCATE ttr3;
INSERT INTO ttr3 SELECT -g FROM generate_series(1, 1500) g;
SELECT li_check('SELECT k FROM ttr3 WHERE k < 1500');
COMMIT;
SELECT li_check('SELECT k FROM ttr3 WHERE k < 1500');
SELECT li_check('SELECT k FROM ttr3 WHERE k > -10');
SELECT keys_match, nulls_match FROM dml_stats('ttr3_l');
-- REINDEX inside the transaction that has buffered inserts
BEGIN;
INSERT INTO ttr3 SELECT g FROM generate_series(1, 700) g;
REINDEX INDEX ttr3_l;
INSERT INTO ttr3 SELECT g FROM generate_series(701, 900) g;
COMMIT;
SELECT li_check('SELECT k FROM ttr3 WHERE k > -10');
SELECT keys_match, nulls_match FROM dml_stats('ttr3_l');
DROP TABLE ttr1, ttr2, ttr3;

--
-- TRUNCATE, then a new life
--
TRUNCATE td;
SELECT keys, nulls, pending FROM learned_index_stats('td_l');
SELECT li_check('SELECT k FROM td WHERE k > 0');
SELECT setseed(0.42);
INSERT INTO td SELECT (random() * 1000000)::int8, g FROM generate_series(1, 8000) g;
INSERT INTO td SELECT 500000, -g FROM generate_series(1, 700) g;
INSERT INTO td SELECT NULL, -g FROM generate_series(1, 300) g;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');
VACUUM td;
SELECT * FROM dml_stats('td_l');
SELECT leaf_pages > 2 AS many_leaves FROM learned_index_stats('td_l');
SELECT * FROM dml_check('td');

--
-- an index built over HOT chains (rows updated before the index existed,
-- some of them changing the key), plainly and concurrently
--
CREATE TABLE thotc (k int4, v int4) WITH (fillfactor = 50, autovacuum_enabled = off);
INSERT INTO thotc SELECT g, g FROM generate_series(1, 20000) g;
UPDATE thotc SET k = k + 100000 WHERE v % 3 = 0;
UPDATE thotc SET v = -v WHERE v % 5 = 0;
UPDATE thotc SET k = k + 100000 WHERE v % 7 = 0;
CREATE INDEX thotc_l ON thotc USING learned (k);
SELECT li_check('SELECT k FROM thotc WHERE k > 100000');
SELECT li_check('SELECT * FROM thotc WHERE k BETWEEN 100 AND 300', false, '{index,bitmap}');
SELECT li_check('SELECT * FROM thotc WHERE k BETWEEN 200100 AND 200300', false, '{index,bitmap}');
SELECT learned_index_check('thotc_l', true);
UPDATE thotc SET k = k - 1 WHERE v % 11 = 0;
SELECT li_check('SELECT k FROM thotc WHERE k BETWEEN 100000 AND 200000');
DROP INDEX thotc_l;
CREATE INDEX CONCURRENTLY thotc_l ON thotc USING learned (k);
SELECT li_check('SELECT k FROM thotc WHERE k BETWEEN 100000 AND 200000');
SELECT li_check('SELECT * FROM thotc WHERE k BETWEEN 100 AND 300', false, '{index,bitmap}');
SELECT learned_index_check('thotc_l', true);
DROP TABLE thotc;

--
-- REINDEX and concurrent builds
--
REINDEX INDEX td_l;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');
REINDEX TABLE td;
SELECT * FROM dml_check('td');
REINDEX INDEX CONCURRENTLY td_l;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');
DROP INDEX td_l;
CREATE INDEX CONCURRENTLY td_l ON td USING learned (k) WITH (retrain_threshold = 0);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'td_l'::regclass;
SELECT * FROM dml_stats('td_l');
SELECT * FROM dml_check('td');

--
-- the insert buffer: written at once, or flushed when full mid-statement
--
SET learned_index.insert_buffer_size = 0;
INSERT INTO td SELECT (random() * 1000000)::int8, 700000 + g FROM generate_series(1, 2000) g;
SELECT * FROM dml_check('td');
SET learned_index.insert_buffer_size = '64kB';
BEGIN;
INSERT INTO td SELECT (random() * 1000000)::int8, 800000 + g FROM generate_series(1, 6000) g;
SELECT * FROM dml_check('td');
COMMIT;
SELECT * FROM dml_check('td');
RESET learned_index.insert_buffer_size;
VACUUM td;
SELECT * FROM dml_stats('td_l');

--
-- an index built on a tiny table, then grown 100-fold by inserts
--
CREATE TABLE tgrow (k int8, v int4) WITH (autovacuum_enabled = off);
INSERT INTO tgrow SELECT g * 1000, g FROM generate_series(1, 200) g;
CREATE INDEX tgrow_l ON tgrow USING learned (k);
SELECT leaf_pages FROM learned_index_stats('tgrow_l');
SELECT setseed(0.43);
INSERT INTO tgrow SELECT (random() * 1000000)::int8, g FROM generate_series(1, 12000) g;
INSERT INTO tgrow SELECT 500000, -g FROM generate_series(1, 500) g;
SELECT * FROM dml_stats('tgrow_l');
SELECT * FROM dml_check('tgrow');
VACUUM tgrow;
SELECT * FROM dml_stats('tgrow_l');
SELECT leaf_pages > 5 AS many_leaves FROM learned_index_stats('tgrow_l');
SELECT * FROM dml_check('tgrow');
DROP TABLE tgrow;

--
-- inserts concentrated in a few key regions ("hot spots"): the leaves there
-- overflow into delta pages until the retrain threshold retrains those
-- leaves only (segment-local retrain), repeatedly; a run of duplicates of
-- one key spans several leaves and receives more duplicates; epsilon 1
--
CREATE TABLE thot (k int8, v int4) WITH (autovacuum_enabled = off);
INSERT INTO thot SELECT g * 10, g FROM generate_series(1, 30000) g;
INSERT INTO thot SELECT 150000, -g FROM generate_series(1, 1500) g;
CREATE INDEX thot_l ON thot USING learned (k) WITH (epsilon = 1);
CREATE FUNCTION hot_check() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    res text;
    n int := 0;
    fails text[] := '{}';
BEGIN
    FOREACH q IN ARRAY ARRAY[
        'SELECT k FROM thot WHERE k BETWEEN 9000 AND 14000',
        'SELECT k FROM thot WHERE k BETWEEN 12990 AND 13010',
        'SELECT k FROM thot WHERE k BETWEEN 59000 AND 64000',
        'SELECT k FROM thot WHERE k = 150000',
        'SELECT k FROM thot WHERE k BETWEEN 149990 AND 150010',
        'SELECT k FROM thot WHERE k BETWEEN 199000 AND 204000',
        'SELECT k FROM thot WHERE k > 295000',
        'SELECT k FROM thot WHERE k < 100',
        'SELECT k FROM thot WHERE k = 100000',
        'SELECT k FROM thot WHERE k = 100005'] LOOP
        res := li_check(q);
        n := n + 1;
        IF res !~ ' index=ok bitmap=ok ios=ok$' THEN
            fails := fails || (q || '  ->  ' || res);
        END IF;
    END LOOP;
    res := li_check('SELECT k FROM thot ORDER BY k', true, '{index,ios}');
    n := n + 1;
    IF res !~ ' index=ok ios=ok$' THEN
        fails := fails || ('ORDER BY k  ->  ' || res);
    END IF;
    res := li_check('SELECT k FROM thot ORDER BY k DESC', true, '{index,ios}');
    n := n + 1;
    IF res !~ ' index=ok ios=ok$' THEN
        fails := fails || ('ORDER BY k DESC  ->  ' || res);
    END IF;
    PERFORM learned_index_check('thot_l', true);
    RETURN NEXT format('%s checks, %s failing', n + 1, coalesce(array_length(fails, 1), 0));
    RETURN QUERY SELECT 'FAIL: ' || f FROM unnest(fails) AS f;
END $$;
SELECT setseed(0.46);
INSERT INTO thot SELECT 10000 + (random() * 3000)::int, 1 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 60000 + (random() * 3000)::int, 2 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 150000, 3 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 200000 + (random() * 3000)::int, 4 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 250000 + (random() * 3000)::int, 5 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 299000 + (random() * 3000)::int, 6 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT -(random() * 3000)::int, 7 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 149990 + (random() * 20)::int, 8 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
INSERT INTO thot SELECT 10000 + (random() * 3000)::int, 9 FROM generate_series(1, 1500);
SELECT * FROM hot_check();
DELETE FROM thot WHERE v IN (2, 5) OR k BETWEEN 100000 AND 101000;
SELECT * FROM hot_check();
INSERT INTO thot SELECT 100000 + (random() * 1000)::int, 10 FROM generate_series(1, 2500);
SELECT * FROM hot_check();
SELECT local_retrains > 0 AS retrained_locally, max_error <= epsilon AS error_bounded
  FROM learned_index_stats('thot_l');
VACUUM thot;
SELECT * FROM hot_check();
SELECT * FROM dml_stats('thot_l');
SELECT pending FROM learned_index_stats('thot_l');
DROP TABLE thot;
DROP FUNCTION hot_check();

-- retrain_threshold = 0: inserts never retrain, however many leaves
-- overflow and however long a delta chain grows; VACUUM still merges
CREATE TABLE tnot (k int8) WITH (autovacuum_enabled = off);
INSERT INTO tnot SELECT g * 10 FROM generate_series(1, 30000) g;
CREATE INDEX tnot_l ON tnot USING learned (k) WITH (retrain_threshold = 0);
INSERT INTO tnot SELECT 1000 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO tnot SELECT 90000 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO tnot SELECT 150000 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO tnot SELECT 200000 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO tnot SELECT 290000 + g % 100 FROM generate_series(1, 1000) g;
INSERT INTO tnot SELECT 400000 + g FROM generate_series(1, 3000) g;
SELECT pending > 0 AS has_pending, delta_pages > 0 AS has_delta_pages, retrains, local_retrains
  FROM learned_index_stats('tnot_l');
SELECT li_check('SELECT k FROM tnot WHERE k BETWEEN 1000 AND 1100');
SELECT li_check('SELECT k FROM tnot WHERE k > 299000');
SELECT li_check('SELECT k FROM tnot ORDER BY k DESC', true, '{index,ios}');
SELECT learned_index_check('tnot_l', true);
VACUUM tnot;
SELECT pending, delta_pages, retrains > 0 AS retrained FROM learned_index_stats('tnot_l');
SELECT li_check('SELECT k FROM tnot WHERE k > 299000');
DROP TABLE tnot;

-- a segment-local retrain whose rewritten run starts where a kept segment
-- starts must still leave a valid model (segment first keys strictly
-- increasing), as learned_index_check verifies
CREATE TABLE tseg (k int8) WITH (autovacuum_enabled = off);
INSERT INTO tseg SELECT (g / 3) * 10 FROM generate_series(1, 20000) g;
CREATE INDEX tseg_l ON tseg USING learned (k) WITH (epsilon = 2, fillfactor = 90);
SELECT setseed(0.14);
INSERT INTO tseg SELECT (random() * 3000)::int8 FROM generate_series(1, 785);
SELECT setseed(0.24);
INSERT INTO tseg SELECT 8671 + (random() * 100)::int8 FROM generate_series(1, 603);
SELECT setseed(0.25);
INSERT INTO tseg SELECT 70000 + (random() * 10)::int8 FROM generate_series(1, 383);
SELECT learned_index_check('tseg_l', true);
SELECT li_check('SELECT k FROM tseg WHERE k BETWEEN 3400 AND 3600');
SELECT li_check('SELECT k FROM tseg ORDER BY k', true, '{index,ios}');
DROP TABLE tseg;

--
-- unlogged table
--
CREATE UNLOGGED TABLE tul (k int8, v int4) WITH (autovacuum_enabled = off);
SELECT setseed(0.44);
INSERT INTO tul SELECT (random() * 1000000)::int8, g FROM generate_series(1, 10000) g;
CREATE INDEX tul_l ON tul USING learned (k);
SELECT relpersistence FROM pg_class WHERE oid = 'tul_l'::regclass;
INSERT INTO tul SELECT (random() * 1000000)::int8, g FROM generate_series(1, 3000) g;
INSERT INTO tul SELECT NULL, g FROM generate_series(1, 30) g;
SELECT * FROM dml_check('tul');
VACUUM tul;
SELECT * FROM dml_stats('tul_l');
SELECT * FROM dml_check('tul');
ALTER TABLE tul SET LOGGED;
SELECT relpersistence FROM pg_class WHERE oid = 'tul_l'::regclass;
SELECT * FROM dml_check('tul');
ALTER TABLE tul SET UNLOGGED;
INSERT INTO tul SELECT 500000, g FROM generate_series(1, 1000) g;
SELECT * FROM dml_check('tul');
DROP TABLE tul;

--
-- temporary tables
--
CREATE TEMP TABLE ttmp (k int8, v int4);
SELECT setseed(0.45);
INSERT INTO ttmp SELECT (random() * 1000000)::int8, g FROM generate_series(1, 10000) g;
CREATE INDEX ttmp_l ON ttmp USING learned (k);
INSERT INTO ttmp SELECT (random() * 1000000)::int8, g FROM generate_series(1, 3000) g;
INSERT INTO ttmp SELECT NULL, g FROM generate_series(1, 30) g;
SELECT * FROM dml_stats('ttmp_l');
SELECT * FROM dml_check('ttmp');
DELETE FROM ttmp WHERE v % 4 = 0;
VACUUM ttmp;
SELECT * FROM dml_stats('ttmp_l');
SELECT * FROM dml_check('ttmp');
SELECT learned_index_retrain('ttmp_l');
SELECT * FROM dml_check('ttmp');
DROP TABLE ttmp;
-- ON COMMIT DELETE ROWS: the index is emptied at every commit
CREATE TEMP TABLE ttmp2 (k int4) ON COMMIT DELETE ROWS;
CREATE INDEX ttmp2_l ON ttmp2 USING learned (k);
BEGIN;
INSERT INTO ttmp2 SELECT g FROM generate_series(1, 3000) g;
SELECT li_check('SELECT k FROM ttmp2 WHERE k BETWEEN 100 AND 2000');
COMMIT;
SELECT li_check('SELECT k FROM ttmp2 WHERE k BETWEEN 100 AND 2000');
BEGIN;
INSERT INTO ttmp2 SELECT g FROM generate_series(1, 10) g;
SELECT li_check('SELECT k FROM ttmp2 WHERE k >= 1');
COMMIT;
SELECT keys, nulls FROM learned_index_stats('ttmp2_l');
DROP TABLE ttmp2;

--
-- an exclusion constraint enforced through a learned index
--
CREATE TABLE tex (k int4, CONSTRAINT tex_k_excl EXCLUDE USING learned (k WITH =));
INSERT INTO tex SELECT g FROM generate_series(1, 3000) g;
INSERT INTO tex VALUES (1500);
INSERT INTO tex VALUES (5000), (5000);
INSERT INTO tex VALUES (NULL), (NULL);
BEGIN;
INSERT INTO tex VALUES (6000);
INSERT INTO tex VALUES (6000);
ROLLBACK;
INSERT INTO tex VALUES (6000);
SELECT count(*), count(k), count(DISTINCT k) FROM tex;
SELECT li_check('SELECT k FROM tex WHERE k > 2990');

DROP TABLE td, tex;
DROP FUNCTION dml_check(text);
DROP FUNCTION dml_stats(regclass);
