--
-- 09_unique: CREATE UNIQUE INDEX ... USING learned.  Duplicates get
-- unique_violation with btree's message; a build over duplicates fails like
-- btree's; NULLs never conflict unless NULLS NOT DISTINCT; deleted, updated
-- and rolled-back rows do not conflict; retrains and VACUUM keep the
-- constraint; what PostgreSQL itself reserves to btree (PRIMARY KEY USING
-- INDEX; foreign keys and ON CONFLICT arbiters before PostgreSQL 18) gets a
-- clear error.  Every
-- statement is run on a btree control table too: both must agree.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/sql/include/helpers.psql
\set ECHO all
SET client_min_messages = error;

-- the same statements on a learned and a btree unique index: same outcome?
CREATE FUNCTION u_both(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text[] := '{}';
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['ul', 'ub'] LOOP
        BEGIN
            EXECUTE replace(stmt, '$T', tbl);
            res := res || 'ok'::text;
        EXCEPTION WHEN unique_violation THEN
            res := res || ('23505: ' || SQLERRM)::text;
        END;
    END LOOP;
    RETURN CASE WHEN res[1] = replace(res[2], 'ub_k', 'ul_k') THEN res[1]
                ELSE 'DIFFER: ' || res[1] || ' / ' || res[2] END;
END $$;

-- rows of the two tables (and through each index) are the same
CREATE FUNCTION u_same() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    a text; b text; c text;
BEGIN
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
    SELECT string_agg(k::text || ':' || v::text, ',' ORDER BY k) INTO a FROM ul WHERE k > -1000000;
    SELECT string_agg(k::text || ':' || v::text, ',' ORDER BY k) INTO b FROM ub WHERE k > -1000000;
    SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off;
    SELECT string_agg(k::text || ':' || v::text, ',' ORDER BY k) INTO c FROM ul;
    RETURN CASE WHEN a = b AND a = c THEN 'same' ELSE 'DIFFER' END;
END $$;

CREATE TABLE ul (k int8, v int) WITH (autovacuum_enabled = off);
CREATE TABLE ub (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO ul SELECT g * 3, 0 FROM generate_series(1, 30000) g;
INSERT INTO ub SELECT g * 3, 0 FROM generate_series(1, 30000) g;
CREATE UNIQUE INDEX ul_k ON ul USING learned (k);
CREATE UNIQUE INDEX ub_k ON ub (k);
SELECT indisunique FROM pg_index WHERE indexrelid = 'ul_k'::regclass;

-- duplicates of the sorted part, new keys, duplicates of new keys
SELECT u_both('INSERT INTO $T VALUES (3, 1)');
SELECT u_both('INSERT INTO $T VALUES (90000, 1)');
SELECT u_both('INSERT INTO $T VALUES (4, 1)');
SELECT u_both('INSERT INTO $T VALUES (4, 2)');
SELECT u_both('INSERT INTO $T VALUES (5, 1), (5, 2)');
SELECT u_both('INSERT INTO $T SELECT g * 3 + 1, 3 FROM generate_series(100, 2000) g');
SELECT u_both('INSERT INTO $T VALUES (301, 4)');
-- UPDATE onto an existing key; UPDATE of other columns (new versions of one key)
SELECT u_both('UPDATE $T SET k = 6 WHERE k = 9');
SELECT u_both('UPDATE $T SET v = v + 1 WHERE k < 3000');
SELECT u_both('UPDATE $T SET v = v + 1 WHERE k < 3000');
SELECT u_both('INSERT INTO $T VALUES (2997, 9)');
-- delete then insert the same key, in one transaction and across
SELECT u_both('DELETE FROM $T WHERE k = 12');
SELECT u_both('INSERT INTO $T VALUES (12, 5)');
BEGIN;
SELECT u_both('DELETE FROM $T WHERE k = 15');
SELECT u_both('INSERT INTO $T VALUES (15, 6)');
SELECT u_both('INSERT INTO $T VALUES (15, 7)');
COMMIT;
-- a rolled-back insert does not hold its key
BEGIN;
SELECT u_both('INSERT INTO $T VALUES (-1, 8)');
ROLLBACK;
SELECT u_both('INSERT INTO $T VALUES (-1, 8)');
BEGIN;
SAVEPOINT a;
SELECT u_both('INSERT INTO $T VALUES (-2, 9)');
ROLLBACK TO a;
SELECT u_both('INSERT INTO $T VALUES (-2, 10)');
COMMIT;
SELECT u_same();

-- COPY with a duplicate fails as a whole
COPY ul FROM stdin;
500000	1
500000	2
\.
SELECT count(*) FROM ul WHERE k = 500000;

-- retrains, VACUUM and REINDEX keep the constraint
SELECT learned_index_retrain('ul_k', true);
SELECT u_both('INSERT INTO $T VALUES (3000, 1)');
SELECT u_both('INSERT INTO $T VALUES (90000, 1)');
VACUUM ul; VACUUM ub;
SELECT u_both('INSERT INTO $T VALUES (12, 1)');
SELECT u_both('DELETE FROM $T WHERE k BETWEEN 30 AND 300');
VACUUM ul; VACUUM ub;
SELECT u_both('INSERT INTO $T VALUES (33, 1)');
SELECT u_both('INSERT INTO $T VALUES (33, 1)');
REINDEX INDEX ul_k;
SELECT u_both('INSERT INTO $T VALUES (33, 2)');
REINDEX INDEX CONCURRENTLY ul_k;
SELECT u_both('INSERT INTO $T VALUES (36, 2)');
SELECT u_both('INSERT INTO $T VALUES (36, 2)');
SELECT u_same();
SELECT learned_index_check('ul_k', true);

-- builds over duplicates fail like btree's; a dead duplicate does not count
CREATE TABLE ud (k int4);
INSERT INTO ud VALUES (1), (2), (2), (NULL), (NULL);
CREATE UNIQUE INDEX ud_k ON ud USING learned (k);
CREATE UNIQUE INDEX ud_k ON ud USING learned (k) NULLS NOT DISTINCT;
DELETE FROM ud WHERE ctid = (SELECT min(ctid) FROM ud WHERE k = 2);
CREATE UNIQUE INDEX ud_k ON ud USING learned (k);
CREATE UNIQUE INDEX CONCURRENTLY ud_k2 ON ud USING learned (k);
CREATE UNIQUE INDEX ud_k3 ON ud USING learned (k) NULLS NOT DISTINCT;
-- NULLs: distinct by default, one at most with NULLS NOT DISTINCT
INSERT INTO ud VALUES (NULL);
DELETE FROM ud WHERE k IS NULL;
INSERT INTO ud VALUES (NULL);
CREATE UNIQUE INDEX ud_k3 ON ud USING learned (k) NULLS NOT DISTINCT;
INSERT INTO ud VALUES (NULL);
BEGIN;
DELETE FROM ud WHERE k IS NULL;
INSERT INTO ud VALUES (NULL);
COMMIT;
SELECT count(*) FILTER (WHERE k IS NULL) AS nulls, count(*) AS rows FROM ud;
SELECT learned_index_check('ud_k3', true);

-- every supported type at its extremes
CREATE TABLE ut (i2 int2, i4 int4, f8 float8, ts timestamptz);
CREATE UNIQUE INDEX ut_i2 ON ut USING learned (i2);
CREATE UNIQUE INDEX ut_i4 ON ut USING learned (i4);
CREATE UNIQUE INDEX ut_f8 ON ut USING learned (f8);
CREATE UNIQUE INDEX ut_ts ON ut USING learned (ts);
INSERT INTO ut VALUES (-32768, -2147483648, '-Infinity', '-infinity'),
                      (32767, 2147483647, 'Infinity', 'infinity'),
                      (0, 0, 'NaN', '2000-01-01 00:00:00+00'),
                      (1, 1, -0.0, NULL);
INSERT INTO ut VALUES (32767, NULL, NULL, NULL);
INSERT INTO ut VALUES (NULL, 2147483647, NULL, NULL);
INSERT INTO ut VALUES (NULL, NULL, 'NaN', NULL);
INSERT INTO ut VALUES (NULL, NULL, 0.0, NULL);
INSERT INTO ut VALUES (NULL, NULL, NULL, 'infinity');
INSERT INTO ut VALUES (NULL, NULL, NULL, '1999-12-31 19:00:00-05');

-- what PostgreSQL reserves to btree: clear errors
CREATE TABLE fk (id serial, r int8 REFERENCES ul (k));
ALTER TABLE ul ADD CONSTRAINT ul_pkey PRIMARY KEY USING INDEX ul_k;
INSERT INTO ul VALUES (1, 1) ON CONFLICT (k) DO NOTHING;
INSERT INTO ul VALUES (1, 1) ON CONFLICT DO NOTHING;
WITH w AS (INSERT INTO ul VALUES (1, 1) ON CONFLICT DO NOTHING RETURNING 1) SELECT 1;
-- (PostgreSQL 18 accepts non-btree arbiters and foreign keys: there the
-- statements above run, expected/09_unique_1.out, and k = 1 went in once)
SELECT count(*) FROM ul WHERE k = 1;
-- an exclusion constraint with = works (and is written at once: see the isolation specs)
CREATE TABLE ux (k int);
ALTER TABLE ux ADD CONSTRAINT ux_k EXCLUDE USING learned (k WITH =);
INSERT INTO ux VALUES (1), (2);
INSERT INTO ux VALUES (2);
SELECT count(*) FROM ux;
