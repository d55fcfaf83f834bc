/*
 * learned_vacuum.c -- ambulkdelete, amvacuumcleanup, and the retrain that
 * merges pending entries into dense pages and refits the model.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "learned.h"

void
learned_count(Relation index, LearnedCache *c, LearnedIndexCounts *counts)
{
	BlockNumber blk;

	memset(counts, 0, sizeof(*counts));
	for (uint32 g = 0; g < c->meta.nleaf; g++)
	{
		Buffer		buf = ReadBuffer(index, c->blknos[g]);
		Page		page;
		LearnedPageOpaque op;
		ItemPointerData *tids;
		int			built = learned_leaf_sorted(&c->meta, g);

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, c->blknos[g], LI_PAGE_LEAF, c->meta.generation);
		op = LearnedPageGetOpaque(page);
		tids = LearnedPageTids(page);
		for (int i = 0; i < op->nitems; i++)
		{
			if (!ItemPointerIsValid(&tids[i]))
				counts->base_dead++;
			else if (i >= built)
				counts->pending++;
			else
				counts->base_live++;
		}
		blk = op->next;
		while (blk != InvalidBlockNumber)
		{
			Buffer		dbuf = ReadBuffer(index, blk);
			Page		dpage;

			LockBuffer(dbuf, BUFFER_LOCK_SHARE);
			dpage = BufferGetPage(dbuf);
			learned_check_page(index, dpage, blk, LI_PAGE_DELTA, c->meta.generation);
			counts->pending += LearnedPageGetOpaque(dpage)->nitems;
			counts->delta_pages++;
			blk = LearnedPageGetOpaque(dpage)->next;
			UnlockReleaseBuffer(dbuf);
		}
		UnlockReleaseBuffer(buf);
	}

	{
		LearnedMetaPageData meta;

		learned_read_meta(index, &meta);
		blk = meta.null_head;
	}
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, blk, LI_PAGE_NULL, c->meta.generation);
		counts->nulls += LearnedPageGetOpaque(page)->nitems;
		counts->null_pages++;
		blk = LearnedPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
}

/* ------------------------------------------------------------------
 * ambulkdelete
 * ------------------------------------------------------------------ */

/* compact a delta or null page in place; returns entries removed */
static int
vacuum_chain_page(Relation index, Buffer buf, bool isnull,
				  IndexBulkDeleteCallback callback, void *callback_state,
				  int *nlive)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	ItemPointerData *tids = isnull ? LearnedNullTids(page) : LearnedPageTids(page);
	int			ndel = 0;

	for (int i = 0; i < op->nitems; i++)
		if (callback(&tids[i], callback_state))
			ndel++;
	if (ndel > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		p = GenericXLogRegisterBuffer(state, buf, 0);
		LearnedPageOpaque pop = LearnedPageGetOpaque(p);
		ItemPointerData *ptids = isnull ? LearnedNullTids(p) : LearnedPageTids(p);
		uint64	   *pkeys = isnull ? NULL : LearnedPageKeys(p);
		int			j = 0;

		for (int i = 0; i < pop->nitems; i++)
		{
			if (callback(&ptids[i], callback_state))
				continue;
			if (i != j)
			{
				ptids[j] = ptids[i];
				if (pkeys)
					pkeys[j] = pkeys[i];
			}
			j++;
		}
		/* zero the freed tail so that WAL and checks see clean pages */
		for (int i = j; i < pop->nitems; i++)
		{
			ItemPointerSetInvalid(&ptids[i]);
			if (pkeys)
				pkeys[i] = 0;
		}
		pop->nitems = j;
		GenericXLogFinish(state);
	}
	*nlive = op->nitems;
	return ndel;
}

