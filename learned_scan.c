/*
 * learned_scan.c -- ambeginscan, amrescan, amgettuple, amgetbitmap,
 * amendscan, ammarkpos, amrestrpos, amcanreturn.
 *
 * Scan keys on the single column are reduced to a sorted list of inclusive
 * ranges of encoded keys (one, or one per element of `k = ANY(array)`:
 * amsearcharray) plus two flags (want non-null, want null).  The scan
 * visits "groups" in key order: the leaf groups (a leaf page and its delta
 * chain) of each range in turn, then the NULL pages (before the leaves
 * instead for NULLS FIRST and DESC NULLS LAST indexes; a DESC index walks
 * the keys downward when the executor scans forward).  A group is read under
 * a share lock into a sorted array of items and then returned one by one, forward
 * or backward, keeping a pin on the group's page (VACUUM's cleanup lock
 * waits for it).  The generation lock of the model it uses is held from
 * beginscan to endscan, so no retrain recycles that model's pages under
 * the scan (docs/design.md, "Locking").
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/relscan.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

#define SIGN_BIT UINT64CONST(0x8000000000000000)

/* amcanreturn: index-only scans return the key */
bool
learned_canreturn(Relation index, int attno)
{
	return attno == 1;
}

/* forget a scan position, releasing its pin */
static void
pos_reset(LearnedScanPos *pos)
{
	if (BufferIsValid(pos->buf))
		ReleaseBuffer(pos->buf);
	pos->buf = InvalidBuffer;
	pos->range = -1;
	pos->group = -1;
	pos->cur = -1;
	pos->nitems = 0;
	pos->lazy = false;
	pos->itups = false;
}

/* ambeginscan: flush this backend's buffered entries, lock the generation, get the model */
IndexScanDesc
learned_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	LearnedScanOpaque so = palloc0(sizeof(LearnedScanOpaqueData));

	/* this transaction's own buffered inserts must be visible to it */
	learned_flush_pending(index);
	so->cache = learned_scan_model(index);
	so->pos.buf = InvalidBuffer;
	so->mark.buf = InvalidBuffer;
	pos_reset(&so->pos);
	pos_reset(&so->mark);
	so->nnullpages = -1;
	so->keycxt = AllocSetContextCreate(CurrentMemoryContext,
									   "learned_index scan keys",
									   ALLOCSET_SMALL_SIZES);
	so->tmpcxt = AllocSetContextCreate(CurrentMemoryContext,
									   "learned_index scan tuples",
									   ALLOCSET_SMALL_SIZES);
	so->desc = (index->rd_indoption[0] & INDOPTION_DESC) != 0;
	/* ASC NULLS LAST and DESC NULLS FIRST: NULLs after the highest key */
	so->nulls_high = so->desc == ((index->rd_indoption[0] & INDOPTION_NULLS_FIRST) != 0);
	scan->opaque = so;
	scan->xs_itupdesc = RelationGetDescr(index);
	return scan;
}

/* a growable list of code ranges [lo, hi] */
typedef struct RangeList
{
	int			n;
	int			cap;
	uint64	   *lo;
	uint64	   *hi;
} RangeList;

/* append [lo, hi] to a range list */
static void
ranges_add(RangeList *rl, uint64 lo, uint64 hi)
{
	if (rl->n >= rl->cap)
	{
		rl->cap = Max(16, rl->cap * 2);
		rl->lo = rl->lo ? repalloc(rl->lo, sizeof(uint64) * rl->cap) :
			palloc(sizeof(uint64) * rl->cap);
		rl->hi = rl->hi ? repalloc(rl->hi, sizeof(uint64) * rl->cap) :
			palloc(sizeof(uint64) * rl->cap);
	}
	rl->lo[rl->n] = lo;
	rl->hi[rl->n] = hi;
	rl->n++;
}

/* qsort comparator of (lo, hi) pairs packed as uint64[2] */
static int
range_cmp(const void *a, const void *b)
{
	const uint64 *x = (const uint64 *) a;
	const uint64 *y = (const uint64 *) b;

	return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
}

