-- learned_index 0.3.0 -> 0.4.0: learned_index_stats() reports the compressed
-- leaves (leaf format 2): bytes per sorted entry, key and TID widths.
\echo Use "ALTER EXTENSION learned_index UPDATE TO '0.4.0'" to load this file. \quit

DROP FUNCTION learned_index_stats(regclass);
CREATE FUNCTION learned_index_stats(index regclass,
    OUT keys bigint, OUT leaf_pages bigint, OUT segments bigint,
    OUT epsilon integer, OUT max_error double precision, OUT pending bigint,
    OUT index_bytes bigint, OUT nulls bigint, OUT dead bigint,
    OUT delta_pages bigint, OUT generation bigint, OUT retrains bigint,
    OUT last_retrain timestamptz, OUT search_radius integer,
    OUT dirty_leaves bigint, OUT local_retrains bigint,
    OUT sorted_bytes_per_entry double precision,
    OUT key_bits_avg double precision, OUT key_bits_max integer,
    OUT tid_bits_avg double precision, OUT tid_bits_max integer)
RETURNS record
AS 'MODULE_PATHNAME', 'learned_index_stats' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION learned_index_stats(regclass) IS 'statistics of a learned index: keys, pages, model segments, error, pending entries, compressed leaf widths';

