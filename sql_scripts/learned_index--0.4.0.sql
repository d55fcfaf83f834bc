-- learned_index 0.4.0
\echo Use "CREATE EXTENSION learned_index" to load this file. \quit

CREATE FUNCTION learned_handler(internal) RETURNS index_am_handler
AS 'MODULE_PATHNAME', 'learned_handler' LANGUAGE C;

CREATE ACCESS METHOD learned TYPE INDEX HANDLER learned_handler;
COMMENT ON ACCESS METHOD learned IS 'learned index: error-bounded piecewise-linear model over dense leaf pages';

-- integers: one family, so int4_col = 5::int8 uses the index
CREATE OPERATOR FAMILY integer_ops USING learned;
CREATE OPERATOR CLASS int2_ops DEFAULT FOR TYPE int2 USING learned FAMILY integer_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
CREATE OPERATOR CLASS int4_ops DEFAULT FOR TYPE int4 USING learned FAMILY integer_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
CREATE OPERATOR CLASS int8_ops DEFAULT FOR TYPE int8 USING learned FAMILY integer_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
ALTER OPERATOR FAMILY integer_ops USING learned ADD
  OPERATOR 1 < (int2, int4),
  OPERATOR 2 <= (int2, int4),
  OPERATOR 3 = (int2, int4),
  OPERATOR 4 >= (int2, int4),
  OPERATOR 5 > (int2, int4),
  OPERATOR 1 < (int2, int8),
  OPERATOR 2 <= (int2, int8),
  OPERATOR 3 = (int2, int8),
  OPERATOR 4 >= (int2, int8),
  OPERATOR 5 > (int2, int8),
  OPERATOR 1 < (int4, int2),
  OPERATOR 2 <= (int4, int2),
  OPERATOR 3 = (int4, int2),
  OPERATOR 4 >= (int4, int2),
  OPERATOR 5 > (int4, int2),
  OPERATOR 1 < (int4, int8),
  OPERATOR 2 <= (int4, int8),
  OPERATOR 3 = (int4, int8),
  OPERATOR 4 >= (int4, int8),
  OPERATOR 5 > (int4, int8),
  OPERATOR 1 < (int8, int2),
  OPERATOR 2 <= (int8, int2),
  OPERATOR 3 = (int8, int2),
  OPERATOR 4 >= (int8, int2),
  OPERATOR 5 > (int8, int2),
  OPERATOR 1 < (int8, int4),
  OPERATOR 2 <= (int8, int4),
  OPERATOR 3 = (int8, int4),
  OPERATOR 4 >= (int8, int4),
  OPERATOR 5 > (int8, int4);

-- floats: one family
CREATE OPERATOR FAMILY float_ops USING learned;
CREATE OPERATOR CLASS float4_ops DEFAULT FOR TYPE float4 USING learned FAMILY float_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
CREATE OPERATOR CLASS float8_ops DEFAULT FOR TYPE float8 USING learned FAMILY float_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
ALTER OPERATOR FAMILY float_ops USING learned ADD
  OPERATOR 1 < (float4, float8),
  OPERATOR 2 <= (float4, float8),
  OPERATOR 3 = (float4, float8),
  OPERATOR 4 >= (float4, float8),
  OPERATOR 5 > (float4, float8),
  OPERATOR 1 < (float8, float4),
  OPERATOR 2 <= (float8, float4),
  OPERATOR 3 = (float8, float4),
  OPERATOR 4 >= (float8, float4),
  OPERATOR 5 > (float8, float4);

-- date and time types: one family (like btree's datetime_ops), so that
-- date_col < '2010-01-01 12:00'::timestamp or ts_col = now() use the index;
-- cross-type keys are converted exactly at scan time (learned_datetime.c)
CREATE OPERATOR FAMILY datetime_ops USING learned;
CREATE OPERATOR CLASS date_ops DEFAULT FOR TYPE date USING learned FAMILY datetime_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
CREATE OPERATOR CLASS timestamp_ops DEFAULT FOR TYPE timestamp USING learned FAMILY datetime_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
CREATE OPERATOR CLASS timestamptz_ops DEFAULT FOR TYPE timestamptz USING learned FAMILY datetime_ops AS
  OPERATOR 1 < , OPERATOR 2 <= , OPERATOR 3 = , OPERATOR 4 >= , OPERATOR 5 >;
ALTER OPERATOR FAMILY datetime_ops USING learned ADD
  OPERATOR 1 < (date, timestamp),
  OPERATOR 2 <= (date, timestamp),
  OPERATOR 3 = (date, timestamp),
  OPERATOR 4 >= (date, timestamp),
  OPERATOR 5 > (date, timestamp),
  OPERATOR 1 < (date, timestamptz),
  OPERATOR 2 <= (date, timestamptz),
  OPERATOR 3 = (date, timestamptz),
  OPERATOR 4 >= (date, timestamptz),
  OPERATOR 5 > (date, timestamptz),
  OPERATOR 1 < (timestamp, date),
  OPERATOR 2 <= (timestamp, date),
  OPERATOR 3 = (timestamp, date),
  OPERATOR 4 >= (timestamp, date),
  OPERATOR 5 > (timestamp, date),
  OPERATOR 1 < (timestamp, timestamptz),
  OPERATOR 2 <= (timestamp, timestamptz),
  OPERATOR 3 = (timestamp, timestamptz),
  OPERATOR 4 >= (timestamp, timestamptz),
  OPERATOR 5 > (timestamp, timestamptz),
  OPERATOR 1 < (timestamptz, date),
  OPERATOR 2 <= (timestamptz, date),
  OPERATOR 3 = (timestamptz, date),
  OPERATOR 4 >= (timestamptz, date),
  OPERATOR 5 > (timestamptz, date),
  OPERATOR 1 < (timestamptz, timestamp),
  OPERATOR 2 <= (timestamptz, timestamp),
  OPERATOR 3 = (timestamptz, timestamp),
  OPERATOR 4 >= (timestamptz, timestamp),
  OPERATOR 5 > (timestamptz, timestamp);

-- Every other type matches this class, so CREATE INDEX reaches the access
-- method, which reports the supported types instead of a generic error.
CREATE OPERATOR CLASS unsupported_type_ops DEFAULT FOR TYPE anyelement USING learned AS
  STORAGE anyelement;

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