/* sort a range list by lower bound and merge overlapping or adjacent ranges */
static void
ranges_normalize(RangeList *rl)
{
	uint64	   *pairs;
	int			k = 0;

	if (rl->n <= 1)
		return;
	pairs = palloc(sizeof(uint64) * 2 * rl->n);
	for (int i = 0; i < rl->n; i++)
	{
		pairs[2 * i] = rl->lo[i];
		pairs[2 * i + 1] = rl->hi[i];
	}
	qsort(pairs, rl->n, sizeof(uint64) * 2, range_cmp);
	for (int i = 0; i < rl->n; i++)
	{
		uint64		lo = pairs[2 * i],
					hi = pairs[2 * i + 1];

		if (k > 0 && (lo <= rl->hi[k - 1] || lo - 1 == rl->hi[k - 1]))
			rl->hi[k - 1] = Max(rl->hi[k - 1], hi);
		else
		{
			rl->lo[k] = lo;
			rl->hi[k] = hi;
			k++;
		}
	}
	rl->n = k;
	pfree(pairs);
}

/* keep only what lies in both sorted, merged range lists (result in a) */
static void
ranges_intersect(RangeList *a, const RangeList *b)
{
	RangeList	out = {0, 0, NULL, NULL};
	int			i = 0,
				j = 0;

	while (i < a->n && j < b->n)
	{
		uint64		lo = Max(a->lo[i], b->lo[j]);
		uint64		hi = Min(a->hi[i], b->hi[j]);

		if (lo <= hi)
			ranges_add(&out, lo, hi);
		if (a->hi[i] < b->hi[j])
			i++;
		else
			j++;
	}
	if (a->lo)
	{
		pfree(a->lo);
		pfree(a->hi);
	}
	*a = out;
}

/*
 * An element of another datetime type than the column (date, timestamp,
 * timestamptz): its range in the column's encoding, through the same exact
 * conversion as scalar keys (learned_datetime.c): for equality the codes
 * equal to it, for an inequality those satisfying it; *recheck if that
 * range is only a hull.
 */
static void
datetime_element_range(Oid coltype, Oid elemtype, Datum elem, StrategyNumber strategy,
					   uint64 *lo, uint64 *hi, bool *recheck)
{
	if (!learned_dt_key_range(coltype, elemtype, elem, strategy, lo, hi))
		*recheck = true;
}

/* the union hull of the ranges of `k op ANY(array)` for one inequality */
static bool
array_inequality_hull(ScanKey sk, Oid coltype, Oid elemtype, Datum *elems,
					  bool *nulls, int nelems, RangeList *rl, bool *recheck)
{
	uint64		ulo = PG_UINT64_MAX,
				uhi = 0;

	for (int i = 0; i < nelems; i++)
	{
		uint64		lo,
					hi;

		if (nulls[i])
			continue;
		datetime_element_range(coltype, elemtype, elems[i], sk->sk_strategy, &lo, &hi,
							   recheck);
		if (lo > hi)
			continue;
		ulo = Min(ulo, lo);
		uhi = Max(uhi, hi);
	}
	if (ulo > uhi)
		return false;
	ranges_add(rl, ulo, uhi);
	return true;
}

/*
 * The code ranges of `k = ANY(array)` (one per non-null element, sorted and
 * merged), or for an inequality with ANY the one range it reduces to (k <
 * ANY(a) is k < max(a), k > ANY(a) is k > min(a)).  False if no element
 * can match (empty array, all NULL).  Elements of another datetime type
 * than the column are converted exactly (or as a hull: *recheck).
 */
