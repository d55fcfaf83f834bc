--
-- 05_errors: what a learned index refuses, with which message, and the
-- neighbouring things it accepts (expression and partial indexes, domains,
-- ASC NULLS LAST, reloptions at their limits).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

CREATE TABLE terr (i int4, j int4, t text, n numeric, u uuid, b bool, a int4[],
                   tm time, iv interval, o oid) WITH (autovacuum_enabled = off);
INSERT INTO terr (i, j) SELECT g, g % 10 FROM generate_series(1, 5000) g;

-- unsupported column types: the error names the supported ones
CREATE INDEX terr_t ON terr USING learned (t);
CREATE INDEX terr_n ON terr USING learned (n);
CREATE INDEX terr_u ON terr USING learned (u);
CREATE INDEX terr_b ON terr USING learned (b);
CREATE INDEX terr_a ON terr USING learned (a);
CREATE INDEX terr_tm ON terr USING learned (tm);
CREATE INDEX terr_iv ON terr USING learned (iv);
CREATE INDEX terr_o ON terr USING learned (o);
-- ... also through an expression or a domain
CREATE INDEX terr_e ON terr USING learned ((i::text));
CREATE DOMAIN terr_dtext AS text;
CREATE TABLE terr_d (d terr_dtext);
CREATE INDEX terr_d_l ON terr_d USING learned (d);
-- ... and with no index left behind
SELECT count(*) FROM pg_class WHERE relname LIKE 'terr\_%' AND relkind = 'i';
-- an operator class of another type
CREATE INDEX terr_oc ON terr USING learned (i int8_ops);
CREATE INDEX terr_oc ON terr USING learned (i text_ops);

-- bad reloptions
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = 0);
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = -1);
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = 'abc');
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = 100000);
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = 65537);
CREATE INDEX terr_r ON terr USING learned (i) WITH (fillfactor = 5);
CREATE INDEX terr_r ON terr USING learned (i) WITH (fillfactor = 9);
CREATE INDEX terr_r ON terr USING learned (i) WITH (fillfactor = 101);
CREATE INDEX terr_r ON terr USING learned (i) WITH (fillfactor = 'full');
CREATE INDEX terr_r ON terr USING learned (i) WITH (foo = 1);
CREATE INDEX terr_r ON terr USING learned (i) WITH (deduplicate_items = on);
CREATE INDEX terr_r ON terr USING learned (i) WITH (epsilon = 8, epsilon = 9);
CREATE INDEX terr_r ON terr USING learned (i) WITH (retrain_threshold = -0.1);
CREATE INDEX terr_r ON terr USING learned (i) WITH (retrain_threshold = 1.5);
CREATE INDEX terr_r ON terr USING learned (i) WITH (retrain_threshold = 'often');
-- the limits themselves are accepted
CREATE INDEX terr_r1 ON terr USING learned (i) WITH (epsilon = 1, fillfactor = 10);
CREATE INDEX terr_r2 ON terr USING learned (i) WITH (epsilon = 65536, fillfactor = 100, retrain_threshold = 1);
CREATE INDEX terr_r3 ON terr USING learned (i) WITH (retrain_threshold = 0);
DROP INDEX terr_r3;
SELECT epsilon FROM learned_index_stats('terr_r1');
SELECT epsilon FROM learned_index_stats('terr_r2');
SELECT li_check('SELECT i FROM terr WHERE i BETWEEN 1000 AND 1200');
ALTER INDEX terr_r1 SET (epsilon = 0);
ALTER INDEX terr_r1 SET (fillfactor = 200);
ALTER INDEX terr_r1 SET (bar = 2);
ALTER INDEX terr_r1 SET (epsilon = 4);
SELECT reloptions FROM pg_class WHERE oid = 'terr_r1'::regclass;
DROP INDEX terr_r1, terr_r2;

