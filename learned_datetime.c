/*
 * learned_datetime.c -- cross-type scan keys of the datetime family (date,
 * timestamp, timestamptz in one operator family, like btree's datetime_ops).
 *
 * The index stores keys in the encoding of its column type.  A scan key
 * whose argument has another type of the family is turned, before the scan
 * proper sees it (learned_dt_rescan wraps learned_rescan), into a "code
 * range key": strategy '=' against a pair of codes [lo, hi] of the column
 * type (subtype INTERNALOID, argument a pointer to the pair, decoded by
 * learned_encode_bounds), such that the column values in [lo, hi] are those
 * for which the original operator is true -- or, when that set is not an
 * interval, its hull, and every returned tuple is marked for recheck.
 *
 * The set is computed with PostgreSQL's own cross-type comparison
 * (date_cmp_timestamp_internal, date_cmp_timestamptz_internal,
 * timestamp_cmp_timestamptz_internal, date2timestamp(tz)_opt_overflow,
 * timestamp2timestamptz_opt_overflow): the date/timestamp side is always
 * converted to the wider type, never the other way, exactly as btree does.
 * See docs/design.md section 2.
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/relscan.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "learned.h"

#define DT_DATE_MIN ((int64) (DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE))
#define DT_DATE_MAX ((int64) (DATE_END_JULIAN - POSTGRES_EPOCH_JDATE - 1))
#define DT_TS_MIN MIN_TIMESTAMP
#define DT_TS_MAX (END_TIMESTAMP - 1)
/* any UTC offset PostgreSQL applies is below one day (DetermineTimeZoneOffset) */
#define DT_WINDOW_US (2 * USECS_PER_DAY)
#define DT_MAX_PIECES 64

/* a column value compared with the scan argument: <0, 0, >0 as the SQL operator */
typedef int (*dt_cmp_fn) (int64 col, Datum arg);

/* a sorted union of inclusive intervals of column values */
typedef struct DtSet
{
	int			n;
	int64		lo[2 * DT_MAX_PIECES + 4];
	int64		hi[2 * DT_MAX_PIECES + 4];
} DtSet;

/* date column vs timestamp argument */
static int
cmp_date_ts(int64 col, Datum arg)
{
	return date_cmp_timestamp_internal((DateADT) col, DatumGetTimestamp(arg));
}

/* date column vs timestamptz argument */
static int
cmp_date_tstz(int64 col, Datum arg)
{
	return date_cmp_timestamptz_internal((DateADT) col, DatumGetTimestampTz(arg));
}

/* timestamp column vs timestamptz argument */
static int
cmp_ts_tstz(int64 col, Datum arg)
{
	return timestamp_cmp_timestamptz_internal((Timestamp) col, DatumGetTimestampTz(arg));
}

/* is typid one of date, timestamp, timestamptz? */
bool
learned_is_datetime_type(Oid typid)
{
	return typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID;
}

/* append [lo, hi] (if not empty) to a set kept in position order */
static void
dtset_add(DtSet *set, int64 lo, int64 hi)
{
	if (lo > hi)
		return;
	Assert(set->n < lengthof(set->lo));
	set->lo[set->n] = lo;
	set->hi[set->n] = hi;
	set->n++;
}

/* the set of column values c with "cmp(c) <strategy> 0" inside one piece
 * [s, e] on which cmp is non-decreasing (two binary searches) */
static void
piece_set(dt_cmp_fn cmp, Datum arg, int64 s, int64 e, StrategyNumber strategy,
		  DtSet *set)
{
	int64		a,
				b,
				l,
				h;

	/* a = first c in [s, e] with cmp >= 0, or e + 1 */
	l = s;
	h = e + 1;
	while (l < h)
	{
		int64		m = l + (h - l) / 2;

		if (cmp(m, arg) >= 0)
			h = m;
		else
			l = m + 1;
	}
	a = l;
	/* b = last c in [s, e] with cmp <= 0, or s - 1 */
	l = s - 1;
	h = e;
	while (l < h)
	{
		int64		m = h - (h - l) / 2;

		if (cmp(m, arg) <= 0)
			l = m;
		else
			h = m - 1;
	}
	b = l;
	switch (strategy)
	{
		case BTLessStrategyNumber:
			dtset_add(set, s, a - 1);
			break;
		case BTLessEqualStrategyNumber:
			dtset_add(set, s, b);
			break;
		case BTEqualStrategyNumber:
			dtset_add(set, a, b);
			break;
		case BTGreaterEqualStrategyNumber:
			dtset_add(set, a, e);
			break;
		case BTGreaterStrategyNumber:
			dtset_add(set, b + 1, e);
			break;
		default:
			elog(ERROR, "learned index: unexpected strategy %d", strategy);
	}
}