static bool
array_key_ranges(ScanKey sk, Oid coltype, Oid elemtype, RangeList *rl, bool *recheck)
{
	ArrayType  *arr = DatumGetArrayTypeP(sk->sk_argument);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint64		minlo = PG_UINT64_MAX,
				maxhi = 0;
	bool		any = false;

	bool		cross = (elemtype != coltype && learned_is_datetime_type(coltype) &&
						 learned_is_datetime_type(elemtype));

	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign,
					  &elems, &nulls, &nelems);
	if (cross && sk->sk_strategy != BTEqualStrategyNumber)
		return array_inequality_hull(sk, coltype, elemtype, elems, nulls, nelems, rl,
									 recheck);
	for (int i = 0; i < nelems; i++)
	{
		uint64		vlo,
					vhi;

		if (nulls[i])
			continue;
		if (cross)
		{
			datetime_element_range(coltype, elemtype, elems[i], BTEqualStrategyNumber,
								   &vlo, &vhi, recheck);
			if (vlo > vhi)
				continue;		/* no value of the column equals it */
		}
		else
			learned_encode_bounds(elemtype, elems[i], &vlo, &vhi);
		any = true;
		minlo = Min(minlo, vlo);
		maxhi = Max(maxhi, vhi);
		if (sk->sk_strategy == BTEqualStrategyNumber)
			ranges_add(rl, vlo, vhi);
	}
	if (!any)
		return false;
	if (cross)
	{
		ranges_normalize(rl);
		return rl->n > 0;
	}
	switch (sk->sk_strategy)
	{
		case BTEqualStrategyNumber:
			ranges_normalize(rl);
			break;
		case BTLessStrategyNumber:
			if (maxhi == 0)
				return false;
			ranges_add(rl, 0, maxhi - 1);	/* k < max: below its upper code */
			break;
		case BTLessEqualStrategyNumber:
			ranges_add(rl, 0, maxhi);
			break;
		case BTGreaterEqualStrategyNumber:
			ranges_add(rl, minlo, PG_UINT64_MAX);
			break;
		case BTGreaterStrategyNumber:
			if (minlo == PG_UINT64_MAX)
				return false;
			ranges_add(rl, minlo + 1, PG_UINT64_MAX);
			break;
		default:
			elog(ERROR, "learned index: unexpected strategy %d", sk->sk_strategy);
	}
	return true;
}

/*
 * The code range of one ordinary scan key, intersected into [*lo, *hi];
 * false if the key can match nothing.
 */
static bool
scalar_key_range(ScanKey sk, Oid argtype, uint64 *lo, uint64 *hi)
{
	uint64		vlo,
				vhi;

	learned_encode_bounds(argtype, sk->sk_argument, &vlo, &vhi);
	switch (sk->sk_strategy)
	{
		case BTLessStrategyNumber:
			if (vlo == 0)
				return false;
			*hi = Min(*hi, vlo - 1);
			break;
		case BTLessEqualStrategyNumber:
			*hi = Min(*hi, vhi);
			break;
		case BTEqualStrategyNumber:
			*lo = Max(*lo, vlo);
			*hi = Min(*hi, vhi);
			break;
		case BTGreaterEqualStrategyNumber:
			*lo = Max(*lo, vlo);
			break;
		case BTGreaterStrategyNumber:
			if (vhi == PG_UINT64_MAX)
				return false;
			*lo = Max(*lo, vhi + 1);
			break;
		default:
			elog(ERROR, "learned index: unexpected strategy %d", sk->sk_strategy);
	}
	return true;
}

/*
 * Keep the non-null ranges to visit, with the leaf groups that can hold
 * each (ranges no leaf can hold are dropped), in the key context.
 */
static void
store_ranges(Relation index, LearnedScanOpaque so, RangeList *set)
{
	int			k = 0;

	so->rlo = set->lo;
	so->rhi = set->hi;
	so->rgs = palloc(sizeof(int) * Max(set->n, 1));
	so->rge = palloc(sizeof(int) * Max(set->n, 1));
	if (so->want_nonnull)
		for (int i = 0; i < set->n; i++)
		{
			int			gs = learned_leaf_first(index, so->cache, set->lo[i]);
			int			ge = learned_leaf_last(index, so->cache, set->hi[i]);

			if (gs > ge)
				continue;
			so->rlo[k] = set->lo[i];
			so->rhi[k] = set->hi[i];
			so->rgs[k] = gs;
			so->rge[k] = ge;
			k++;
		}
	so->nranges = k;
	if (k == 0)
		so->want_nonnull = false;
}

