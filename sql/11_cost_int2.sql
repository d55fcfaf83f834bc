--
-- 11_cost_int2: the plan choice at ~50% selectivity on int2 (issue 15).
-- The learned estimate is genericcostestimate over its real size.  With
-- compressed leaves (format 2) a column with few distinct values costs a
-- few bits of key and ~17 bits of TID per entry, so the index is smaller
-- than btree's deduplicated one, and the planner picks what it picks for
-- btree: a bitmap scan (before compression the index was twice btree's
-- size and lost to the sequential scan).  Once the heap is all-visible,
-- learned answers with an index-only scan like btree.  Results equal a
-- sequential scan.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

CREATE TABLE c2 (k int2, pad int4) WITH (autovacuum_enabled = off);
INSERT INTO c2 SELECT (g % 200)::int2, g FROM generate_series(1, 100000) g;
CREATE INDEX c2_l ON c2 USING learned (k);
ANALYZE c2;
-- index sizes: learned vs what btree needs for the same keys
CREATE TABLE c2b (k int2, pad int4) WITH (autovacuum_enabled = off);
INSERT INTO c2b SELECT k, pad FROM c2;
CREATE INDEX c2b_b ON c2b USING btree (k);
ANALYZE c2b;
SELECT (SELECT relpages FROM pg_class WHERE relname = 'c2_l') <
       (SELECT relpages FROM pg_class WHERE relname = 'c2b_b') AS learned_smaller_than_btree;
EXPLAIN (COSTS OFF) SELECT * FROM c2b WHERE k < 100;
EXPLAIN (COSTS OFF) SELECT * FROM c2 WHERE k < 100;
SELECT li_check('SELECT * FROM c2 WHERE k < 100', false, '{index,bitmap}');
-- all-visible: index-only scan, as btree
VACUUM c2;
EXPLAIN (COSTS OFF) SELECT k FROM c2 WHERE k < 100;
SELECT li_check('SELECT k FROM c2 WHERE k < 100');
-- selective predicates use the index as before
EXPLAIN (COSTS OFF) SELECT * FROM c2 WHERE k = 7;
DROP TABLE c2, c2b;
