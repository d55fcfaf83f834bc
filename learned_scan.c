/*
 * learned_scan.c -- ambeginscan, amrescan, amgettuple, amgetbitmap,
 * amendscan, ammarkpos, amrestrpos, amcanreturn.
 *
 * Scan keys on the single column are reduced to one inclusive range
 * [lo, hi] of encoded keys plus two flags (want non-null, want null).  The
 * scan visits "groups" in key order: leaf groups (a leaf page and its delta
 * chain) gstart..gend, then the NULL pages.  A group is read under a share
 * lock into a sorted array of items and then returned one by one, forward
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
	pos->group = -1;
	pos->cur = -1;
	pos->nitems = 0;
}

/* ambeginscan: flush this backend's buffered entries, lock the generation, get the model */
IndexScanDesc
learned_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	LearnedScanOpaque so = palloc0(sizeof(LearnedScanOpaqueData));
	LearnedMetaPageData meta;

	/* this transaction's own buffered inserts must be visible to it */
	learned_flush_pending(index);
	learned_reader_begin(index, &meta);
	so->cache = learned_cache_acquire(index, &meta);
	so->pos.buf = InvalidBuffer;
	so->mark.buf = InvalidBuffer;
	pos_reset(&so->pos);
	pos_reset(&so->mark);
	so->nnullpages = -1;
	so->tmpcxt = AllocSetContextCreate(CurrentMemoryContext,
									   "learned_index scan tuples",
									   ALLOCSET_SMALL_SIZES);
	scan->opaque = so;
	scan->xs_itupdesc = RelationGetDescr(index);
	return scan;
}

/* reduce the scan keys to [lo, hi] and the null flags */
static void
learned_prepare_keys(IndexScanDesc scan)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	Oid			opcintype = scan->indexRelation->rd_opcintype[0];
	uint64		lo = 0,
				hi = PG_UINT64_MAX;
	bool		empty = false;

	so->want_nonnull = true;
	so->want_null = true;

	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		sk = &scan->keyData[i];
		uint64		vlo,
					vhi;

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
		learned_encode_bounds(OidIsValid(sk->sk_subtype) ? sk->sk_subtype : opcintype,
							  sk->sk_argument, &vlo, &vhi);
		switch (sk->sk_strategy)
		{
			case BTLessStrategyNumber:
				if (vlo == 0)
					empty = true;
				else
					hi = Min(hi, vlo - 1);
				break;
			case BTLessEqualStrategyNumber:
				hi = Min(hi, vhi);
				break;
			case BTEqualStrategyNumber:
				lo = Max(lo, vlo);
				hi = Min(hi, vhi);
				break;
			case BTGreaterEqualStrategyNumber:
				lo = Max(lo, vlo);
				break;
			case BTGreaterStrategyNumber:
				if (vhi == PG_UINT64_MAX)
					empty = true;
				else
					lo = Max(lo, vhi + 1);
				break;
			default:
				elog(ERROR, "learned index: unexpected strategy %d", sk->sk_strategy);
		}
	}

	if (empty)
	{
		so->want_nonnull = false;
		so->want_null = false;
	}
	if (lo > hi)
		so->want_nonnull = false;
	so->lo = lo;
	so->hi = hi;
	so->qual_ok = so->want_nonnull || so->want_null;
	if (so->want_nonnull)
	{
		so->gstart = learned_leaf_first(so->cache, lo);
		so->gend = learned_leaf_last(so->cache, hi);
		if (so->gstart > so->gend)
			so->want_nonnull = false;
	}
}

/* amrescan: reduce the scan keys to [lo, hi] and the leaf groups to visit */
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
 * Make group g current (releasing the previous pin).  Groups are numbered
 * [0, nleaf) for leaves and nleaf + i for NULL page i.
 */
static void
load_group(IndexScanDesc scan, int g, bool keep_pin)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int			nleaf = so->cache->meta.nleaf;

	if (BufferIsValid(so->pos.buf))
		ReleaseBuffer(so->pos.buf);
	so->pos.buf = InvalidBuffer;
	so->pos.group = g;
	if (g < nleaf)
	{
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(so));

		so->pos.nitems = learned_collect_group(scan->indexRelation, so->cache, g,
											   so->lo, so->hi, true,
											   &so->pos.items, &so->pos.itemcap,
											   keep_pin ? &so->pos.buf : NULL,
											   NULL);
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