-- index shapes the access method does not support
CREATE INDEX terr_x ON terr USING learned (i, j);
-- a unique learned index works (09_unique), but PostgreSQL reserves
-- PRIMARY KEY ... USING INDEX to btree
CREATE UNIQUE INDEX terr_x ON terr USING learned (i);
ALTER TABLE terr ADD CONSTRAINT terr_pk PRIMARY KEY USING INDEX terr_x;
DROP INDEX terr_x;
CREATE INDEX terr_x ON terr USING learned (i) INCLUDE (j);
-- every order btree accepts (20_index_order scans them)
CREATE INDEX terr_asc ON terr USING learned (i ASC NULLS LAST);
DROP INDEX terr_asc;
CREATE INDEX terr_desc ON terr USING learned (i DESC NULLS LAST);
DROP INDEX terr_desc;
-- CLUSTER
CREATE INDEX terr_l ON terr USING learned (i);
CLUSTER terr USING terr_l;
ALTER TABLE terr CLUSTER ON terr_l;
-- exclusion constraints need commutative operators
ALTER TABLE terr ADD CONSTRAINT terr_ex EXCLUDE USING learned (i WITH <);

-- learned_index_stats / learned_index_retrain on things that are not learned indexes
CREATE INDEX terr_btree ON terr USING btree (i);
SELECT keys FROM learned_index_stats('terr_btree');
SELECT keys FROM learned_index_stats('terr');
SELECT learned_index_retrain('terr_btree');
SELECT learned_index_retrain('terr');
SELECT keys FROM learned_index_stats('pg_class_oid_index');
SELECT keys FROM learned_index_stats(NULL);
SELECT keys FROM learned_index_stats('no_such_index');
CREATE SEQUENCE terr_seq;
SELECT keys FROM learned_index_stats('terr_seq');
DROP SEQUENCE terr_seq;

-- learned_index_retrain while this session has a scan open on the index:
-- the retrain does not wait for scans, and the open scan keeps reading the
-- pages of the model it started with (they are not recycled under it), also
-- after rows are inserted and the index is retrained again
SET enable_seqscan = off; SET enable_bitmapscan = off;
BEGIN;
DECLARE cerr SCROLL CURSOR FOR SELECT i FROM terr WHERE i > 100 ORDER BY i;
FETCH 2 FROM cerr;
SELECT learned_index_retrain('terr_l');
INSERT INTO terr (i, j) SELECT g, -1 FROM generate_series(1, 3000) g;
SELECT learned_index_retrain('terr_l');
FETCH 2 FROM cerr;
MOVE FORWARD 2000 IN cerr;
FETCH 2 FROM cerr;
FETCH LAST FROM cerr;
FETCH BACKWARD 2 FROM cerr;
FETCH ABSOLUTE 1 FROM cerr;
CLOSE cerr;
SELECT li_check('SELECT i FROM terr WHERE i BETWEEN 2990 AND 3010');
ROLLBACK;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT i FROM terr WHERE i BETWEEN 2990 AND 3010');
VACUUM terr;
SELECT li_check('SELECT i FROM terr WHERE i BETWEEN 2990 AND 3010');

-- the same after a segment-local retrain: the open scan still reads leaves
-- the retrain kept (they are shared by both models), and those leaves then
-- receive new delta pages; the scan must still return exactly its rows
CREATE TABLE terr_c (k int8, v int4) WITH (autovacuum_enabled = off);
INSERT INTO terr_c SELECT g * 10, g FROM generate_series(1, 30000) g;
CREATE INDEX terr_c_l ON terr_c USING learned (k) WITH (retrain_threshold = 0);
VACUUM ANALYZE terr_c;
SET enable_seqscan = off; SET enable_bitmapscan = off;
BEGIN;
DECLARE cloc SCROLL CURSOR FOR SELECT k FROM terr_c WHERE k > 0 ORDER BY k;
FETCH 2 FROM cloc;
INSERT INTO terr_c SELECT 150001 + g, -1 FROM generate_series(1, 3000) g;
SELECT learned_index_retrain('terr_c_l');
INSERT INTO terr_c SELECT 5 + g * 10, -2 FROM generate_series(1, 3000) g;
MOVE FORWARD 29000 IN cloc;
FETCH 2 FROM cloc;
FETCH BACKWARD 2 FROM cloc;
CLOSE cloc;
COMMIT;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT k FROM terr_c WHERE k BETWEEN 149000 AND 154000');
SELECT learned_index_check('terr_c_l', true);
DROP TABLE terr_c;

