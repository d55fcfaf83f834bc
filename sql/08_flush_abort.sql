--
-- 08_flush_abort: a flush of the insert buffer that fails inside a
-- subtransaction (issue 11, failure 1).  The entries buffered by the
-- enclosing transaction must survive the subtransaction's abort: after the
-- enclosing transaction commits, every committed row is found through the
-- index and learned_index_check(heapallindexed) passes.  Entries buffered
-- inside the aborted subtransaction must be gone (their tuples are dead).
--
-- The failure is made deterministic with a cancel this backend sends to
-- itself right before the flush: in PL/pgSQL a simple expression runs
-- without ExecutorStart (which would flush first), so in
--     v := pg_cancel_backend(pg_backend_pid())::text
--          || (learned_index_stats(idx)).keys::text;
-- the cancel is pending when learned_index_stats() flushes the buffer, and
-- the first CHECK_FOR_INTERRUPTS inside the flush (the bulk-merge retrain
-- or the per-leaf loop) raises "canceling statement due to user request".
-- The top-level form (SAVEPOINT s; <statement>; ROLLBACK TO s) cannot be
-- made deterministic in one session: every top-level statement flushes at
-- its start, before anything it runs could arm a cancel.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- fa_fail_flush(idx): flush idx's buffer inside a subtransaction (this
-- block) that fails during the flush; the block catches the error.
-- Called as a simple expression, so no statement start flushes before it.
CREATE FUNCTION fa_fail_flush(idx regclass) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    v := pg_cancel_backend(pg_backend_pid())::text
         || (learned_index_stats(idx)).keys::text;
    RETURN 'flush did not fail';
EXCEPTION WHEN query_canceled THEN
    RETURN 'caught: ' || SQLERRM;
END $$;

