--
-- 18_check_unique: learned_index_check(idx, heapallindexed => true) on a
-- unique index also verifies that no two rows visible to its snapshot share
-- a key (NULLs only under NULLS NOT DISTINCT), as amcheck's checkunique
-- does for btree.  Duplicates are made behind the index's back: a plain
-- learned index over duplicate keys, then marked unique in pg_index.
-- Whether the data has duplicates is asked of the table itself (GROUP BY),
-- not hard-coded.
--
CREATE TABLE cu (k int8, v int);
INSERT INTO cu SELECT g, g FROM generate_series(1, 2000) g;
INSERT INTO cu VALUES (NULL, 0), (NULL, 0);
CREATE UNIQUE INDEX cu_k ON cu USING learned (k);
-- a row deleted and its key inserted again: one visible row per key
DELETE FROM cu WHERE k = 700;
INSERT INTO cu VALUES (700, -1);
SELECT count(*) AS keys_on_two_visible_rows
  FROM (SELECT k FROM cu WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1) d;
SELECT learned_index_check('cu_k', true);

-- two visible rows with key 1234: only heapallindexed looks at the rows
CREATE TABLE cd (k int8, v int);
INSERT INTO cd SELECT g, g FROM generate_series(1, 2000) g;
INSERT INTO cd VALUES (1234, -1), (NULL, 0), (NULL, 0);
CREATE INDEX cd_k ON cd USING learned (k);
SELECT k AS key_on_two_visible_rows
  FROM cd WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1;
UPDATE pg_index SET indisunique = true WHERE indexrelid = 'cd_k'::regclass;
SELECT learned_index_check('cd_k', false);
SELECT learned_index_check('cd_k', true);
-- once the extra row is gone, the check passes
DELETE FROM cd WHERE v = -1;
SELECT learned_index_check('cd_k', true);
-- two NULLs: fine, unless NULLS NOT DISTINCT
UPDATE pg_index SET indnullsnotdistinct = true WHERE indexrelid = 'cd_k'::regclass;
SELECT learned_index_check('cd_k', true);
DELETE FROM cd WHERE k IS NULL AND ctid = (SELECT min(ctid) FROM cd WHERE k IS NULL);
SELECT learned_index_check('cd_k', true);
DROP TABLE cu, cd;
