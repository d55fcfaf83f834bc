--
-- 08_rebuild_cache: an index rebuilt in its own files inside a transaction
-- (issue 11, failure 4).  ON COMMIT DELETE ROWS and a TRUNCATE of a table
-- created in the same transaction rebuild the index in place: same
-- relfilenode, generation 1 again.  A model this backend cached for the old
-- contents must not be used for the new ones: lookups, inserts and scans
-- after the rebuild equal a sequential scan and learned_index_check passes.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- 1. temporary table ON COMMIT DELETE ROWS, index built over 200k rows
--    (generation 1, many leaves) and read; the commit empties it in place
CREATE TEMP TABLE rc1 (k int8) ON COMMIT DELETE ROWS;
BEGIN;
INSERT INTO rc1 SELECT g FROM generate_series(1, 200000) g;
CREATE INDEX rc1_k ON rc1 USING learned (k);
SELECT li_check('SELECT k FROM rc1 WHERE k BETWEEN 1000 AND 1999');
COMMIT;
-- second transaction: fewer rows, read through the index
BEGIN;
INSERT INTO rc1 SELECT g FROM generate_series(1, 500) g;
SELECT li_check('SELECT k FROM rc1 WHERE k BETWEEN 100 AND 199');
SELECT li_check('SELECT k FROM rc1 WHERE k > 0');
SELECT li_check('SELECT k FROM rc1 WHERE k > 150000');
SELECT learned_index_check('rc1_k', true);
COMMIT;
-- third transaction: more rows again, a few at a time (no bulk merge)
BEGIN;
INSERT INTO rc1 SELECT g * 3 FROM generate_series(1, 3000) g;
INSERT INTO rc1 SELECT g * 3 + 1 FROM generate_series(1, 3000) g;
SELECT li_check('SELECT k FROM rc1 WHERE k BETWEEN 100 AND 5000');
SELECT li_check('SELECT k FROM rc1 WHERE k > 0');
SELECT learned_index_check('rc1_k', true);
COMMIT;

-- 2. the same, the index created before the first load and rebuilt by
--    REINDEX in the first transaction
CREATE TEMP TABLE rc2 (k int8) ON COMMIT DELETE ROWS;
CREATE INDEX rc2_k ON rc2 USING learned (k);
BEGIN;
INSERT INTO rc2 SELECT g FROM generate_series(1, 200000) g;
REINDEX INDEX rc2_k;
SELECT li_check('SELECT k FROM rc2 WHERE k BETWEEN 1000 AND 1999');
COMMIT;
BEGIN;
INSERT INTO rc2 SELECT g * 7 FROM generate_series(1, 800) g;
SELECT li_check('SELECT k FROM rc2 WHERE k BETWEEN 100 AND 1999');
SELECT li_check('SELECT k FROM rc2 WHERE k > 0');
SELECT learned_index_check('rc2_k', true);
COMMIT;

-- 3. CREATE TABLE, load, CREATE INDEX, insert, TRUNCATE and a smaller load
--    in one transaction (TRUNCATE rebuilds the new table's index in place)
BEGIN;
CREATE TABLE rc3 (k int8);
INSERT INTO rc3 SELECT g FROM generate_series(1, 200000) g;
CREATE INDEX rc3_k ON rc3 USING learned (k);
SELECT li_check('SELECT k FROM rc3 WHERE k BETWEEN 1000 AND 1999');
INSERT INTO rc3 VALUES (7), (150000);
TRUNCATE rc3;
INSERT INTO rc3 SELECT g FROM generate_series(1, 500) g;
SELECT li_check('SELECT k FROM rc3 WHERE k BETWEEN 100 AND 199');
SELECT li_check('SELECT k FROM rc3 WHERE k > 0');
SELECT li_check('SELECT k FROM rc3 WHERE k = 150000');
SELECT learned_index_check('rc3_k', true);
COMMIT;
SELECT li_check('SELECT k FROM rc3 WHERE k > 0');
SELECT learned_index_check('rc3_k', true);

-- 4. the same with other keys after the TRUNCATE (far above the old ones)
BEGIN;
CREATE TABLE rc4 (k int8);
INSERT INTO rc4 SELECT g FROM generate_series(1, 200000) g;
CREATE INDEX rc4_k ON rc4 USING learned (k);
SELECT li_check('SELECT k FROM rc4 WHERE k BETWEEN 1000 AND 1999');
TRUNCATE rc4;
INSERT INTO rc4 SELECT 1000000 + g * 5 FROM generate_series(1, 2000) g;
SELECT li_check('SELECT k FROM rc4 WHERE k BETWEEN 1000100 AND 1000999');
SELECT li_check('SELECT k FROM rc4 WHERE k > 0');
SELECT learned_index_check('rc4_k', true);
COMMIT;

DROP TABLE rc1, rc2, rc3, rc4;