/* hull of a set (empty: lo > hi); true if the set equals its hull */
static bool
dtset_hull(const DtSet *set, int64 *lo, int64 *hi)
{
	bool		exact = true;

	if (set->n == 0)
	{
		*lo = 1;
		*hi = 0;
		return true;
	}
	*lo = set->lo[0];
	*hi = set->hi[0];
	for (int i = 1; i < set->n; i++)
	{
		if (set->lo[i] != *hi + 1)
			exact = false;
		*hi = Max(*hi, set->hi[i]);
	}
	return exact;
}

/* PG timestamp (microseconds since 2000) of a Unix time in seconds */
static int64
unix_to_ts(pg_time_t secs)
{
	return (int64) (secs - (pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)
		* USECS_PER_SEC;
}

/* Unix time in seconds of a PG timestamp (floor) */
static pg_time_t
ts_to_unix(int64 ts)
{
	int64		s = ts / USECS_PER_SEC;

	if (ts < 0 && s * USECS_PER_SEC != ts)
		s--;
	return (pg_time_t) s + (pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

/* sort helper for breakpoints */
static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* UTC offset (microseconds) that timestamp2timestamptz applies to local time t; false on overflow */
static bool
local_offset(int64 t, int64 *off)
{
	int			overflow;
	TimestampTz z = timestamp2timestamptz_opt_overflow((Timestamp) t, &overflow);

	if (overflow != 0)
		return false;
	*off = z - t;
	return true;
}

/*
 * Timestamp column vs timestamptz argument z (finite): the local times
 * within DT_WINDOW_US of z are cut into pieces at every point where the
 * session time zone's rules (as DetermineTimeZoneOffset applies them)
 * can change the offset; on each piece the conversion is t + constant.
 * Outside the window every local time is below / above z.  Returns false
 * if the pieces could not be established (then the caller widens to the
 * window and rechecks).
 */
static bool
ts_tstz_set(TimestampTz z, StrategyNumber strategy, DtSet *set)
{
	int64		wlo = (z < DT_TS_MIN + DT_WINDOW_US) ? DT_TS_MIN : z - DT_WINDOW_US;
	int64		whi = (z > DT_TS_MAX - DT_WINDOW_US) ? DT_TS_MAX : z + DT_WINDOW_US;
	int64		cuts[3 * DT_MAX_PIECES + 2];
	int			ncuts = 0;
	pg_time_t	t = ts_to_unix(wlo) - 3 * SECS_PER_DAY;
	pg_time_t	stop = ts_to_unix(whi) + 3 * SECS_PER_DAY;
	int64		s;

	for (;;)
	{
		long int	before_off,
					after_off;
		int			before_dst,
					after_dst;
		pg_time_t	boundary;
		int			res = pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary,
											   &after_off, &after_dst, session_timezone);

		if (res < 0)
			return false;
		if (res == 0 || boundary > stop)
			break;
		if (ncuts + 3 > lengthof(cuts))
			return false;
		/* local times where the before/after readings cross the boundary,
		 * and where DetermineTimeZoneOffset (which looks one day back)
		 * starts to use the next boundary */
		cuts[ncuts++] = unix_to_ts(boundary + before_off);
		cuts[ncuts++] = unix_to_ts(boundary + after_off);
		cuts[ncuts++] = unix_to_ts(boundary + SECS_PER_DAY);
		t = boundary;
	}
	qsort(cuts, ncuts, sizeof(int64), cmp_int64);

	if (strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber)
		dtset_add(set, PG_INT64_MIN, wlo - 1);
	s = wlo;
	for (int i = 0; i <= ncuts; i++)
	{
		int64		e = (i < ncuts) ? cuts[i] - 1 : whi;
		int64		off_s,
					off_e;

		if (e > whi)
			e = whi;
		if (e < s)
			continue;
		/* the offset must be the same at both ends of the piece */
		if (!local_offset(s, &off_s) || !local_offset(e, &off_e) || off_s != off_e)
			return false;
		piece_set(cmp_ts_tstz, TimestampTzGetDatum(z), s, e, strategy, set);
		s = e + 1;
		if (s > whi)
			break;
	}
	if (strategy == BTGreaterStrategyNumber || strategy == BTGreaterEqualStrategyNumber)
		dtset_add(set, whi + 1, PG_INT64_MAX);
	return true;
}

/* the set for a column value "a" such that col = a is the only equality:
 * lt/le/eq/ge/gt relative to a, with [below, above] the equal range
 * (below > above: no equal value, between them nothing is stored) */
static void
threshold_set(int64 eqlo, int64 eqhi, StrategyNumber strategy, DtSet *set)
{
	switch (strategy)
	{
		case BTLessStrategyNumber:
			if (eqlo > PG_INT64_MIN)
				dtset_add(set, PG_INT64_MIN, eqlo - 1);
			break;
		case BTLessEqualStrategyNumber:
			dtset_add(set, PG_INT64_MIN, eqhi);
			break;
		case BTEqualStrategyNumber:
			dtset_add(set, eqlo, eqhi);
			break;
		case BTGreaterEqualStrategyNumber:
			dtset_add(set, eqlo, PG_INT64_MAX);
			break;
		case BTGreaterStrategyNumber:
			if (eqhi < PG_INT64_MAX)
				dtset_add(set, eqhi + 1, PG_INT64_MAX);
			break;
		default:
			elog(ERROR, "learned index: unexpected strategy %d", strategy);
	}
}

/* the argument converted to the column's (wider) type: equal range [eqlo, eqhi] */
static void
converted_arg(Oid coltype, Oid argtype, Datum arg, int64 *eqlo, int64 *eqhi)
{
	int			overflow = 0;
	int64		v;

	if (argtype == DATEOID && coltype == TIMESTAMPOID)
		v = date2timestamp_opt_overflow(DatumGetDateADT(arg), &overflow);
	else if (argtype == DATEOID)
		v = date2timestamptz_opt_overflow(DatumGetDateADT(arg), &overflow);
	else
		v = timestamp2timestamptz_opt_overflow(DatumGetTimestamp(arg), &overflow);

	if (overflow > 0)
	{
		/* above every finite value, below +infinity */
		*eqlo = DT_NOEND;
		*eqhi = DT_NOEND - 1;
	}
	else if (overflow < 0)
	{
		/* below every finite value, above -infinity */
		*eqlo = DT_NOBEGIN + 1;
		*eqhi = DT_NOBEGIN;
	}
	else
		*eqlo = *eqhi = v;
}

/*
 * The column values (of coltype) for which "col <strategy> arg" holds, arg
 * of argtype (another type of the datetime family), as the hull [lo, hi]
 * of codes (lo > hi: none).  Returns true if every value in the hull
 * satisfies the operator (no recheck needed).
 */
bool
learned_dt_key_range(Oid coltype, Oid argtype, Datum arg, StrategyNumber strategy,
					 uint64 *lo, uint64 *hi)
{
	DtSet		set;
	int64		hlo,
				hhi;
	bool		exact = true;

	set.n = 0;
	if (coltype == TIMESTAMPOID || coltype == TIMESTAMPTZOID)
	{
		if (argtype == DATEOID || (coltype == TIMESTAMPTZOID && argtype == TIMESTAMPOID))
		{
			int64		eqlo,
						eqhi;

			converted_arg(coltype, argtype, arg, &eqlo, &eqhi);
			threshold_set(eqlo, eqhi, strategy, &set);
		}
		else
		{
			/* timestamp column, timestamptz argument */
			TimestampTz z = DatumGetTimestampTz(arg);

			if (TIMESTAMP_NOT_FINITE(z))
				threshold_set(z, z, strategy, &set);	/* +-infinity equal only to themselves */
			else if (!ts_tstz_set(z, strategy, &set))
			{
				/* widen to the window; the executor rechecks */
				int64		wlo = (z < DT_TS_MIN + DT_WINDOW_US) ? DT_TS_MIN : z - DT_WINDOW_US;
				int64		whi = (z > DT_TS_MAX - DT_WINDOW_US) ? DT_TS_MAX : z + DT_WINDOW_US;

				set.n = 0;
				if (strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber)
					dtset_add(&set, PG_INT64_MIN, whi);
				else if (strategy == BTEqualStrategyNumber)
					dtset_add(&set, wlo, whi);
				else
					dtset_add(&set, wlo, PG_INT64_MAX);
				exact = false;
			}
		}
	}
	else if (coltype == DATEOID)
	{
		/*
		 * date column: the dates compare as their (local) midnight, which is
		 * non-decreasing in the date; only the dates within two days of the
		 * argument can compare equal, those below are less, those above
		 * greater.
		 */
		int64		z = (argtype == TIMESTAMPOID) ? DatumGetTimestamp(arg) : DatumGetTimestampTz(arg);
		dt_cmp_fn	cmp = (argtype == TIMESTAMPOID) ? cmp_date_ts : cmp_date_tstz;

		if (TIMESTAMP_IS_NOBEGIN(z))
			threshold_set(DATEVAL_NOBEGIN, DATEVAL_NOBEGIN, strategy, &set);
		else if (TIMESTAMP_IS_NOEND(z))
			threshold_set(DATEVAL_NOEND, DATEVAL_NOEND, strategy, &set);
		else
		{
			int64		zd = z / USECS_PER_DAY;
			int64		wlo = Max(zd - 3, DT_DATE_MIN);
			int64		whi = Min(zd + 3, DT_DATE_MAX);

			if (strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber)
				dtset_add(&set, PG_INT64_MIN, wlo - 1);
			piece_set(cmp, arg, wlo, whi, strategy, &set);
			if (strategy == BTGreaterStrategyNumber || strategy == BTGreaterEqualStrategyNumber)
				dtset_add(&set, whi + 1, PG_INT64_MAX);
		}
	}
	else
		elog(ERROR, "learned index: %s is not in the datetime family", format_type_be(coltype));

	if (!dtset_hull(&set, &hlo, &hhi))
		exact = false;
	if (hlo > hhi)
	{
		*lo = 1;
		*hi = 0;
	}
	else
	{
		*lo = li_encode_int64(hlo);
		*hi = li_encode_int64(hhi);
	}
	return exact;
}

/* amrescan: rewrite cross-type datetime keys into code range keys, then rescan */
void
learned_dt_rescan(IndexScanDesc scan, ScanKey scankey, int nscankeys,
				  ScanKey orderbys, int norderbys)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Oid			coltype = scan->indexRelation->rd_opcintype[0];
	bool		cross = false;

	if (scankey != NULL && learned_is_datetime_type(coltype))
	{
		for (int i = 0; i < scan->numberOfKeys; i++)
		{
			Oid			sub = scankey[i].sk_subtype;

			if (!(scankey[i].sk_flags & SK_ISNULL) && OidIsValid(sub) &&
				sub != coltype && learned_is_datetime_type(sub))
				cross = true;
		}
	}
	if (!cross)
	{
		if (scankey != NULL)
			so->dt_recheck = false;
		learned_rescan(scan, scankey, nscankeys, orderbys, norderbys);
		return;
	}

	if (so->dt_keys == NULL || so->dt_nkeys < scan->numberOfKeys)
	{
		MemoryContext cxt = GetMemoryChunkContext(so);

		so->dt_keys = MemoryContextAlloc(cxt, sizeof(ScanKeyData) * scan->numberOfKeys);
		so->dt_ranges = MemoryContextAlloc(cxt, sizeof(uint64) * 2 * scan->numberOfKeys);
		so->dt_nkeys = scan->numberOfKeys;
	}
	memcpy(so->dt_keys, scankey, sizeof(ScanKeyData) * scan->numberOfKeys);
	so->dt_recheck = false;
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		sk = &so->dt_keys[i];
		Oid			sub = sk->sk_subtype;

		if ((sk->sk_flags & SK_ISNULL) || !OidIsValid(sub) || sub == coltype ||
			!learned_is_datetime_type(sub))
			continue;
		/* array keys: learned_prepare_keys converts them element by element */
		if (sk->sk_flags & SK_SEARCHARRAY)
			continue;
		if (!learned_dt_key_range(coltype, sub, sk->sk_argument, sk->sk_strategy,
								  &so->dt_ranges[2 * i], &so->dt_ranges[2 * i + 1]))
			so->dt_recheck = true;
		sk->sk_strategy = BTEqualStrategyNumber;
		sk->sk_subtype = INTERNALOID;
		sk->sk_argument = PointerGetDatum(&so->dt_ranges[2 * i]);
	}
	learned_rescan(scan, so->dt_keys, nscankeys, orderbys, norderbys);
}