/* the single range [lo, hi] of a scan without array keys, kept inline */
static void
store_one_range(Relation index, LearnedScanOpaque so, uint64 lo, uint64 hi)
{
	so->nranges = 0;
	so->rlo = &so->one_lo;
	so->rhi = &so->one_hi;
	so->rgs = &so->one_gs;
	so->rge = &so->one_ge;
	if (so->want_nonnull && lo <= hi)
	{
		so->one_lo = lo;
		so->one_hi = hi;
		so->one_gs = learned_leaf_first(index, so->cache, lo);
		so->one_ge = learned_leaf_last(index, so->cache, hi);
		if (so->one_gs <= so->one_ge)
			so->nranges = 1;
	}
	if (so->nranges == 0)
		so->want_nonnull = false;
}

/*
 * Reduce the scan keys to the NULL flags and the sorted list of non-null
 * code ranges to visit (one, or one per element of `= ANY(array)` keys),
 * each with the leaf groups that can hold it.
 */
static void
learned_prepare_keys(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Oid			opcintype = scan->indexRelation->rd_opcintype[0];
	uint64		lo = 0,
				hi = PG_UINT64_MAX;
	bool		empty = false;
	RangeList	set = {0, 0, NULL, NULL};
	bool		have_set = false;
	MemoryContext old;

	if (so->keys_in_cxt)
		MemoryContextReset(so->keycxt);
	so->keys_in_cxt = false;
	old = MemoryContextSwitchTo(so->keycxt);
	so->want_nonnull = true;
	so->want_null = true;
	for (int i = 0; i < scan->numberOfKeys && !empty; i++)
	{
		ScanKey		sk = &scan->keyData[i];
		Oid			argtype = OidIsValid(sk->sk_subtype) ? sk->sk_subtype : opcintype;

		if (sk->sk_flags & SK_ISNULL)
		{
			if (sk->sk_flags & SK_SEARCHNULL)
				so->want_nonnull = false;
			else if (sk->sk_flags & SK_SEARCHNOTNULL)
				so->want_null = false;
			else
				empty = true;	/* comparison with NULL is never true */
			continue;
		}
		/* every ordinary comparison excludes NULLs */
		so->want_null = false;
		if (sk->sk_flags & SK_SEARCHARRAY)
		{
			RangeList	rl = {0, 0, NULL, NULL};

			bool		recheck = false;

			so->keys_in_cxt = true;
			if (!array_key_ranges(sk, opcintype, argtype, &rl, &recheck))
				empty = true;
			else if (!have_set)
				set = rl;
			else
				ranges_intersect(&set, &rl);
			if (recheck)
				so->dt_recheck = true;
			have_set = true;
		}
		else if (!scalar_key_range(sk, argtype, &lo, &hi))
			empty = true;
	}
	if (empty)
		so->want_null = so->want_nonnull = false;
	if (!have_set)
		store_one_range(scan->indexRelation, so, lo, hi);
	else
	{
		RangeList	base = {0, 0, NULL, NULL};

		ranges_add(&base, lo, hi);
		ranges_intersect(&set, &base);
		if (set.n == 0)
			so->want_nonnull = false;
		store_ranges(scan->indexRelation, so, &set);
	}
	MemoryContextSwitchTo(old);
	so->qual_ok = so->want_nonnull || so->want_null;
}

/*
 * Whether the non-null index tuples this scan returns hold one 8-byte
 * integer datum by value (int8, timestamp, timestamptz: the key's code ^
 * 2^63, li_decode_int64), so that they can be li_itup records (t_info
 * their size)
 */
static bool
int64_itups(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	LearnedKeyKind kind = (LearnedKeyKind) so->cache->meta.keykind;
	Form_pg_attribute att = TupleDescAttr(scan->xs_itupdesc, 0);

	StaticAssertStmt(MAXALIGN(sizeof(IndexTupleData)) + sizeof(int64) == LI_ITUP_INFO &&
					 offsetof(li_itup, datum) == MAXALIGN(sizeof(IndexTupleData)) &&
					 LI_ITUP_INFO <= INDEX_SIZE_MASK,
					 "li_itup is an IndexTuple of one 8-byte datum");
	return att->attbyval && att->attlen == sizeof(int64) &&
		(kind == LEARNED_KEY_INT8 || kind == LEARNED_KEY_TIMESTAMP ||
		 kind == LEARNED_KEY_TIMESTAMPTZ);
}

