-- learned_index 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION learned_index UPDATE TO '0.2.0'" to load this file. \quit

-- statistics gain dirty_leaves and local_retrains
DROP FUNCTION learned_index_stats(regclass);
CREATE FUNCTION learned_index_stats(index regclass,
    OUT keys bigint, OUT leaf_pages bigint, OUT segments bigint,
    OUT epsilon integer, OUT max_error double precision, OUT pending bigint,
    OUT index_bytes bigint, OUT nulls bigint, OUT dead bigint,
    OUT delta_pages bigint, OUT generation bigint, OUT retrains bigint,
    OUT last_retrain timestamptz, OUT search_radius integer,
    OUT dirty_leaves bigint, OUT local_retrains bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'learned_index_stats' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION learned_index_stats(regclass) IS 'statistics of a learned index: keys, pages, model segments, error, pending entries';

-- retrain gains the full option
DROP FUNCTION learned_index_retrain(regclass);
CREATE FUNCTION learned_index_retrain(index regclass, full boolean DEFAULT false) RETURNS void
AS 'MODULE_PATHNAME', 'learned_index_retrain' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION learned_index_retrain(regclass, boolean) IS 'merge pending entries into dense pages and refit the model now (only the leaves that need it, or all with full => true)';

CREATE FUNCTION learned_index_check(index regclass, heapallindexed boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'learned_index_check' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION learned_index_check(regclass, boolean) IS 'verify the structure of a learned index (and, with heapallindexed, that every visible heap tuple is indexed); raises index_corrupted on the first violation';

CREATE FUNCTION learned_index_segments(index regclass,
    OUT segment integer, OUT first_key text, OUT first_pos bigint,
    OUT slope double precision, OUT intercept double precision,
    OUT entries bigint, OUT max_error double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'learned_index_segments' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION learned_index_segments(regclass) IS 'the model of a learned index: one row per segment (first key, position, slope, intercept, entries, measured max error)';