IndexBulkDeleteResult *
learned_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	LearnedMetaPageData meta;
	LearnedCache *c;
	BlockNumber blk;
	double		live = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	learned_lock_structure(index, ShareLock);
	learned_read_meta(index, &meta);
	c = learned_cache_acquire(index, &meta);

	for (uint32 g = 0; g < meta.nleaf; g++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, c->blknos[g],
											 RBM_NORMAL, info->strategy);
		Page		page;
		LearnedPageOpaque op;
		ItemPointerData *tids;
		int			ndel = 0;

		vacuum_delay_point();
		/* waits for scans that still return entries of this group */
		LockBufferForCleanup(buf);
		page = BufferGetPage(buf);
		learned_check_page(index, page, c->blknos[g], LI_PAGE_LEAF, meta.generation);
		op = LearnedPageGetOpaque(page);
		tids = LearnedPageTids(page);
		for (int i = 0; i < op->nitems; i++)
			if (ItemPointerIsValid(&tids[i]) && callback(&tids[i], callback_state))
				ndel++;
		if (ndel > 0)
		{
			GenericXLogState *state = GenericXLogStart(index);
			Page		p = GenericXLogRegisterBuffer(state, buf, 0);
			LearnedPageOpaque pop = LearnedPageGetOpaque(p);
			ItemPointerData *ptids = LearnedPageTids(p);

			/* tombstones keep every other entry at its modelled position */
			for (int i = 0; i < pop->nitems; i++)
				if (ItemPointerIsValid(&ptids[i]) && callback(&ptids[i], callback_state))
					ItemPointerSetInvalid(&ptids[i]);
			pop->ndead += ndel;
			GenericXLogFinish(state);
			stats->tuples_removed += ndel;
		}
		for (int i = 0; i < op->nitems; i++)
			if (ItemPointerIsValid(&tids[i]))
				live++;

		blk = op->next;
		while (blk != InvalidBlockNumber)
		{
			Buffer		dbuf = ReadBufferExtended(index, MAIN_FORKNUM, blk,
												  RBM_NORMAL, info->strategy);
			int			nlive;

			LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
			learned_check_page(index, BufferGetPage(dbuf), blk, LI_PAGE_DELTA,
							   meta.generation);
			stats->tuples_removed += vacuum_chain_page(index, dbuf, false, callback,
													   callback_state, &nlive);
			live += nlive;
			blk = LearnedPageGetOpaque(BufferGetPage(dbuf))->next;
			UnlockReleaseBuffer(dbuf);
		}
		UnlockReleaseBuffer(buf);
	}

	learned_read_meta(index, &meta);
	blk = meta.null_head;
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk,
											 RBM_NORMAL, info->strategy);
		int			nlive;

		vacuum_delay_point();
		LockBufferForCleanup(buf);
		learned_check_page(index, BufferGetPage(buf), blk, LI_PAGE_NULL,
						   meta.generation);
		stats->tuples_removed += vacuum_chain_page(index, buf, true, callback,
												   callback_state, &nlive);
		live += nlive;
		blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}

	learned_cache_release(c);
	learned_unlock_structure(index, ShareLock);

	stats->num_index_tuples = live;
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

/* ------------------------------------------------------------------
 * Retrain
 * ------------------------------------------------------------------ */

typedef struct RetrainSink
{
	Relation	index;
	uint32		oldgen;
	BlockNumber *blocks;
	int			nblocks;
	int			cap;
} RetrainSink;

static BlockNumber
retrain_sink(void *arg, Page page)
{
	RetrainSink *rs = (RetrainSink *) arg;
	Buffer		buf = learned_new_buffer(rs->index, rs->oldgen);
	GenericXLogState *state = GenericXLogStart(rs->index);
	Page		p = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	BlockNumber blk = BufferGetBlockNumber(buf);

	memcpy(p, page, BLCKSZ);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	if (rs->nblocks >= rs->cap)
	{
		rs->cap *= 2;
		rs->blocks = repalloc_huge(rs->blocks, sizeof(BlockNumber) * rs->cap);
	}
	rs->blocks[rs->nblocks++] = blk;
	return blk;
}

/*
 * Rewrite the whole index from its current contents (live entries of the
 * leaves, delta chains and NULL pages), refit the model, switch the
 * metapage to the new structure in one WAL record and give the old pages
 * to the free space map.  Holds the structure lock in exclusive mode; with
 * wait = false gives up (returns false) if a scan or insert is running.
 */