/* amrescan: reduce the scan keys to the key ranges and leaf groups to visit */
void
learned_rescan(IndexScanDesc scan, ScanKey scankey, int nscankeys,
			   ScanKey orderbys, int norderbys)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	if (scankey && scan->numberOfKeys > 0)
		memmove(scan->keyData, scankey, scan->numberOfKeys * sizeof(ScanKeyData));
	pos_reset(&so->pos);
	pos_reset(&so->mark);
	so->have_mark = false;
	learned_prepare_keys(scan);
	/* (dt_recheck is final now: learned_dt_rescan calls this last) */
	so->itup_fast = scan->xs_want_itup && !so->dt_recheck && int64_itups(scan);
	pgstat_count_index_scan(scan->indexRelation);
}

/* list the NULL pages once per scan */
static void
list_null_pages(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	LearnedMetaPageData meta;
	BlockNumber blk;
	int			cap = 16;

	if (so->nnullpages >= 0)
		return;
	learned_read_meta(index, &meta);
	so->nullpages = MemoryContextAlloc(GetMemoryChunkContext(so), sizeof(BlockNumber) * cap);
	so->nnullpages = 0;
	blk = meta.null_head;
	while (blk != InvalidBlockNumber)
	{
		if (so->nnullpages >= cap)
		{
			cap *= 2;
			so->nullpages = repalloc(so->nullpages, sizeof(BlockNumber) * cap);
		}
		so->nullpages[so->nnullpages++] = blk;
		blk = learned_chain_next(index, blk, LEARNED_PAGE_NULL,
								 so->cache->meta.generation, NULL);
	}
}

/* load the NULL page i as the current group */
static void
load_null_group(IndexScanDesc scan, int i)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	BlockNumber blk = so->nullpages[i];
	Buffer		buf = ReadBuffer(index, blk);
	Page		page;
	LearnedPageOpaque op;
	ItemPointerData *tids;
	int			n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, blk, LEARNED_PAGE_NULL, so->cache->meta.generation);
	op = LearnedPageGetOpaque(page);
	tids = LearnedNullTids(page);
	if (so->pos.itemcap < op->nitems)
	{
		int			cap = Max(op->nitems, 64);

		if (so->pos.items)
			pfree(so->pos.items);
		so->pos.items = MemoryContextAlloc(GetMemoryChunkContext(so), sizeof(li_item) * cap);
		so->pos.itemcap = cap;
	}
	for (int k = 0; k < op->nitems; k++)
	{
		if (!ItemPointerIsValid(&tids[k]))
			continue;
		learned_item_set(&so->pos.items[n], 0, &tids[k]);
		so->pos.items[n].isnull = 1;
		n++;
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	so->pos.buf = buf;
	so->pos.nitems = n;
}

/*
 * Make group g of range r current (releasing the previous pin).  Groups
 * are numbered [0, nleaf) for leaves (read with range r's bounds) and
 * nleaf + i for NULL page i (range r == nranges).  With keep_pin (amgettuple),
 * a leaf without tail entries or delta pages is read lazily, a chunk at a
 * time, starting in direction forward (learned_scan_group).
 */
static void
load_group(IndexScanDesc scan, int r, int g, bool keep_pin, bool forward)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int			nleaf = so->cache->meta.nleaf;

	if (BufferIsValid(so->pos.buf))
		ReleaseBuffer(so->pos.buf);
	so->pos.buf = InvalidBuffer;
	so->pos.range = r;
	so->pos.group = g;
	so->pos.lazy = false;
	so->pos.itups = false;		/* (NULL pages hold li_item records) */
	if (g < nleaf)
	{
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(so));

		if (keep_pin)
		{
			so->pos.lz.itups = so->itup_fast;
			so->pos.nitems = learned_scan_group(scan->indexRelation, so->cache, g,
												so->rlo[r], so->rhi[r], forward,
												&so->pos.items, &so->pos.itemcap,
												&so->pos.buf, &so->pos.lz,
												&so->pos.lazy);
			so->pos.itups = so->pos.lazy && so->itup_fast;
		}
		else
			so->pos.nitems = learned_collect_group(scan->indexRelation, so->cache, g,
												   so->rlo[r], so->rhi[r], true,
												   &so->pos.items, &so->pos.itemcap,
												   NULL, NULL);
		MemoryContextSwitchTo(old);
	}
	else
	{
		load_null_group(scan, g - nleaf);
		if (!keep_pin)
		{
			ReleaseBuffer(so->pos.buf);
			so->pos.buf = InvalidBuffer;
		}
	}
}