-- an index left invalid by a failed concurrent build
CREATE INDEX CONCURRENTLY terr_inv ON terr USING learned ((100 / (i - 2500)));
SELECT indisvalid FROM pg_index WHERE indexrelid = 'terr_inv'::regclass;
SELECT keys FROM learned_index_stats('terr_inv');
SELECT learned_index_retrain('terr_inv');
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT i FROM terr WHERE 100 / (i - 2500) = 5;
RESET enable_seqscan; RESET enable_bitmapscan;
DROP INDEX terr_inv;

--
-- accepted: expression indexes, partial indexes, domains
--
CREATE INDEX terr_expr ON terr USING learned ((i * 2));
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT i FROM terr WHERE i * 2 = 200;
EXPLAIN (COSTS OFF) SELECT i * 2 FROM terr WHERE i * 2 > 9990 ORDER BY i * 2;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT li_check('SELECT i FROM terr WHERE i * 2 = 200', false, '{index,bitmap}');
SELECT li_check('SELECT i FROM terr WHERE i * 2 = 201', false, '{index,bitmap}');
SELECT li_check('SELECT i FROM terr WHERE i * 2 BETWEEN 1001 AND 2001', false, '{index,bitmap}');
SELECT li_check('SELECT i * 2 FROM terr WHERE i * 2 > 9990 ORDER BY i * 2', true, '{index,bitmap}');
SELECT li_check('SELECT i * 2 FROM terr WHERE i * 2 < 10 ORDER BY i * 2 DESC', true, '{index,bitmap}');
SELECT li_check('SELECT i FROM terr WHERE i * 2 < 0', false, '{index,bitmap}');
-- expressions with other result types: float8, date, timestamp, timestamptz
CREATE INDEX terr_expr_f ON terr USING learned ((i / 7.0::float8));
CREATE INDEX terr_expr_d ON terr USING learned ((date '2000-01-01' + j));
CREATE INDEX terr_expr_ts ON terr USING learned ((timestamp '2000-01-01 00:00' + i * interval '1 hour'));
CREATE INDEX terr_expr_tstz ON terr USING learned ((to_timestamp(i * 3600)));
SELECT li_check('SELECT i FROM terr WHERE i / 7.0::float8 BETWEEN 100 AND 101.5', false, '{index,bitmap}');
SELECT li_check('SELECT i FROM terr WHERE date ''2000-01-01'' + j = ''2000-01-04''', false, '{index,bitmap}');
SELECT li_check($$SELECT i FROM terr WHERE timestamp '2000-01-01 00:00' + i * interval '1 hour' < '2000-01-02 00:00'$$,
                false, '{index,bitmap}');
SELECT li_check($$SELECT i FROM terr WHERE to_timestamp(i * 3600) >= '1970-07-01 00:00+00'$$,
                false, '{index,bitmap}');
-- a partial index
CREATE INDEX terr_part ON terr USING learned (i) WHERE j = 3;
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT i FROM terr WHERE j = 3 AND i < 100;
RESET enable_seqscan; RESET enable_bitmapscan;
SELECT keys FROM learned_index_stats('terr_part');
DROP INDEX terr_l;
SELECT li_check('SELECT i FROM terr WHERE j = 3 AND i < 100', false, '{index,bitmap}');
SELECT li_check('SELECT i FROM terr WHERE j = 3 AND i > 4000 ORDER BY i DESC LIMIT 5', true, '{index}');
-- a domain over a supported type
CREATE DOMAIN terr_dint AS int8 CHECK (VALUE <> 13);
CREATE TABLE terr_dom (d terr_dint) WITH (autovacuum_enabled = off);
INSERT INTO terr_dom SELECT g FROM generate_series(1, 3000) g WHERE g <> 13;
CREATE INDEX terr_dom_l ON terr_dom USING learned (d);
SELECT li_check('SELECT d FROM terr_dom WHERE d BETWEEN 10 AND 20');
SELECT li_check('SELECT d FROM terr_dom WHERE d > 2990::int4');

DROP TABLE terr, terr_d, terr_dom;
DROP DOMAIN terr_dtext;
DROP DOMAIN terr_dint;