/*
 * Next group after g in direction dir, or -2 when there is none.  g == -1
 * means "before the first group in this direction".
 */
static int
next_group(IndexScanDesc scan, int g, ScanDirection dir)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int			nleaf = so->cache->meta.nleaf;

	if (so->want_null)
		list_null_pages(scan);

	if (ScanDirectionIsForward(dir))
	{
		if (g == -1)
		{
			if (so->want_nonnull)
				return so->gstart;
			g = nleaf - 1;		/* fall through to the NULL pages */
		}
		else if (g < nleaf && g < so->gend)
			return g + 1;
		if (g < nleaf)
			return (so->want_null && so->nnullpages > 0) ? nleaf : -2;
		return (g + 1 < nleaf + so->nnullpages) ? g + 1 : -2;
	}
	else
	{
		if (g == -1)
		{
			if (so->want_null && so->nnullpages > 0)
				return nleaf + so->nnullpages - 1;
			return so->want_nonnull ? so->gend : -2;
		}
		if (g >= nleaf)
		{
			if (g > nleaf)
				return g - 1;
			return so->want_nonnull ? so->gend : -2;
		}
		if (so->want_nonnull && g > so->gstart)
			return g - 1;
		return -2;
	}
}

/* return item `it`: heap TID and, for index-only scans, the index tuple */
static void
set_result(IndexScanDesc scan, li_item *it)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;

	learned_item_tid(it, &scan->xs_heaptid);
	scan->xs_recheck = false;
	if (scan->xs_want_itup)
	{
		bool		isnull = (it->isnull == 1);
		Datum		value = isnull ? (Datum) 0 :
			learned_decode((LearnedKeyKind) so->cache->meta.keykind, it->key);

		/*
		 * Every key type is fixed-width and by value: form the tuple once per
		 * scan and overwrite its datum for each entry (no palloc per row).
		 */
		if (isnull)
		{
			if (so->itup_null == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(so->tmpcxt);

				so->itup_null = index_form_tuple(scan->xs_itupdesc, &value, &isnull);
				MemoryContextSwitchTo(old);
			}
			scan->xs_itup = so->itup_null;
		}
		else
		{
			Form_pg_attribute att = TupleDescAttr(scan->xs_itupdesc, 0);

			if (so->itup == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(so->tmpcxt);

				so->itup = index_form_tuple(scan->xs_itupdesc, &value, &isnull);
				MemoryContextSwitchTo(old);
				Assert(att->attbyval && att->attlen > 0);
			}
			store_att_byval((char *) so->itup + IndexInfoFindDataOffset(so->itup->t_info),
							value, att->attlen);
			scan->xs_itup = so->itup;
		}
	}
}

/* amgettuple: the next entry in the scan direction */
bool
learned_gettuple(IndexScanDesc scan, ScanDirection dir)
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
				set_result(scan, &so->pos.items[next]);
				return true;
			}
		}

		/* move to the next group that has items */
		{
			int			g = next_group(scan, so->pos.group, dir);

			if (g == -2)
			{
				/*
				 * Stay positioned past the end (cur beyond the items) so that a
				 * change of direction continues from here.
				 */
				if (so->pos.group >= 0)
					so->pos.cur = forward ? so->pos.nitems : -1;
				return false;
			}
			load_group(scan, g, true);
			so->pos.cur = forward ? -1 : so->pos.nitems;
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* amgetbitmap: every matching TID into the bitmap */
int64
learned_getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	LearnedScanOpaque so = (LearnedScanOpaque) scan->opaque;
	int64		ntids = 0;
	int			g = -1;
	ItemPointerData *tids = NULL;
	int			tidcap = 0;

	if (!so->qual_ok)
		return 0;

	while ((g = next_group(scan, g, ForwardScanDirection)) != -2)
	{
		load_group(scan, g, false);
		if (so->pos.nitems > tidcap)
		{
			tidcap = Max(so->pos.nitems, 64);
			if (tids)
				pfree(tids);
			tids = palloc(sizeof(ItemPointerData) * tidcap);
		}
		for (int i = 0; i < so->pos.nitems; i++)
			learned_item_tid(&so->pos.items[i], &tids[i]);
		tbm_add_tuples(tbm, tids, so->pos.nitems, false);
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
	dst->group = src->group;
	dst->cur = src->cur;
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
