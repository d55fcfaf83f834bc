-- learned_index 0.2.0 -> 0.3.0
\echo Use "ALTER EXTENSION learned_index UPDATE TO '0.3.0'" to load this file. \quit

-- Cross-type comparisons between date, timestamp and timestamptz.
--
-- A fresh 0.3.0 install puts the three operator classes into one family,
-- datetime_ops.  The classes of 0.2.0 live in one family each (date_ops,
-- timestamp_ops, timestamptz_ops) and existing indexes depend on them; an
-- operator class cannot move to another family with DDL.  The planner
-- only needs an operator (column type, other type) in the index's own
-- family, so each 0.2.0 family gets the cross-type operators whose left
-- operand is its type: existing and new indexes then answer the same
-- cross-type comparisons as on a fresh install.
ALTER OPERATOR FAMILY date_ops USING learned ADD
  OPERATOR 1 < (date, timestamp),
  OPERATOR 2 <= (date, timestamp),
  OPERATOR 3 = (date, timestamp),
  OPERATOR 4 >= (date, timestamp),
  OPERATOR 5 > (date, timestamp),
  OPERATOR 1 < (date, timestamptz),
  OPERATOR 2 <= (date, timestamptz),
  OPERATOR 3 = (date, timestamptz),
  OPERATOR 4 >= (date, timestamptz),
  OPERATOR 5 > (date, timestamptz);

ALTER OPERATOR FAMILY timestamp_ops USING learned ADD
  OPERATOR 1 < (timestamp, date),
  OPERATOR 2 <= (timestamp, date),
  OPERATOR 3 = (timestamp, date),
  OPERATOR 4 >= (timestamp, date),
  OPERATOR 5 > (timestamp, date),
  OPERATOR 1 < (timestamp, timestamptz),
  OPERATOR 2 <= (timestamp, timestamptz),
  OPERATOR 3 = (timestamp, timestamptz),
  OPERATOR 4 >= (timestamp, timestamptz),
  OPERATOR 5 > (timestamp, timestamptz);

ALTER OPERATOR FAMILY timestamptz_ops USING learned ADD
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

