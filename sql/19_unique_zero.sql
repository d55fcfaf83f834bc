--
-- 19_unique_zero: in a unique float index, -0.0 and +0.0 are one key (they
-- are equal in SQL; btree refuses the second).  The learned index stores
-- each with its own code (index-only scans return -0 as stored), so the
-- uniqueness check, the build and learned_index_check's uniqueness pass
-- compare the range of codes equal to the key.  Each statement is run on a
-- btree unique index too; the outcomes must match.
--
CREATE TABLE zl (x float8);
CREATE UNIQUE INDEX zl_x ON zl USING learned (x);
CREATE TABLE zb (x float8);
CREATE UNIQUE INDEX zb_x ON zb USING btree (x);
-- -0 then 0, and 0 then -0
INSERT INTO zl VALUES ('-0');
INSERT INTO zb VALUES ('-0');
INSERT INTO zl VALUES ('0');
INSERT INTO zb VALUES ('0');
DELETE FROM zl;
DELETE FROM zb;
INSERT INTO zl VALUES ('0');
INSERT INTO zb VALUES ('0');
INSERT INTO zl VALUES ('-0');
INSERT INTO zb VALUES ('-0');
-- in one statement, and next to other keys, with many leaves' worth of rows
DELETE FROM zl;
DELETE FROM zb;
INSERT INTO zl SELECT g FROM generate_series(-50000, 50000) g WHERE g <> 0;
INSERT INTO zb SELECT g FROM generate_series(-50000, 50000) g WHERE g <> 0;
INSERT INTO zl VALUES ('-0'), ('0');
INSERT INTO zb VALUES ('-0'), ('0');
INSERT INTO zl VALUES ('-0');
INSERT INTO zb VALUES ('-0');
INSERT INTO zl VALUES ('0');
INSERT INTO zb VALUES ('0');
SELECT (SELECT count(*) FROM zl) AS learned_rows, (SELECT count(*) FROM zb) AS btree_rows;
-- index-only scans still return what was stored
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT x::text FROM zl WHERE x = 0;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT learned_index_check('zl_x', true);
-- float4, and a build over both zeros
CREATE TABLE z4 (x float4);
INSERT INTO z4 VALUES ('-0'), ('0'), (1);
CREATE UNIQUE INDEX z4_l ON z4 USING learned (x);
CREATE UNIQUE INDEX z4_b ON z4 USING btree (x);
DELETE FROM z4 WHERE x::text = '0';
CREATE UNIQUE INDEX z4_l ON z4 USING learned (x);
INSERT INTO z4 VALUES ('0');
-- the check sees two visible zeros behind the index's back
CREATE TABLE zc (x float8);
INSERT INTO zc VALUES ('-0'), ('0'), (1);
CREATE INDEX zc_x ON zc USING learned (x);
UPDATE pg_index SET indisunique = true WHERE indexrelid = 'zc_x'::regclass;
SELECT learned_index_check('zc_x', true);
DROP TABLE zl, zb, z4, zc;
