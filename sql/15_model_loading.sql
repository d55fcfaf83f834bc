-- Issue 16: a new backend loads a model by reading the metapage's model
-- directory and the pages of the per-leaf arrays; segment pages are copied
-- on demand by the lookups that need them.  Lookups from fresh backends
-- (present and absent keys, ranges) must agree with the data, before and
-- after a retrain, and learned_index_check() checks the directory.
CREATE TABLE ml (k int8) WITH (autovacuum_enabled = off);
-- 2500 values of 100 copies: one segment per value, about ten model pages
INSERT INTO ml SELECT (g / 100) * 10 FROM generate_series(0, 249999) g;
CREATE INDEX ml_k ON ml USING learned (k);
SELECT segments > 4 * 8152 / 32 AS segments_loaded_on_demand FROM learned_index_stats('ml_k');

-- lookups of a fresh backend: counts of present keys (100 each) and absent ones
CREATE FUNCTION ml_probe(OUT wrong_present bigint, OUT wrong_absent bigint, OUT range_rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	SELECT count(*) FILTER (WHERE (SELECT count(*) FROM ml WHERE k = j * 10) <> 100)
	INTO wrong_present FROM generate_series(0, 2499, 7) j;
	SELECT count(*) FILTER (WHERE (SELECT count(*) FROM ml WHERE k = j * 10 + 5) <> 0)
	INTO wrong_absent FROM generate_series(-3, 2503, 11) j;
	SELECT count(*) INTO range_rows FROM ml WHERE k BETWEEN 12345 AND 20000;
END $$;
\c
SELECT * FROM ml_probe();
SELECT learned_index_check('ml_k', true);
SELECT learned_index_retrain('ml_k', true);
\c
SELECT * FROM ml_probe();
SELECT learned_index_check('ml_k', true);
-- the whole segment array (learned_index_segments) after a partial load
\c
SELECT count(*) FROM ml WHERE k = 10000;
SELECT count(*) AS segments FROM learned_index_segments('ml_k');
DROP FUNCTION ml_probe();
DROP TABLE ml;