bool
learned_retrain(Relation index, bool wait)
{
	LearnedMetaPageData meta,
				newmeta;
	LearnedCache *c;
	RetrainSink rs;
	LearnedWriter *w;
	uint32		newgen;
	Buffer		metabuf;
	GenericXLogState *state;
	li_item    *items = NULL;
	int			itemcap = 0;
	BlockNumber blk,
				nblocks;
	bool	   *keep;
	MemoryContext cxt,
				old;

	if (wait)
		learned_lock_structure(index, ExclusiveLock);
	else if (!learned_conditional_lock_structure(index, ExclusiveLock))
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "learned_index retrain",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	learned_read_meta(index, &meta);
	c = learned_cache_acquire(index, &meta);

	/* consume a generation number first: never reused even after a crash */
	newgen = meta.next_generation;
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	LearnedPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0))->next_generation = newgen + 1;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);

	rs.index = index;
	rs.oldgen = meta.generation;
	rs.cap = 64;
	rs.nblocks = 0;
	rs.blocks = palloc(sizeof(BlockNumber) * rs.cap);

	w = learned_writer_begin(index, newgen, (LearnedKeyKind) meta.keykind,
							 learned_get_epsilon(index),
							 Max(1, LI_LEAF_CAP * learned_get_fillfactor(index) / 100),
							 retrain_sink, &rs);

	for (uint32 g = 0; g < meta.nleaf; g++)
	{
		int			n;

		CHECK_FOR_INTERRUPTS();
		n = learned_collect_group(index, c, (int) g, 0, PG_UINT64_MAX, false,
								  &items, &itemcap, NULL, NULL);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData tid;

			tid.ip_blkid.bi_hi = items[i].tid[0];
			tid.ip_blkid.bi_lo = items[i].tid[1];
			tid.ip_posid = items[i].tid[2];
			learned_writer_add(w, items[i].key, &tid);
		}
	}

	blk = meta.null_head;
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		LearnedPageOpaque op;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, blk, LI_PAGE_NULL, meta.generation);
		op = LearnedPageGetOpaque(page);
		for (int i = 0; i < op->nitems; i++)
			if (ItemPointerIsValid(&LearnedNullTids(page)[i]))
				learned_writer_add_null(w, &LearnedNullTids(page)[i]);
		blk = op->next;
		UnlockReleaseBuffer(buf);
	}

	learned_writer_finish(w, &newmeta);
	newmeta.next_generation = newgen + 1;
	newmeta.last_retrain = GetCurrentTimestamp();
	newmeta.nretrains = meta.nretrains + 1;

	/* the switch: one WAL record */
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	{
		Page		mp = GenericXLogRegisterBuffer(state, metabuf, 0);

		memcpy(LearnedPageGetMeta(mp), &newmeta, sizeof(newmeta));
		LearnedPageGetOpaque(mp)->generation = newgen;
	}
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);

	/* every block not in the new structure is free now */
	nblocks = RelationGetNumberOfBlocks(index);
	keep = palloc0(sizeof(bool) * nblocks);
	keep[LEARNED_METAPAGE_BLKNO] = true;
	for (int i = 0; i < rs.nblocks; i++)
		if (rs.blocks[i] < nblocks)
			keep[rs.blocks[i]] = true;
	for (BlockNumber b = 0; b < nblocks; b++)
		if (!keep[b])
			RecordFreeIndexPage(index, b);
	IndexFreeSpaceMapVacuum(index);

	learned_cache_release(c);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	learned_unlock_structure(index, ExclusiveLock);
	return true;
}

/* ------------------------------------------------------------------
 * amvacuumcleanup
 * ------------------------------------------------------------------ */

IndexBulkDeleteResult *
learned_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	LearnedMetaPageData meta;
	LearnedCache *c;
	LearnedIndexCounts counts;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	learned_lock_structure(index, ShareLock);
	learned_read_meta(index, &meta);
	c = learned_cache_acquire(index, &meta);
	learned_count(index, c, &counts);
	learned_cache_release(c);
	learned_unlock_structure(index, ShareLock);

	/* merge pending entries and drop tombstones; skip if the index is busy */
	if (counts.pending > 0 || counts.base_dead > 0 || counts.delta_pages > 0)
	{
		if (learned_retrain(index, false))
		{
			learned_lock_structure(index, ShareLock);
			learned_read_meta(index, &meta);
			c = learned_cache_acquire(index, &meta);
			learned_count(index, c, &counts);
			learned_cache_release(c);
			learned_unlock_structure(index, ShareLock);
		}
		else
			ereport(info->message_level,
					(errmsg("index \"%s\" is in use: retrain skipped",
							RelationGetRelationName(index))));
	}

	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->num_index_tuples = (double) (counts.base_live + counts.pending + counts.nulls);
	stats->estimated_count = false;
	stats->pages_free = 0;
	return stats;
}
