--
-- 20_index_order: learned indexes declared DESC and/or NULLS FIRST, as btree
-- accepts them.  A forward scan returns the declared order (keys descending
-- for DESC, NULLs before the keys for NULLS FIRST) and a backward scan its
-- reverse, so ORDER BY in the declared order or its exact reverse needs no
-- Sort, for learned as for btree.  Every result is compared with a
-- sequential scan + sort (li_check) or with the same cursor steps over a
-- sequential scan (li_cursor_check); the plans are compared with btree
-- indexes declared the same way.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all

-- duplicates, negatives, NULLs (several NULL pages), a delta chain
CREATE TABLE io (k int8) WITH (autovacuum_enabled = off);
INSERT INTO io SELECT CASE WHEN g % 9 = 0 THEN NULL ELSE (g % 4001) - 2000 END
FROM generate_series(1, 30000) g;
CREATE INDEX io_nf ON io USING learned (k NULLS FIRST);
CREATE INDEX io_d ON io USING learned (k DESC);
CREATE INDEX io_dnl ON io USING learned (k DESC NULLS LAST);
INSERT INTO io SELECT CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 7) % 6001 - 3000 END
FROM generate_series(1, 3000) g;
VACUUM ANALYZE io;
CREATE TABLE iob (k int8) WITH (autovacuum_enabled = off);
INSERT INTO iob SELECT k FROM io;
CREATE INDEX iob_nf ON iob (k NULLS FIRST);
CREATE INDEX iob_d ON iob (k DESC);
CREATE INDEX iob_dnl ON iob (k DESC NULLS LAST);
VACUUM ANALYZE iob;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid = 'io'::regclass ORDER BY indexrelid::regclass::text;

-- the planner sees only index idx of its table (NULL: all of them again)
CREATE FUNCTION io_only(tbl regclass, idx regclass) RETURNS void LANGUAGE sql AS $$
    UPDATE pg_index SET indisvalid = (idx IS NULL OR indexrelid = idx) WHERE indrelid = tbl
$$;

-- each index alone: the orders it gives without a Sort, as btree's
CREATE FUNCTION io_plans(tbl text, idx text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    o text;
    line text;
BEGIN
    PERFORM io_only(tbl::regclass, idx::regclass);
    FOREACH o IN ARRAY ARRAY['k NULLS FIRST', 'k DESC NULLS LAST', 'k NULLS LAST',
                             'k DESC NULLS FIRST'] LOOP
        FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT k FROM %I ORDER BY %s LIMIT 5',
                                   tbl, o) LOOP
            RETURN NEXT o || ': ' || regexp_replace(line, '\m(iob|io)(_[a-z]+)?\M', 'T', 'g');
        END LOOP;
    END LOOP;
    PERFORM io_only(tbl::regclass, NULL);
END $$;
SET enable_seqscan = off;
SELECT l AS learned_nulls_first FROM io_plans('io', 'io_nf') l;
SELECT l AS learned_desc FROM io_plans('io', 'io_d') l;
SELECT l AS learned_desc_nulls_last FROM io_plans('io', 'io_dnl') l;
SELECT i, bool_and(l = b) AS plans_as_btree
FROM unnest(ARRAY['nf', 'd', 'dnl']) i,
     LATERAL (SELECT row_number() OVER () n, l FROM io_plans('io', 'io_' || i) l) x
     JOIN LATERAL (SELECT row_number() OVER () n, b FROM io_plans('iob', 'iob_' || i) b) y USING (n)
GROUP BY i ORDER BY i;
RESET enable_seqscan;