/* the first NULL group in direction dir (range nranges), or false */
static bool
first_null_group(LearnedScanOpaque so, bool forward, int *r, int *g)
{
	int			nleaf = so->cache->meta.nleaf;

	if (!so->want_null || so->nnullpages <= 0)
		return false;
	*r = so->nranges;
	*g = forward ? nleaf : nleaf + so->nnullpages - 1;
	return true;
}

/* the first leaf group of range r in direction dir */
static bool
range_start(LearnedScanOpaque so, int r, bool forward, int *pr, int *g)
{
	if (!so->want_nonnull || r < 0 || r >= so->nranges)
		return false;
	*pr = r;
	*g = forward ? so->rgs[r] : so->rge[r];
	return true;
}

/*
 * Step (*r, *g) to the next group in key direction dir: leaf groups of
 * each range in key order, and the NULL pages after the highest key
 * (so->nulls_high) or before the lowest.  (-1, -1) is "before the first
 * group".  Returns false at the end.  Every step has its exact reverse,
 * so a scan that changes direction goes back over the same groups.
 */
static bool
next_group(IndexScanDesc scan, int *r, int *g, ScanDirection dir)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int			nleaf = so->cache->meta.nleaf;
	bool		forward = ScanDirectionIsForward(dir);
	int			step = forward ? 1 : -1;
	int			edge = forward ? 0 : so->nranges - 1;	/* first range this way */
	/* the NULL pages come before the key ranges in this direction */
	bool		nulls_before = forward != so->nulls_high;

	if (so->want_null)
		list_null_pages(scan);
	if (*r == -1)
		return nulls_before ?
			first_null_group(so, forward, r, g) || range_start(so, edge, forward, r, g) :
			range_start(so, edge, forward, r, g) || first_null_group(so, forward, r, g);
	if (*r == so->nranges)
	{
		if (forward ? *g + 1 < nleaf + so->nnullpages : *g > nleaf)
		{
			*g += step;
			return true;
		}
		return nulls_before && range_start(so, edge, forward, r, g);
	}
	if (forward ? *g < so->rge[*r] : *g > so->rgs[*r])
	{
		*g += step;
		return true;
	}
	return range_start(so, *r + step, forward, r, g) ||
		(!nulls_before && first_null_group(so, forward, r, g));
}

/*
 * Form the index tuple that index-only scans return for every non-null
 * (or every NULL) entry, once per scan: every key type is fixed-width and
 * by value, so set_result only overwrites its datum (no palloc per row).
 */
static pg_noinline IndexTuple
form_itup(IndexScanDesc scan, bool isnull)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Form_pg_attribute att = TupleDescAttr(scan->xs_itupdesc, 0);
	MemoryContext old = MemoryContextSwitchTo(so->tmpcxt);
	Datum		value = (Datum) 0;
	IndexTuple	itup = index_form_tuple(scan->xs_itupdesc, &value, &isnull);

	MemoryContextSwitchTo(old);
	if (isnull)
		so->itup_null = itup;
	else
	{
		Assert(att->attbyval && att->attlen > 0);
		so->itup = itup;
		so->itup_data = (char *) itup + IndexInfoFindDataOffset(itup->t_info);
		so->itup_attlen = att->attlen;
		so->itup_int64 = int64_itups(scan);
	}
	return itup;
}

/*
 * set_result's index tuple for a NULL item, the first item of the scan,
 * and keys other than 8-byte integers (out of line: the common case stays
 * small enough to inline into amgettuple)
 */
