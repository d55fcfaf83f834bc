--
-- 08_scan_error_cache: a scan of a learned index that errors inside a
-- subtransaction (issue 11, failure 6).  The scan's reference to the
-- backend's cached model must be dropped with the subtransaction;
-- otherwise this backend counts as a reader of the old generation forever
-- and no retrain it runs can recycle pages.  Two identical tables: la gets
-- the failed scan, lb (the control) does not; after the same 20 full
-- retrains and 2 VACUUMs in this backend, la's index must be about as big
-- as lb's (today: 47 MB against 5.9 MB).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

CREATE TABLE se_a (k int8) WITH (autovacuum_enabled = off);
CREATE TABLE se_b (k int8) WITH (autovacuum_enabled = off);
INSERT INTO se_a SELECT (g * 7919) % 100003 FROM generate_series(1, 100000) g;
INSERT INTO se_b SELECT k FROM se_a;
CREATE INDEX se_a_k ON se_a USING learned (k);
CREATE INDEX se_b_k ON se_b USING learned (k);
SELECT pg_relation_size('se_a_k') = pg_relation_size('se_b_k') AS same_size_at_start;

-- an index scan on se_a_k that raises division_by_zero at k = 5000, caught
-- by an exception block (the subtransaction aborts, the transaction goes on)
CREATE FUNCTION se_failed_scan() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    BEGIN
        SELECT count(*) INTO n FROM se_a WHERE k > 1000 AND 100 / (k - 5000) > -1000;
        RETURN 'no error: ' || n;
    EXCEPTION WHEN division_by_zero THEN
        RETURN 'caught: ' || SQLERRM;
    END;
END $$;
SELECT li_plan_uses('SELECT count(*) FROM se_a WHERE k > 1000 AND 100 / (k - 5000) > -1000',
                    li_mode_settings('index'), 'Index Scan') AS uses_index_scan;
SELECT se_failed_scan();

-- 20 rounds: random keys into both, a full retrain of each; VACUUM after
-- rounds 10 and 20
CREATE PROCEDURE se_round(i int)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO se_a SELECT (g * 104729 + i) % 100003 FROM generate_series(1, 5000) g;
    INSERT INTO se_b SELECT (g * 104729 + i) % 100003 FROM generate_series(1, 5000) g;
    PERFORM learned_index_retrain('se_a_k', true);
    PERFORM learned_index_retrain('se_b_k', true);
END $$;
SELECT CASE WHEN v.s = 'vacuum' THEN 'VACUUM se_a, se_b' ELSE format('CALL se_round(%s)', i) END
FROM generate_series(1, 20) i,
     LATERAL (VALUES ('round'), (CASE WHEN i % 10 = 0 THEN 'vacuum' END)) v(s)
WHERE v.s IS NOT NULL
\gexec

-- the indexes are still right
SELECT li_check('SELECT k FROM se_a WHERE k BETWEEN 4000 AND 6000');
SELECT li_check('SELECT k FROM se_b WHERE k BETWEEN 4000 AND 6000');
SELECT learned_index_check('se_a_k', true);
-- the failed scan must not make se_a_k grow more than the control
SELECT pg_relation_size('se_a_k') < 2 * pg_relation_size('se_b_k') AS a_below_twice_b;
-- (sizes for the record, not compared: uncomment to look)
-- SELECT pg_relation_size('se_a_k'), pg_relation_size('se_b_k');

DROP TABLE se_a, se_b;
DROP FUNCTION se_failed_scan;
DROP PROCEDURE se_round;
