/*
 * learned_encode.c -- SQL values to the model's order-preserving uint64
 * codes and back (the shim side of src/li_encode.cpp).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "learned.h"

/* ------------------------------------------------------------------
 * Key encoding
 * ------------------------------------------------------------------ */

/* the key kind (encoding) of a column type; LEARNED_KEY_INVALID if unsupported */
LearnedKeyKind
learned_keykind_for_type(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return LEARNED_KEY_INT2;
		case INT4OID:
			return LEARNED_KEY_INT4;
		case INT8OID:
			return LEARNED_KEY_INT8;
		case FLOAT4OID:
			return LEARNED_KEY_FLOAT4;
		case FLOAT8OID:
			return LEARNED_KEY_FLOAT8;
		case DATEOID:
			return LEARNED_KEY_DATE;
		case TIMESTAMPOID:
			return LEARNED_KEY_TIMESTAMP;
		case TIMESTAMPTZOID:
			return LEARNED_KEY_TIMESTAMPTZ;
		default:
			return LEARNED_KEY_INVALID;
	}
}

/* the supported types, for error messages */
const char *
learned_supported_types(void)
{
	return "smallint, integer, bigint, real, double precision, date, "
		"timestamp without time zone, timestamp with time zone";
}

/* a SQL value -> its order-preserving uint64 code */
uint64
learned_encode(LearnedKeyKind kind, Datum value)
{
	switch (kind)
	{
		case LEARNED_KEY_INT2:
			return li_encode_int64((int64) DatumGetInt16(value));
		case LEARNED_KEY_INT4:
			return li_encode_int64((int64) DatumGetInt32(value));
		case LEARNED_KEY_INT8:
			return li_encode_int64(DatumGetInt64(value));
		case LEARNED_KEY_FLOAT4:
			return li_encode_float8((double) DatumGetFloat4(value));
		case LEARNED_KEY_FLOAT8:
			return li_encode_float8(DatumGetFloat8(value));
		case LEARNED_KEY_DATE:
			return li_encode_int64((int64) DatumGetDateADT(value));
		case LEARNED_KEY_TIMESTAMP:
			return li_encode_int64((int64) DatumGetTimestamp(value));
		case LEARNED_KEY_TIMESTAMPTZ:
			return li_encode_int64((int64) DatumGetTimestampTz(value));
		default:
			elog(ERROR, "learned index: invalid key kind %d", (int) kind);
	}
	return 0;					/* keep compiler quiet */
}

/*
 * Encoded range of every value comparing equal to a scan-key argument of
 * type typid (an argument of another type of the same operator family).
 * INTERNALOID: a code range key made by learned_dt_rescan (the argument
 * points to the inclusive pair [lo, hi], already in the column's codes).
 */
void
learned_encode_bounds(Oid typid, Datum value, uint64 *lo, uint64 *hi)
{
	LearnedKeyKind kind = learned_keykind_for_type(typid);

	if (typid == INTERNALOID)
	{
		const uint64 *range = (const uint64 *) DatumGetPointer(value);

		*lo = range[0];
		*hi = range[1];
		return;
	}

	if (kind == LEARNED_KEY_FLOAT4 || kind == LEARNED_KEY_FLOAT8)
	{
		double		v = (kind == LEARNED_KEY_FLOAT4) ? (double) DatumGetFloat4(value)
			: DatumGetFloat8(value);

		*lo = li_float8_bound_lo(v);
		*hi = li_float8_bound_hi(v);
		return;
	}
	if (kind == LEARNED_KEY_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learned index cannot compare with values of type %s",
						format_type_be(typid))));
	*lo = *hi = learned_encode(kind, value);
}

/*
 * The codes of every key equal to code `key` in kind `kind` (floats: -0.0
 * and +0.0 compare equal but keep their own codes), for uniqueness: lo..hi.
 */
void
learned_unique_range(LearnedKeyKind kind, uint64 key, uint64 *lo, uint64 *hi)
{
	*lo = *hi = key;
	if (kind == LEARNED_KEY_FLOAT4 || kind == LEARNED_KEY_FLOAT8)
	{
		double		v = li_decode_float8(key);

		*lo = li_float8_bound_lo(v);
		*hi = li_float8_bound_hi(v);
	}
}

/* a uint64 code -> the SQL value (index-only scans) */
Datum
learned_decode(LearnedKeyKind kind, uint64 key)
{
	switch (kind)
	{
		case LEARNED_KEY_INT2:
			return Int16GetDatum((int16) li_decode_int64(key));
		case LEARNED_KEY_INT4:
			return Int32GetDatum((int32) li_decode_int64(key));
		case LEARNED_KEY_INT8:
			return Int64GetDatum(li_decode_int64(key));
		case LEARNED_KEY_FLOAT4:
			return Float4GetDatum((float4) li_decode_float8(key));
		case LEARNED_KEY_FLOAT8:
			return Float8GetDatum(li_decode_float8(key));
		case LEARNED_KEY_DATE:
			return DateADTGetDatum((DateADT) li_decode_int64(key));
		case LEARNED_KEY_TIMESTAMP:
			return TimestampGetDatum((Timestamp) li_decode_int64(key));
		case LEARNED_KEY_TIMESTAMPTZ:
			return TimestampTzGetDatum((TimestampTz) li_decode_int64(key));
		default:
			elog(ERROR, "learned index: invalid key kind %d", (int) kind);
	}
	return (Datum) 0;
}
