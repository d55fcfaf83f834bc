/*
 * learned_insert.c -- aminsert.
 *
 * The model is never refitted here.  A non-null key goes to the leaf group
 * the separators assign it to: appended to the leaf page itself when it
 * sorts after the page's last key and there is room (ascending keys, the
 * time-series case, cost one small WAL record), otherwise appended to the
 * head page of the leaf's delta chain (unsorted, append-only).  NULLs go to
 * the head of the NULL chain.  VACUUM or learned_index_retrain() merges
 * everything back into dense pages and refits the model.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

static void
insert_null(Relation index, const LearnedMetaPageData *meta, ItemPointer tid)
{
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LearnedMetaPage m;
	BlockNumber head;
	GenericXLogState *state;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	m = LearnedPageGetMeta(BufferGetPage(metabuf));
	head = m->null_head;

	if (head != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, head);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		learned_check_page(index, BufferGetPage(buf), head, LI_PAGE_NULL,
						   meta->generation);
		if (LearnedPageGetOpaque(BufferGetPage(buf))->nitems < LI_NULL_CAP)
		{
			LearnedPageOpaque op;

			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			op = LearnedPageGetOpaque(page);
			LearnedNullTids(page)[op->nitems++] = *tid;
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(metabuf);
			return;
		}
		UnlockReleaseBuffer(buf);
	}

	/* new head page */
	{
		Buffer		nbuf = learned_new_buffer(index, meta->generation);
		Page		npage,
					mpage;
		LearnedPageOpaque op;

		state = GenericXLogStart(index);
		npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
		mpage = GenericXLogRegisterBuffer(state, metabuf, 0);
		learned_init_page(npage, LI_PAGE_NULL, meta->generation);
		op = LearnedPageGetOpaque(npage);
		op->next = head;
		LearnedNullTids(npage)[op->nitems++] = *tid;
		LearnedPageGetMeta(mpage)->null_head = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(nbuf);
		UnlockReleaseBuffer(metabuf);
	}
}

static void
insert_key(Relation index, LearnedCache *c, uint64 key, ItemPointer tid)
{
	int			g = learned_leaf_for_insert(c, key);
	BlockNumber blkno = c->blknos[g];
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	LearnedPageOpaque op;
	BlockNumber head;
	GenericXLogState *state;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, blkno, LI_PAGE_LEAF, c->meta.generation);
	op = LearnedPageGetOpaque(page);

	/* append to the leaf itself if the key sorts last and there is room */
	if (op->nitems < LI_LEAF_CAP &&
		(op->nitems == 0 || LearnedPageKeys(page)[op->nitems - 1] <= key) &&
		(g + 1 >= (int) c->meta.nleaf || key < c->seps[g + 1]))
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		op = LearnedPageGetOpaque(page);
		LearnedPageKeys(page)[op->nitems] = key;
		LearnedPageTids(page)[op->nitems] = *tid;
		op->nitems++;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		return;
	}

	head = op->next;
	if (head != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBuffer(index, head);
		Page		dpage;

		LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
		learned_check_page(index, BufferGetPage(dbuf), head, LI_PAGE_DELTA,
						   c->meta.generation);
		if (LearnedPageGetOpaque(BufferGetPage(dbuf))->nitems < LI_LEAF_CAP)
		{
			LearnedPageOpaque dop;

			state = GenericXLogStart(index);
			dpage = GenericXLogRegisterBuffer(state, dbuf, 0);
			dop = LearnedPageGetOpaque(dpage);
			LearnedPageKeys(dpage)[dop->nitems] = key;
			LearnedPageTids(dpage)[dop->nitems] = *tid;
			dop->nitems++;
			GenericXLogFinish(state);
			UnlockReleaseBuffer(dbuf);
			UnlockReleaseBuffer(buf);
			return;
		}
		UnlockReleaseBuffer(dbuf);
	}

	/* start a new delta page at the head of the chain */
	{
		Buffer		nbuf = learned_new_buffer(index, c->meta.generation);
		Page		npage;
		LearnedPageOpaque nop;

		state = GenericXLogStart(index);
		npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		learned_init_page(npage, LI_PAGE_DELTA, c->meta.generation);
		nop = LearnedPageGetOpaque(npage);
		nop->next = head;
		LearnedPageKeys(npage)[0] = key;
		LearnedPageTids(npage)[0] = *tid;
		nop->nitems = 1;
		LearnedPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(nbuf);
		UnlockReleaseBuffer(buf);
	}
}

bool
learned_insert(Relation index, Datum *values, bool *isnull,
			   ItemPointer ht_ctid, Relation heapRel,
			   IndexUniqueCheck checkUnique,
			   bool indexUnchanged,
			   IndexInfo *indexInfo)
{
	LearnedMetaPageData meta;

	learned_lock_structure(index, ShareLock);
	learned_read_meta(index, &meta);

	if (isnull[0])
		insert_null(index, &meta, ht_ctid);
	else
	{
		uint64		key = learned_encode((LearnedKeyKind) meta.keykind, values[0]);
		LearnedCache *c = learned_cache_acquire(index, &meta);

		/* on error, the abort callback drops the reference */
		insert_key(index, c, key, ht_ctid);
		learned_cache_release(c);
	}

	learned_unlock_structure(index, ShareLock);
	return false;
}