-- fa_verify(tbl): rows found through the index (plain, bitmap, index-only)
-- = sequential scan: all rows, a range, the transaction's rows in a range
CREATE FUNCTION fa_verify(tbl text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEXT li_check(format('SELECT k FROM %I WHERE k > -1000000000', tbl));
    RETURN NEXT li_check(format('SELECT k FROM %I WHERE k BETWEEN 200000 AND 200999', tbl));
    RETURN NEXT li_check(format('SELECT k FROM %I WHERE k %% 4 = 1 AND k BETWEEN 0 AND 40000', tbl));
END $$;

-- base data: 100k keys k = 4i (k % 4 = 0); the enclosing transaction adds
-- k = 4i+1, a subtransaction k = 4i+2
CREATE FUNCTION fa_table(tbl text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I (k int8) WITH (autovacuum_enabled = off)', tbl);
    EXECUTE format('INSERT INTO %I SELECT g * 4 FROM generate_series(1, 100000) g', tbl);
    EXECUTE format('CREATE INDEX %I ON %I USING learned (k)', tbl || '_k', tbl);
END $$;

-- 1. 250k rows buffered by the transaction, then a subtransaction whose
--    flush fails: all 250k must be in the index after COMMIT
SELECT fa_table('fa1');
CREATE FUNCTION fa_run1() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    INSERT INTO fa1 SELECT g * 4 + 1 FROM generate_series(1, 250000) g;
    r := fa_fail_flush('fa1_k');
    RETURN r;
END $$;
BEGIN;
SELECT fa_run1();
COMMIT;
SELECT count(*) AS heap_rows FROM fa1;
SELECT * FROM fa_verify('fa1');
SELECT learned_index_check('fa1_k', true);

-- 2. the same inside an explicit transaction block with a top-level
--    savepoint around it, the failed flush in a nested block
SELECT fa_table('fa2');
CREATE FUNCTION fa_run2() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    INSERT INTO fa2 SELECT g * 4 + 1 FROM generate_series(1, 250000) g;
    BEGIN
        r := fa_fail_flush('fa2_k');
    EXCEPTION WHEN OTHERS THEN
        r := 'outer block caught ' || SQLERRM;
    END;
    RETURN r;
END $$;
BEGIN;
SAVEPOINT s;
SELECT fa_run2();
RELEASE SAVEPOINT s;
COMMIT;
SELECT count(*) AS heap_rows FROM fa2;
SELECT * FROM fa_verify('fa2');
SELECT learned_index_check('fa2_k', true);

-- 3. rows buffered inside the failing subtransaction before its flush:
--    gone (heap and index), the enclosing transaction's rows remain.  (The
--    subtransaction's INSERT flushes the transaction's 250k rows at its
--    start, so today only the subtransaction's own entries are in the
--    failing flush: this case guards the fix, it does not fail now.)
SELECT fa_table('fa3');
CREATE FUNCTION fa_run3() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v text;
    r text;
BEGIN
    INSERT INTO fa3 SELECT g * 4 + 1 FROM generate_series(1, 250000) g;
    BEGIN
        INSERT INTO fa3 SELECT g * 4 + 2 FROM generate_series(1, 5000) g;
        v := pg_cancel_backend(pg_backend_pid())::text
             || (learned_index_stats('fa3_k')).keys::text;
        r := 'flush did not fail';
    EXCEPTION WHEN query_canceled THEN
        r := 'caught: ' || SQLERRM;
    END;
    RETURN r;
END $$;
BEGIN;
SELECT fa_run3();
COMMIT;
SELECT count(*) FILTER (WHERE k % 4 = 0) AS base, count(*) FILTER (WHERE k % 4 = 1) AS parent,
       count(*) FILTER (WHERE k % 4 = 2) AS aborted_sub FROM fa3;
SELECT * FROM fa_verify('fa3');
SELECT learned_index_check('fa3_k', true);
SELECT li_check('SELECT k FROM fa3 WHERE k % 4 = 2 AND k BETWEEN 0 AND 30000');

-- 4. nested subtransactions: the transaction buffers 250k rows, an outer
--    block 5000 more (k = 4i+2), an inner block's flush fails; the outer
--    block then completes: both sets must be in the index
SELECT fa_table('fa4');
CREATE FUNCTION fa_run4() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    INSERT INTO fa4 SELECT g * 4 + 1 FROM generate_series(1, 250000) g;
    BEGIN
        INSERT INTO fa4 SELECT g * 4 + 2 FROM generate_series(1, 5000) g;
        r := fa_fail_flush('fa4_k');
    EXCEPTION WHEN OTHERS THEN
        r := 'outer block caught ' || SQLERRM;
    END;
    RETURN r;
END $$;
BEGIN;
SELECT fa_run4();
COMMIT;
SELECT count(*) FILTER (WHERE k % 4 = 0) AS base, count(*) FILTER (WHERE k % 4 = 1) AS parent,
       count(*) FILTER (WHERE k % 4 = 2) AS outer_sub FROM fa4;
SELECT * FROM fa_verify('fa4');
SELECT learned_index_check('fa4_k', true);

-- 5. nested: the inner block's flush of the transaction's 250k rows fails,
--    then the outer block inserts 5000 rows and aborts: its rows are gone,
--    the transaction's 250k remain
SELECT fa_table('fa5');
CREATE FUNCTION fa_run5() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    INSERT INTO fa5 SELECT g * 4 + 1 FROM generate_series(1, 250000) g;
    BEGIN
        r := fa_fail_flush('fa5_k');
        INSERT INTO fa5 SELECT g * 4 + 2 FROM generate_series(1, 5000) g;
        RAISE EXCEPTION 'abort the outer block too';
    EXCEPTION WHEN raise_exception THEN
        r := r || ', then outer block aborted';
    END;
    RETURN r;
END $$;
BEGIN;
SELECT fa_run5();
COMMIT;
SELECT count(*) FILTER (WHERE k % 4 = 0) AS base, count(*) FILTER (WHERE k % 4 = 1) AS parent,
       count(*) FILTER (WHERE k % 4 = 2) AS outer_sub FROM fa5;
SELECT * FROM fa_verify('fa5');
SELECT learned_index_check('fa5_k', true);

-- 6. a batch small against the index (no bulk merge: entries go to the
--    leaves' tails and delta pages, the cancel hits after the first leaf)
CREATE TABLE fa6 (k int8) WITH (autovacuum_enabled = off);
INSERT INTO fa6 SELECT g * 4 FROM generate_series(1, 300000) g;
CREATE INDEX fa6_k ON fa6 USING learned (k);
CREATE FUNCTION fa_run6() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    INSERT INTO fa6 SELECT g * 40 + 1 FROM generate_series(1, 20000) g;
    r := fa_fail_flush('fa6_k');
    RETURN r;
END $$;
BEGIN;
SELECT fa_run6();
COMMIT;
SELECT count(*) FILTER (WHERE k % 4 = 0) AS base, count(*) FILTER (WHERE k % 4 = 1) AS parent FROM fa6;
SELECT * FROM fa_verify('fa6');
SELECT learned_index_check('fa6_k', true);

DROP TABLE fa1, fa2, fa3, fa4, fa5, fa6;
DROP FUNCTION fa_run1, fa_run2, fa_run3, fa_run4, fa_run5, fa_run6,
    fa_fail_flush, fa_verify, fa_table;