static pg_noinline void
set_result_itup(IndexScanDesc scan, const li_item *it)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	if (it->isnull == 1)
	{
		scan->xs_itup = so->itup_null ? so->itup_null : form_itup(scan, true);
		return;
	}
	scan->xs_itup = so->itup ? so->itup : form_itup(scan, false);
	store_att_byval(so->itup_data,
					learned_decode((LearnedKeyKind) so->cache->meta.keykind, it->key),
					so->itup_attlen);
}

/*
 * return item i of the current group: heap TID and, for index-only scans,
 * the index tuple
 */
static pg_attribute_always_inline void
set_result(IndexScanDesc scan, LearnedScanOpaque so, int i)
{
	const li_item *it = &so->pos.items[i];

	if (likely(so->pos.itups))
	{
		/*
		 * an index tuple decoded in place (li_itup, itup_fast: no recheck),
		 * returned as it is; valid until the next call, as btree's
		 */
		li_itup    *t = (li_itup *) unconstify(li_item *, it);

		memcpy(&scan->xs_heaptid, t->tid, sizeof(ItemPointerData));
		scan->xs_recheck = false;
		scan->xs_itup = (IndexTuple) t;
		return;
	}
	learned_item_tid(it, &scan->xs_heaptid);
	/* inexact datetime keys (learned_datetime.c): the executor rechecks */
	scan->xs_recheck = so->dt_recheck;
	if (!scan->xs_want_itup)
		return;
	if (likely(so->itup_int64 && it->isnull == 0))
	{
		/* the common 8-byte integer keys: decoded inline, no switch */
		int64		v = li_decode_int64(it->key);

		memcpy(so->itup_data, &v, sizeof(v));
		scan->xs_itup = so->itup;
		return;
	}
	set_result_itup(scan, it);
}

/*
 * Replace the items of the current lazy leaf by its next chunk in
 * direction forward, positioned before its first item that way; false if
 * the range has no more entries in this leaf that way.
 */
static bool
next_chunk(IndexScanDesc scan, bool forward)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(so));
	int			n = learned_lazy_chunk(scan->indexRelation, so->cache, so->pos.group,
									   so->pos.buf, so->rhi[so->pos.range], forward,
									   &so->pos.lz, &so->pos.items, &so->pos.itemcap);

	MemoryContextSwitchTo(old);
	if (n < 0)
		return false;
	so->pos.nitems = n;
	so->pos.cur = forward ? -1 : n;
	return true;
}

/*
 * Make the next group in direction dir current, positioned before its
 * first item that way; false at the end of the scan, positioned past the
 * end (cur beyond the items) so that a change of direction continues from
 * there.
 */
static bool
advance_group(IndexScanDesc scan, ScanDirection dir)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	bool		forward = ScanDirectionIsForward(dir);
	int			r = so->pos.range;
	int			g = so->pos.group;

	if (!next_group(scan, &r, &g, dir))
	{
		if (so->pos.group >= 0)
			so->pos.cur = forward ? so->pos.nitems : -1;
		return false;
	}
	load_group(scan, r, g, true, forward);
	so->pos.cur = forward ? -1 : so->pos.nitems;
	return true;
}

/*
 * amgettuple past the current group's items: the next chunk of a lazy
 * leaf, or the next group that has items (out of line, so that the
 * common case of learned_gettuple stays a short function).
 */
