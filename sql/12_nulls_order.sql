--
-- 12_nulls_order: ORDER BY k NULLS FIRST and ORDER BY k DESC NULLS LAST.
-- A default learned index returns ASC NULLS LAST forward and DESC NULLS
-- FIRST backward, exactly like a default (ASC NULLS LAST) btree index: for
-- the other two orders both feed a Sort (both answer them from an index
-- created with NULLS FIRST or DESC NULLS LAST: 20_index_order).  The
-- results equal a sequential scan + sort.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

CREATE TABLE nf (k int4) WITH (autovacuum_enabled = off);
INSERT INTO nf SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE g END FROM generate_series(1, 5000) g;
CREATE INDEX nf_l ON nf USING learned (k);
CREATE TABLE nfb (k int4) WITH (autovacuum_enabled = off);
INSERT INTO nfb SELECT k FROM nf;
CREATE INDEX nfb_b ON nfb (k);
VACUUM ANALYZE nf; VACUUM ANALYZE nfb;
SET enable_seqscan = off;
-- the orders the index gives: no sort, for learned as for btree
EXPLAIN (COSTS OFF) SELECT k FROM nf ORDER BY k NULLS LAST LIMIT 5;
EXPLAIN (COSTS OFF) SELECT k FROM nf ORDER BY k DESC NULLS FIRST LIMIT 5;
-- the other two: a sort over the index, for learned as for btree
EXPLAIN (COSTS OFF) SELECT k FROM nf ORDER BY k NULLS FIRST LIMIT 5;
EXPLAIN (COSTS OFF) SELECT k FROM nfb ORDER BY k NULLS FIRST LIMIT 5;
EXPLAIN (COSTS OFF) SELECT k FROM nf ORDER BY k DESC NULLS LAST LIMIT 5;
EXPLAIN (COSTS OFF) SELECT k FROM nfb ORDER BY k DESC NULLS LAST LIMIT 5;
RESET enable_seqscan;
SELECT li_check('SELECT k FROM nf ORDER BY k NULLS FIRST LIMIT 700', true, '{ios}');
SELECT li_check('SELECT k FROM nf ORDER BY k DESC NULLS LAST LIMIT 700', true, '{ios}');
SELECT li_check('SELECT k FROM nf ORDER BY k NULLS LAST', true, '{index,ios}');
SELECT li_check('SELECT k FROM nf ORDER BY k DESC NULLS FIRST', true, '{index,ios}');
