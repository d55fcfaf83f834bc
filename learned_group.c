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
	Buffer		buf;
	Page		page;
	LearnedPageOpaque opaque;
	li_cleaf_view v;
	LearnedEntries tail;
	int			n,
				i,
				count = 0,
				nbase;
	BlockNumber next;
	BlockNumber blkno = c->blknos[group];

	buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	page = BufferGetPage(buf);
	learned_prefetch_leaf_start(page);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	learned_check_page(index, page, blkno, LEARNED_PAGE_LEAF, c->meta.generation);
	opaque = LearnedPageGetOpaque(page);
	learned_leaf_view(page, &v);
	learned_page_entries(page, &tail);
	n = (int) v.n;

	/* sorted entries from the build: windowed search from the model */
	if (lo == 0 || n == 0)
		i = 0;
	else if (use_model)
	{
		int64		wlo,
					whi;

		learned_model_window(index, c, group, lo, &wlo, &whi);
		li_cleaf_prefetch_window(&v, wlo, whi);
		i = (int) li_cleaf_lower_bound(&v, lo, wlo, whi, NULL);
	}
	else
		i = (int) li_cleaf_lower_bound_in(&v, lo, 0, v.n);

	/* decode in order, a chunk at a time, until a key passes hi */
	while (i < n)
	{
		uint64		kbuf[LI_CLEAF_GROUP];
		ItemPointerData tbuf[LI_CLEAF_GROUP];
		int			want = Min(n - i, LI_CLEAF_GROUP);
		int			got = (int) li_cleaf_decode_run(&v, (uint32) i, (uint32) (i + want),
													hi, kbuf, (uint16 *) tbuf);

		items_reserve(items, itemcap, count + got);
		for (int j = 0; j < got; j++)
			if (ItemPointerIsValid(&tbuf[j]))
				learned_item_set(&(*items)[count++], kbuf[j], &tbuf[j]);
		i += got;
		if (got < want)
			break;
	}
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

	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (keep_pin)
		*keep_pin = buf;
	else
		ReleaseBuffer(buf);
	return count;
}