static pg_noinline bool
gettuple_step(IndexScanDesc scan, ScanDirection dir)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	bool		forward = ScanDirectionIsForward(dir);

	if (!so->qual_ok)
		return false;

	for (;;)
	{
		if (so->pos.group >= 0)
		{
			int			next = so->pos.cur + (forward ? 1 : -1);

			if (next >= 0 && next < so->pos.nitems)
			{
				so->pos.cur = next;
				set_result(scan, so, next);
				return true;
			}
		}

		/* the next chunk of a lazy leaf, else the next group */
		if (!(so->pos.group >= 0 && so->pos.lazy && next_chunk(scan, forward)) &&
			!advance_group(scan, dir))
			return false;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * amgettuple: the next entry in the scan direction (the index's declared
 * order; the position and everything below work in key order)
 */
bool
learned_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int			next;

	/* the index's order is the keys' (dir +1 / -1), or DESC's reverse */
	StaticAssertStmt(ForwardScanDirection == 1 && BackwardScanDirection == -1,
					 "scan directions are +1 and -1");
	Assert(ScanDirectionIsForward(dir) || ScanDirectionIsBackward(dir));
	if (so->desc)
		dir = (ScanDirection) -(int) dir;
	next = so->pos.cur + (int) dir;

	/*
	 * the common case: the next item of the current group (no group has no
	 * items: pos_reset)
	 */
	if ((unsigned) next < (unsigned) so->pos.nitems)
	{
		Assert(so->pos.group >= 0);
		so->pos.cur = next;
		set_result(scan, so, next);
		return true;
	}
	return gettuple_step(scan, dir);
}

/* amgetbitmap: every matching TID into the bitmap */
int64
learned_getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int64		ntids = 0;
	int			r = -1;
	int			g = -1;
	ItemPointerData *tids = NULL;
	int			tidcap = 0;

	if (!so->qual_ok)
		return 0;

	while (next_group(scan, &r, &g, ForwardScanDirection))
	{
		load_group(scan, r, g, false, true);
		if (so->pos.nitems > tidcap)
		{
			tidcap = Max(so->pos.nitems, 64);
			if (tids)
				pfree(tids);
			tids = palloc(sizeof(ItemPointerData) * tidcap);
		}
		for (int i = 0; i < so->pos.nitems; i++)
			learned_item_tid(&so->pos.items[i], &tids[i]);
		/* inexact datetime keys (learned_datetime.c): the executor rechecks */
		tbm_add_tuples(tbm, tids, so->pos.nitems, so->dt_recheck);
		ntids += so->pos.nitems;
		CHECK_FOR_INTERRUPTS();
	}
	pos_reset(&so->pos);
	if (tids)
		pfree(tids);
	return ntids;
}

/* amendscan: release pins, the generation lock and the model */
void
learned_endscan(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	pos_reset(&so->pos);
	pos_reset(&so->mark);
	learned_reader_end(scan->indexRelation, so->cache->meta.generation);
	learned_cache_release(so->cache);
	so->cache = NULL;
	MemoryContextDelete(so->tmpcxt);
	MemoryContextDelete(so->keycxt);
	if (so->pos.items)
		pfree(so->pos.items);
	if (so->mark.items)
		pfree(so->mark.items);
	if (so->nullpages)
		pfree(so->nullpages);
	pfree(so);
	scan->opaque = NULL;
}

/* copy a scan position (mark/restore), with its own pin */
static void
pos_copy(LearnedScanPos *dst, const LearnedScanPos *src, MemoryContext cxt)
{
	if (BufferIsValid(dst->buf))
		ReleaseBuffer(dst->buf);
	dst->buf = InvalidBuffer;
	if (dst->itemcap < src->nitems)
	{
		int			cap = Max(src->nitems, 64);

		if (dst->items)
			pfree(dst->items);
		dst->items = MemoryContextAlloc(cxt, sizeof(li_item) * cap);
		dst->itemcap = cap;
	}
	if (src->nitems > 0)
		memcpy(dst->items, src->items, sizeof(li_item) * src->nitems);
	dst->nitems = src->nitems;
	dst->range = src->range;
	dst->group = src->group;
	dst->cur = src->cur;
	dst->lazy = src->lazy;
	dst->itups = src->itups;
	dst->lz = src->lz;
	if (BufferIsValid(src->buf))
	{
		IncrBufferRefCount(src->buf);
		dst->buf = src->buf;
	}
}

/* ammarkpos: remember the current position */
void
learned_markpos(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	pos_copy(&so->mark, &so->pos, GetMemoryChunkContext(so));
	so->have_mark = true;
}

/* amrestrpos: go back to the marked position */
void
learned_restrpos(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	if (!so->have_mark)
	{
		pos_reset(&so->pos);
		return;
	}
	pos_copy(&so->pos, &so->mark, GetMemoryChunkContext(so));
}