-- results, each index alone, every order and shape, against seq scan + sort
CREATE FUNCTION io_checks(idx text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    PERFORM io_only('io', idx::regclass);
    FOREACH q IN ARRAY ARRAY[
        'SELECT k FROM io ORDER BY k NULLS FIRST',
        'SELECT k FROM io ORDER BY k DESC NULLS LAST',
        'SELECT k FROM io ORDER BY k NULLS LAST',
        'SELECT k FROM io ORDER BY k DESC NULLS FIRST',
        'SELECT k FROM io ORDER BY k NULLS FIRST LIMIT 4000',
        'SELECT k FROM io ORDER BY k DESC NULLS FIRST LIMIT 4000',
        'SELECT k FROM io WHERE k > 1500 ORDER BY k DESC',
        'SELECT k FROM io WHERE k BETWEEN -30 AND 30 ORDER BY k',
        'SELECT k FROM io WHERE k = ANY (''{-2000, -5, 0, 7, 2999, 5000}'') ORDER BY k DESC',
        'SELECT k FROM io WHERE k IS NULL',
        'SELECT k FROM io WHERE k < -1990 OR k IS NULL ORDER BY k NULLS FIRST',
        'SELECT min(k), max(k) FROM io'] LOOP
        RETURN NEXT idx || ': ' || li_check(q, true, '{index,ios}') || ' <- ' || q;
    END LOOP;
    PERFORM io_only('io', NULL);
END $$;
SELECT io_checks('io_nf');
SELECT io_checks('io_d');
SELECT io_checks('io_dnl');

-- cursors that change direction, across the NULL/key boundary and the ends
CREATE FUNCTION io_cursors(idx text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    q text;
    m text;
BEGIN
    PERFORM io_only('io', idx::regclass);
    FOREACH q IN ARRAY ARRAY['SELECT k FROM io ORDER BY k NULLS FIRST',
                             'SELECT k FROM io ORDER BY k DESC NULLS LAST',
                             'SELECT k FROM io ORDER BY k DESC NULLS FIRST'] LOOP
        FOREACH m IN ARRAY ARRAY['index', 'ios'] LOOP
            RETURN NEXT idx || ' ' || m || ': ' ||
                li_cursor_check(q, 'F5 B3 R6000 B10 F20 R-5990 B20 LAST B5 F10 FIRST B2 F3 A-1 R-29000 F7 A3930 B4 F8 A29065 F4 B6 MF100 MB300 F3', m)
                || ' <- ' || q;
        END LOOP;
    END LOOP;
    PERFORM io_only('io', NULL);
END $$;
SELECT io_cursors('io_nf');
SELECT io_cursors('io_d');
SELECT io_cursors('io_dnl');

-- a merge join on the DESC index (mark/restore), against btree's answer
SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_seqscan = off;
SET enable_sort = off; SET enable_material = off;
SELECT io_only('io', 'io_dnl');
EXPLAIN (COSTS OFF) SELECT count(*), sum(b.k) FROM iob a JOIN io b USING (k)
WHERE a.k > 1000;
SELECT (SELECT (count(*), sum(b.k)) FROM iob a JOIN io b USING (k) WHERE a.k > 1000) =
       (SELECT (count(*), sum(b.k)) FROM iob a JOIN iob b USING (k) WHERE a.k > 1000)
       AS merge_join_same;
SELECT io_only('io', NULL);
RESET enable_hashjoin; RESET enable_nestloop; RESET enable_seqscan; RESET enable_sort;
RESET enable_material;

-- float8 with NaN, infinities and both zeros, DESC NULLS LAST
CREATE TABLE iof (x float8) WITH (autovacuum_enabled = off);
INSERT INTO iof VALUES ('NaN'), ('Infinity'), ('-Infinity'), ('-0'), ('0'), (NULL), (1.5),
    (-1.5), (NULL), ('NaN'), (1e308), (-1e-308);
INSERT INTO iof SELECT (g - 500) / 7.0 FROM generate_series(1, 1000) g;
CREATE INDEX iof_x ON iof USING learned (x DESC NULLS LAST);
VACUUM ANALYZE iof;
SELECT li_check('SELECT x FROM iof ORDER BY x DESC NULLS LAST LIMIT 8', true, '{index,ios}');
SELECT li_check('SELECT x FROM iof ORDER BY x NULLS FIRST LIMIT 8', true, '{index,ios}');
SET enable_seqscan = off;
SELECT x FROM iof ORDER BY x DESC NULLS LAST LIMIT 6;
SELECT x FROM iof ORDER BY x NULLS FIRST LIMIT 6;
RESET enable_seqscan;

-- a unique DESC index checks as the ascending one does
CREATE TABLE iou (k int4);
CREATE UNIQUE INDEX iou_k ON iou USING learned (k DESC NULLS LAST);
INSERT INTO iou SELECT g FROM generate_series(1, 1000) g;
INSERT INTO iou VALUES (500);
INSERT INTO iou VALUES (NULL), (NULL);
SELECT li_check('SELECT k FROM iou ORDER BY k DESC NULLS LAST', true, '{index,ios}');
SELECT learned_index_check('iou_k', true);
SELECT learned_index_check('io_nf', true), learned_index_check('io_d', true),
       learned_index_check('io_dnl', true);
DROP TABLE io, iob, iof, iou;
DROP FUNCTION io_plans(text, text), io_checks(text), io_cursors(text), io_only(regclass, regclass);
