-- Issue 16: a single-row point query reads 2 buffers -- the leaf and the
-- heap page -- like a hash index (whose metapage is cached in relcache),
-- once the backend has a trusted model: the metapage is not read per scan.
-- Compared with hash and btree indexes on the same data (not hard-coded).
CREATE TABLE pb_l (k int8, v int) WITH (autovacuum_enabled = off);
INSERT INTO pb_l SELECT g * 7, g FROM generate_series(1, 20000) g;
CREATE TABLE pb_h AS SELECT * FROM pb_l;
CREATE TABLE pb_b AS SELECT * FROM pb_l;
CREATE INDEX pb_l_k ON pb_l USING learned (k);
CREATE INDEX pb_h_k ON pb_h USING hash (k);
CREATE INDEX pb_b_k ON pb_b USING btree (k);
VACUUM ANALYZE pb_l, pb_h, pb_b;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- buffers of one point query (the second: the first loads the model), per
-- relation and in EXPLAIN's count; the scan node it used
CREATE FUNCTION pb_blocks(tbl regclass, idx regclass, key int8,
						  OUT node text, OUT index_blocks bigint,
						  OUT heap_blocks bigint, OUT explain_blocks bigint)
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT v FROM %s WHERE k = %s', tbl, key);
	j json;
	i0 bigint;
	h0 bigint;
BEGIN
	EXECUTE q;
	i0 := pg_stat_get_xact_blocks_fetched(idx);
	h0 := pg_stat_get_xact_blocks_fetched(tbl);
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q
		INTO j;
	index_blocks := pg_stat_get_xact_blocks_fetched(idx) - i0;
	heap_blocks := pg_stat_get_xact_blocks_fetched(tbl) - h0;
	node := (j -> 0 -> 'Plan' ->> 'Node Type') || ' ' || (j -> 0 -> 'Plan' ->> 'Index Name');
	explain_blocks := (j -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint +
		(j -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END $$;

SELECT l.node AS learned, h.node AS hash, b.node AS btree,
	   l.index_blocks = h.index_blocks AS index_blocks_as_hash,
	   l.heap_blocks = h.heap_blocks AS heap_blocks_as_hash,
	   l.explain_blocks = h.explain_blocks AS explain_blocks_as_hash,
	   l.explain_blocks = l.index_blocks + l.heap_blocks AS explain_is_index_plus_heap,
	   l.explain_blocks <= b.explain_blocks AS at_most_btree
FROM pb_blocks('pb_l', 'pb_l_k', 70007) l, pb_blocks('pb_h', 'pb_h_k', 70007) h,
	 pb_blocks('pb_b', 'pb_b_k', 70007) b;

-- the same in a new transaction of this backend, and after a retrain by this
-- backend (the first scan after it reads the metapage and the new model)
SELECT l.index_blocks = h.index_blocks AS index_blocks_as_hash
FROM pb_blocks('pb_l', 'pb_l_k', 140007) l, pb_blocks('pb_h', 'pb_h_k', 140007) h;
SELECT learned_index_retrain('pb_l_k', true);
SELECT l.index_blocks = h.index_blocks AS index_blocks_as_hash
FROM pb_blocks('pb_l', 'pb_l_k', 7) l, pb_blocks('pb_h', 'pb_h_k', 7) h;

DROP FUNCTION pb_blocks(regclass, regclass, int8);
DROP TABLE pb_l, pb_h, pb_b;
