/*
 * learned_group.c -- finding the leaf group(s) of a key with the model and
 * the separators, and reading a leaf group (the leaf page and its delta
 * chain) into a sorted item array: shared by scans, vacuum and retrain.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

/* ------------------------------------------------------------------
 * Finding leaf groups
 * ------------------------------------------------------------------ */

/*
 * Build the cache entry's segment index once it has made enough
 * predictions to pay for it (a build touches every segment once: about
 * nseg / 8 lookups' worth of binary searches), so a connection that looks
 * up a few keys never builds it.  Out of memory is not an error: lookups
 * go on through li_find_segment, which gives the same answers.
 */
static void
maybe_build_segidx(Relation index, LearnedCache *c)
{
	uint32		nseg = c->meta.nsegments;
	size_t		bytes;
	char	   *buf;

	if (c->segidx_buf || c->segidx_failed || nseg < 2 ||
		++c->lookups < Max(64, nseg / 8))
		return;
	learned_cache_load_all(index, c);
	bytes = li_segidx_bytes(nseg);
	buf = MemoryContextAllocExtended(c->cxt, bytes + 8,
									 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
		return;
	if (li_segidx_build(c->segs, nseg, buf, bytes + 8, &c->segidx) != LI_OK)
	{
		/* first keys not increasing: the checker reports it; keep searching */
		pfree(buf);
		c->segidx_failed = true;
		return;
	}
	c->segidx_buf = buf;
}

/*
 * The model's prediction for key (the same as li_predict's), through the
 * segment index once built, else learned_cache_predict (segments loaded on
 * demand); the last key's prediction is remembered, as choosing the leaf
 * and the window inside it predict the same key.
 */
static double
cache_predict(Relation index, LearnedCache *c, uint64 key)
{
	double		pred;

	if (c->has_last && c->last_key == key)
		return c->last_pred;
	maybe_build_segidx(index, c);
	if (c->segidx_buf)
	{
		pred = li_segidx_predict(&c->segidx, c->segs, c->meta.nkeys, key);
		/* the index must find li_find_segment's segment (assert builds) */
		Assert(pred == li_predict(c->segs, c->meta.nsegments, c->meta.nkeys, key));
	}
	else
		pred = learned_cache_predict(index, c, key);
	c->last_key = key;
	c->last_pred = pred;
	c->has_last = true;
	return pred;
}

/*
 * The leaf the model predicts for key: the last leaf whose first position
 * is <= the predicted position.  Leaves hold similar numbers of entries,
 * so the search starts at pos * nleaf / nkeys and gallops from there (a
 * few cache misses instead of a binary search over every leaf's start).
 */
static int
predicted_leaf(Relation index, LearnedCache *c, uint64 key)
{
	double		pred = cache_predict(index, c, key);
	uint64		pos = (pred <= 0) ? 0 : (uint64) pred;
	int			n = c->meta.nleaf;
	int			lo,
				hi,
				step = 1;

	if (n <= 1)
		return 0;
	/* invariant below: starts[lo] <= pos < starts[hi] (starts[n] = inf) */
	lo = (c->meta.nkeys > 0 && pos < c->meta.nkeys) ?
		(int) ((double) pos * n / (double) c->meta.nkeys) : n - 1;
	lo = Min(Max(lo, 0), n - 1);
	if (c->starts[lo] <= pos)
	{
		while (lo + step < n && c->starts[lo + step] <= pos)
		{
			lo += step;
			step *= 2;
		}
		hi = Min(lo + step, n);
	}
	else
	{
		hi = lo;
		while (hi - step > 0 && c->starts[hi - step] > pos)
		{
			hi -= step;
			step *= 2;
		}
		lo = Max(hi - step, 0);	/* starts[0] == 0 <= pos */
	}
	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->starts[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* last leaf p with seps[p] <= key (seps[0] is 0, so there is one) */
static int
last_leaf_le(LearnedCache *c, uint64 key, int hint)
{
	int			n = c->meta.nleaf;
	int			p = hint;
	int			steps;
	int			lo,
				hi;

	for (steps = 0; steps < 4; steps++)
	{
		if (p > 0 && c->seps[p] > key)
			p--;
		else if (p + 1 < n && c->seps[p + 1] <= key)
			p++;
		else
			return p;
	}
	/* model far off (heavy duplicates across pages): binary search */
	lo = 0;
	hi = n;						/* answer in [lo, hi) */
	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->seps[mid] <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* first leaf p that can hold a key >= lo: p == last or seps[p+1] >= lo */
static int
first_leaf_ge(LearnedCache *c, uint64 key, int hint)
{
	int			n = c->meta.nleaf;
	int			p = hint;
	int			steps;
	int			lo,
				hi;

	for (steps = 0; steps < 4; steps++)
	{
		if (p + 1 < n && c->seps[p + 1] < key)
			p++;
		else if (p > 0 && c->seps[p] >= key)
			p--;
		else
			return p;
	}
	lo = 0;
	hi = n - 1;					/* smallest p in [lo, hi] with the property */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->seps[mid + 1] >= key)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* the leaf whose key range holds key (where an insert goes) */
int
learned_leaf_for_insert(Relation index, LearnedCache *c, uint64 key)
{
	return last_leaf_le(c, key, predicted_leaf(index, c, key));
}

/* the first leaf that can hold a key >= lo */
int
learned_leaf_first(Relation index, LearnedCache *c, uint64 lo)
{
	return first_leaf_ge(c, lo, predicted_leaf(index, c, lo));
}

/* the last leaf that can hold a key <= hi */
int
learned_leaf_last(Relation index, LearnedCache *c, uint64 hi)
{
	/* no upper bound (k >= x): the last leaf, without a prediction */
	if (hi == PG_UINT64_MAX)
		return Max((int) c->meta.nleaf - 1, 0);
	return last_leaf_le(c, hi, predicted_leaf(index, c, hi));
}

/* positions [wlo, whi] inside leaf `group` where key can be */
void
learned_model_window(Relation index, LearnedCache *c, int group, uint64 key,
					 int64 *wlo, int64 *whi)
{
	double		pred = cache_predict(index, c, key);
	double		off = pred - (double) c->starts[group];

	*wlo = (int64) floor(off - c->meta.radius);
	*whi = (int64) ceil(off + c->meta.radius) + 1;
}

/* ------------------------------------------------------------------
 * Reading a leaf group: the leaf page and its delta chain
 * ------------------------------------------------------------------ */

/* grow an item array to hold at least `need` items */
static inline void
items_reserve(li_item **items, int *cap, int need)
{
	if (need <= *cap)
		return;
	if (*cap == 0 || *items == NULL)
	{
		*cap = Max(need, 64);
		*items = palloc(sizeof(li_item) * *cap);
	}
	else
	{
		while (*cap < need)
			*cap *= 2;
		*items = repalloc(*items, sizeof(li_item) * *cap);
	}
}

/*
 * Start fetching the cache lines every read of a leaf needs first: the
 * page header, the block header, the tombstone bitmap and the key group
 * table and offsets (the first 384 bytes on most leaves), and the special
 * space, so that they arrive in one round instead of one after another.
 */
static inline void
learned_prefetch_leaf_start(Page page)
{
#if defined(__GNUC__)
	for (int off = 0; off < 384; off += 64)
		__builtin_prefetch((char *) page + off);
	__builtin_prefetch((char *) page + BLCKSZ - 64);
#else
	(void) page;
#endif
}

/*
 * Decode sorted positions [from, to) of a leaf in order, stopping at the
 * first key > hi, and append the live entries to *items at *count (with
 * itups as li_itup records, the same size).  Returns the positions decoded
 * (fewer than to - from: a key passed hi).
 */
static int
decode_sorted(const li_cleaf_view *v, int from, int to, uint64 hi, bool itups,
			  li_item **items, int *itemcap, int *count)
{
	uint32		nlive;
	int			got;

	if (from >= to)
		return 0;
	items_reserve(items, itemcap, *count + (to - from));
	StaticAssertStmt(sizeof(li_itup) == sizeof(li_item), "16-byte records");
	if (itups)
		got = (int) li_cleaf_decode_itups(v, (uint32) from, (uint32) to, hi,
										  (li_itup *) (*items + *count), &nlive);
	else
		got = (int) li_cleaf_decode_items(v, (uint32) from, (uint32) to, hi,
										  *items + *count, &nlive);
	*count += (int) nlive;
	return got;
}

/*
 * The first sorted position of a leaf with a key >= key: through the
 * model's window with use_model (exact either way), else a binary search.
 */
static int
leaf_lower_bound(Relation index, LearnedCache *c, int group,
				 const li_cleaf_view *v, uint64 key, bool use_model)
{
	int64		wlo,
				whi;

	if (key == 0 || v->n == 0)
		return 0;
	if (!use_model)
		return (int) li_cleaf_lower_bound_in(v, key, 0, v->n);
	learned_model_window(index, c, group, key, &wlo, &whi);
	li_cleaf_prefetch_window(v, wlo, whi);
	return (int) li_cleaf_lower_bound(v, key, wlo, whi, NULL);
}

/*
 * Collect the live entries with lo <= key <= hi of a share-locked, checked
 * leaf page and its delta chain into *items, in key order; returns the
 * count.
 */
static int
collect_locked(Relation index, LearnedCache *c, int group, Page page,
			   uint64 lo, uint64 hi, bool use_model, li_item **items,
			   int *itemcap, BufferAccessStrategy strategy)
{
	LearnedPageOpaque opaque = LearnedPageGetOpaque(page);
	li_cleaf_view v;
	LearnedEntries tail;
	int			n,
				i,
				count = 0,
				nbase;
	BlockNumber next;

	learned_leaf_view(page, &v);
	learned_page_entries(page, &tail);
	n = (int) v.n;

	/* sorted entries from the build: windowed search from the model */
	i = leaf_lower_bound(index, c, group, &v, lo, use_model);
	decode_sorted(&v, i, n, hi, false, items, itemcap, &count);
	nbase = count;

	/* the unsorted tail of entries appended since */
	items_reserve(items, itemcap, count + (opaque->nitems - n));
	for (i = 0; i < opaque->nitems - n; i++)
	{
		if (tail.keys[i] < lo || tail.keys[i] > hi || !ItemPointerIsValid(&tail.tids[i]))
			continue;
		learned_item_set(&(*items)[count++], tail.keys[i], &tail.tids[i]);
	}

	next = opaque->next;
	while (next != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBufferExtended(index, MAIN_FORKNUM, next,
											  RBM_NORMAL, strategy);
		Page		dpage;
		LearnedPageOpaque dop;
		uint64	   *dkeys;
		ItemPointerData *dtids;

		LockBuffer(dbuf, BUFFER_LOCK_SHARE);
		dpage = BufferGetPage(dbuf);
		learned_check_page(index, dpage, next, LEARNED_PAGE_DELTA, c->meta.generation);
		dop = LearnedPageGetOpaque(dpage);
		dkeys = LearnedPageKeys(dpage);
		dtids = LearnedPageTids(dpage);
		items_reserve(items, itemcap, count + dop->nitems);
		for (i = 0; i < dop->nitems; i++)
		{
			if (dkeys[i] < lo || dkeys[i] > hi || !ItemPointerIsValid(&dtids[i]))
				continue;
			learned_item_set(&(*items)[count++], dkeys[i], &dtids[i]);
		}
		next = dop->next;
		UnlockReleaseBuffer(dbuf);
	}

	if (count > nbase)
		li_sort_items(*items, count);
	return count;
}

/*
 * Collect the live entries of leaf group `group` with lo <= key <= hi, in
 * key order, into *items (allocated in the current memory context).
 * Returns the count.  With keep_pin, the leaf page stays pinned and its
 * buffer is returned there (the caller releases it); this is what makes
 * VACUUM's cleanup lock wait for scans still returning these entries.
 */
int
learned_collect_group(Relation index, LearnedCache *c, int group,
					  uint64 lo, uint64 hi, bool use_model,
					  li_item **items, int *itemcap,
					  Buffer *keep_pin, BufferAccessStrategy strategy)
{
	BlockNumber blkno = c->blknos[group];
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
										 strategy);
	Page		page = BufferGetPage(buf);
	int			count;

	learned_prefetch_leaf_start(page);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	learned_check_page(index, page, blkno, LEARNED_PAGE_LEAF, c->meta.generation);
	count = collect_locked(index, c, group, page, lo, hi, use_model, items, itemcap,
						   strategy);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (keep_pin)
		*keep_pin = buf;
	else
		ReleaseBuffer(buf);
	return count;
}

/* ------------------------------------------------------------------
 * Reading a leaf group lazily: chunks of its compressed block
 *
 * A scan that meets a leaf without tail entries or delta pages (the
 * common case after a build or retrain) does not decode the rest of the
 * leaf at once: it decodes LAZY_GROUPS groups of positions at a time,
 * in its direction, so that a range or a LIMIT that stops early decodes
 * little more than it returns.  Each chunk is decoded under a share lock
 * on the leaf, which the scan keeps pinned between chunks.  Under that pin
 * the compressed block does not change on a primary: tombstones need a
 * cleanup lock (VACUUM), inserts only append tail entries or delta pages
 * (entries the scan's snapshot cannot see: as if the whole group had been
 * read when the scan reached it), and the pages of the scan's generation
 * are not recycled while it runs (§7).  On a hot standby, replay takes no
 * cleanup lock: a chunk checks the page again when its LSN moved, as
 * replay's changes move it (a recycled page cancels the query, as for any
 * read), and a tombstone replayed between chunks only hides an entry, as
 * if the leaf had been read later.
 * ------------------------------------------------------------------ */

/*
 * The LSN a lazy leaf remembers at a check: 0 (check every chunk) for an
 * index that is not WAL-logged, whose pages change without a new LSN
 */
static inline XLogRecPtr
lazy_page_lsn(Relation index, Page page)
{
	return RelationNeedsWAL(index) ? PageGetLSN(page) : InvalidXLogRecPtr;
}

#define LAZY_GROUPS 2			/* groups of LI_CLEAF_GROUP positions per chunk */
#define LAZY_FIRST 16			/* positions of a leaf's first chunk */

/*
 * The next chunk forward: positions from lz->whi on, up to the end of
 * the LAZY_GROUPS-th group (the leaf's first chunk: LAZY_FIRST positions,
 * so that a LIMIT or a short range decodes little more than it returns)
 * and no further than the first key > hi; the live entries replace
 * *items.  Returns their count, or -1 if no position is left in the range
 * (the window is then unchanged).
 */
static int
lazy_forward(const li_cleaf_view *v, uint64 hi, LearnedLazyLeaf *lz,
			 li_item **items, int *itemcap)
{
	int			limit = (lz->end >= 0) ? lz->end : lz->n;
	int			from = lz->whi;
	int			to,
				got,
				count = 0;

	if (from >= limit)
		return -1;
	if (lz->wlo == lz->whi)
		to = Min(limit, from + LAZY_FIRST);
	else
		to = Min(limit, (from / LI_CLEAF_GROUP + LAZY_GROUPS) * LI_CLEAF_GROUP);
	got = decode_sorted(v, from, to, hi, lz->itups, items, itemcap, &count);
	if (got < to - from)
		lz->end = from + got;
	lz->wlo = from;
	lz->whi = from + got;
	return count;
}

/*
 * The next chunk backward: positions below lz->wlo, down to the start of
 * a group LAZY_GROUPS - 1 groups lower (the leaf's first chunk:
 * LAZY_FIRST positions) and no further than lz->first
 * (every key there is <= hi: they sort before a position inside the
 * range, or before lz->end).  Same contract as lazy_forward.
 */
static int
lazy_backward(const li_cleaf_view *v, uint64 hi, LearnedLazyLeaf *lz,
			  li_item **items, int *itemcap)
{
	int			to = lz->wlo;
	int			from,
				got,
				count = 0;

	if (to <= lz->first)
		return -1;
	if (lz->wlo == lz->whi)
		from = to - LAZY_FIRST;
	else
		from = ((to - 1) / LI_CLEAF_GROUP - (LAZY_GROUPS - 1)) * LI_CLEAF_GROUP;
	from = Max(lz->first, from);
	got = decode_sorted(v, from, to, hi, lz->itups, items, itemcap, &count);
	if (got < to - from)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("learned index leaf keys are not in order")));
	lz->wlo = from;
	lz->whi = to;
	return count;
}

/*
 * Open a lazy leaf: find the range's first position (and, backward, its
 * end) with the model, and decode the first chunk in the scan direction
 * into *items.  Returns the count of live entries in it.
 */
static int
lazy_open(Relation index, LearnedCache *c, int group, const li_cleaf_view *v,
		  uint64 lo, uint64 hi, bool forward, LearnedLazyLeaf *lz,
		  li_item **items, int *itemcap)
{
	int			count;

	lz->n = (int) v->n;
	lz->first = leaf_lower_bound(index, c, group, v, lo, true);
	lz->end = -1;
	if (!forward)
	{
		lz->end = (hi == PG_UINT64_MAX) ? lz->n :
			leaf_lower_bound(index, c, group, v, hi + 1, true);
		lz->end = Max(lz->end, lz->first);
	}
	lz->wlo = lz->whi = forward ? lz->first : lz->end;
	count = forward ? lazy_forward(v, hi, lz, items, itemcap) :
		lazy_backward(v, hi, lz, items, itemcap);
	return Max(count, 0);
}

/*
 * A scan reaches leaf group `group` with the range [lo, hi], in direction
 * forward: the leaf stays pinned (*pin, released by the caller).  A leaf
 * without tail entries or delta pages is opened lazily (*lazy, state in
 * *lz; learned_lazy_chunk reads the next chunks) and its first chunk is
 * in *items (li_itup records if the caller set lz->itups); any other
 * group is collected whole, as learned_collect_group does (li_item
 * records).  Returns the number of items.
 */
int
learned_scan_group(Relation index, LearnedCache *c, int group,
				   uint64 lo, uint64 hi, bool forward,
				   li_item **items, int *itemcap, Buffer *pin,
				   LearnedLazyLeaf *lz, bool *lazy)
{
	BlockNumber blkno = c->blknos[group];
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque opaque;
	li_cleaf_view v;
	int			count;

	learned_prefetch_leaf_start(page);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	learned_check_page(index, page, blkno, LEARNED_PAGE_LEAF, c->meta.generation);
	opaque = LearnedPageGetOpaque(page);
	learned_leaf_view(page, &v);
	*lazy = (opaque->nitems == v.n && opaque->next == InvalidBlockNumber);
	if (*lazy)
	{
		count = lazy_open(index, c, group, &v, lo, hi, forward, lz, items, itemcap);
		lz->view = v;
		lz->lsn = lazy_page_lsn(index, page);
	}
	else
		count = collect_locked(index, c, group, page, lo, hi, true, items, itemcap,
							   NULL);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	*pin = buf;
	return count;
}

/*
 * The next chunk of a lazy leaf in direction forward, read from its pinned
 * buffer under a share lock (the page checked again if its LSN moved: on a
 * hot standby it may have been recycled).  Its live entries replace
 * *items; returns their count, or -1 when the range has no more positions
 * in that direction.
 */
int
learned_lazy_chunk(Relation index, LearnedCache *c, int group, Buffer buf,
				   uint64 hi, bool forward, LearnedLazyLeaf *lz,
				   li_item **items, int *itemcap)
{
	Page		page = BufferGetPage(buf);
	int			count;

	LockBuffer(buf, BUFFER_LOCK_SHARE);

	/*
	 * Every change to a WAL-logged page sets its LSN (on a standby too, by
	 * replay): the same LSN as at the last check is the same block, whose
	 * view still holds.  Else (or unlogged: LSN 0) check it again.
	 */
	if (lz->lsn == InvalidXLogRecPtr || PageGetLSN(page) != lz->lsn)
	{
		learned_check_page(index, page, c->blknos[group], LEARNED_PAGE_LEAF,
						   c->meta.generation);
		learned_leaf_view(page, &lz->view);
		if ((int) lz->view.n != lz->n)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("learned index \"%s\": leaf block %u changed under a scan",
							RelationGetRelationName(index), c->blknos[group]),
					 errdetail("%d sorted entries when the scan reached it, %u now.",
							   lz->n, lz->view.n)));
		lz->lsn = lazy_page_lsn(index, page);
	}
	count = forward ? lazy_forward(&lz->view, hi, lz, items, itemcap) :
		lazy_backward(&lz->view, hi, lz, items, itemcap);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return count;
}
