/*
 * learned_vacuum.c -- ambulkdelete and amvacuumcleanup (which retrains
 * the leaves with pending or dead entries and sweeps), and the entry
 * counts shared with learned_index_stats().
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include <math.h>

#include "learned.h"

/* count entries by kind (live, dead, pending, NULL) and pages, reading every group */
void
learned_count(Relation index, LearnedCache *c, LearnedIndexCounts *counts)
{
	BlockNumber blk;
	LearnedMetaPageData meta;

	memset(counts, 0, sizeof(*counts));
	for (uint32 g = 0; g < c->meta.nleaf; g++)
	{
		Buffer		buf = ReadBuffer(index, c->blknos[g]);
		Page		page;
		LearnedPageOpaque op;
		li_cleaf_view v;
		li_cleaf_widths widths;
		LearnedEntries tail;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, c->blknos[g], LEARNED_PAGE_LEAF, c->meta.generation);
		op = LearnedPageGetOpaque(page);
		learned_leaf_view(page, &v);
		learned_page_entries(page, &tail);
		li_cleaf_get_widths(LearnedLeafBlock(page), &widths);
		counts->sorted += v.n;
		counts->block_bytes += learned_leaf_block_bytes(page);
		counts->key_bits += widths.key_bits;
		counts->tid_bits += widths.tid_bits;
		counts->key_bits_max = Max(counts->key_bits_max, (int) widths.key_max);
		counts->tid_bits_max = Max(counts->tid_bits_max, (int) widths.tid_max);
		/* the sorted part's tombstones are its bitmap's bits */
		for (uint32 i = 0; i < v.n; i++)
		{
			if (li_cleaf_dead(&v, i))
				counts->base_dead++;
			else
				counts->base_live++;
		}
		for (int i = (int) v.n; i < op->nitems; i++)
		{
			if (ItemPointerIsValid(&tail.tids[i - tail.base]))
				counts->pending++;
			else
				counts->base_dead++;
		}
		blk = op->next;
		if (blk != InvalidBlockNumber)
			counts->dirty_leaves++;
		/* the chain is read under the leaf's share lock, as scans do */
		while (blk != InvalidBlockNumber)
		{
			int			n;

			blk = learned_chain_next(index, blk, LEARNED_PAGE_DELTA,
									 c->meta.generation, &n);
			counts->pending += n;
			counts->delta_pages++;
		}
		UnlockReleaseBuffer(buf);
	}

	learned_read_meta(index, &meta);
	blk = meta.null_head;
	while (blk != InvalidBlockNumber)
	{
		int			n;

		blk = learned_chain_next(index, blk, LEARNED_PAGE_NULL, c->meta.generation, &n);
		counts->nulls += n;
		counts->null_pages++;
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

/*
 * Wait until no scan of a generation older than meta's current one is
 * left (their copied items may hold TIDs of leaves a retrain has since
 * replaced, which the cleanup locks of the bulk delete cannot see).  Holds
 * no lock of ours while waiting: such a scan's session may itself be about
 * to wait for the structure lock.
 */
static void
wait_old_readers(Relation index, const LearnedMetaPageData *meta)
{
	uint32		from = meta->recycle_horizon + 1;

	if (meta->generation > from && meta->generation - from > LEARNED_GEN_TAGS)
		from = meta->generation - LEARNED_GEN_TAGS;
	for (uint32 gen = from; gen < meta->generation; gen++)
	{
		if (LEARNED_GEN_LOCK(gen) == LEARNED_GEN_LOCK(meta->generation))
			continue;
		LockPage(index, LEARNED_GEN_LOCK(gen), AccessExclusiveLock);
		UnlockPage(index, LEARNED_GEN_LOCK(gen), AccessExclusiveLock);
	}
}

/*
 * Take the structure lock for a bulk delete once no old-generation scan is
 * left; returns the metapage read under it.
 */
static void
bulkdelete_begin(Relation index, LearnedMetaPageData *meta)
{
	for (;;)
	{
		LearnedMetaPageData now;

		learned_read_meta(index, meta);
		wait_old_readers(index, meta);
		learned_lock_structure(index, LEARNED_LOCK_INSERT);
		learned_read_meta(index, &now);
		if (now.generation == meta->generation)
		{
			*meta = now;
			return;
		}
		/* a retrain switched meanwhile: its old readers too */
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Cleanup-lock buf (pinned) for a bulk delete that holds the structure
 * lock.  A pin that stays (a cursor parked on the leaf) is waited for
 * without the structure lock: the cursor's session may be waiting for that
 * lock (a retrain), and a buffer-pin wait is invisible to the deadlock
 * detector.  Returns false, with the structure lock held again but buf not
 * locked, if a retrain switched generations meanwhile (the pass restarts).
 */
static bool
cleanup_lock_for_bulkdelete(Relation index, Buffer buf, uint32 generation)
{
	while (!ConditionalLockBufferForCleanup(buf))
	{
		LearnedMetaPageData now;

		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
		LockBufferForCleanup(buf);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		learned_lock_structure(index, LEARNED_LOCK_INSERT);
		learned_read_meta(index, &now);
		if (now.generation != generation)
			return false;
	}
	return true;
}

/* tombstone the dead TIDs of a cleanup-locked leaf; returns entries removed */
static int
bulkdelete_leaf(Relation index, Buffer buf, IndexBulkDeleteCallback callback,
				void *callback_state, double *live)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	li_cleaf_view v;
	LearnedEntries tail;
	int		   *dead = palloc(sizeof(int) * Max(1, op->nitems));
	int			ndel = 0;

	learned_leaf_view(page, &v);
	learned_page_entries(page, &tail);
	/* the sorted part, decoded in order a group at a time */
	for (uint32 i = 0; i < v.n;)
	{
		uint64		kbuf[LI_CLEAF_GROUP];
		ItemPointerData tbuf[LI_CLEAF_GROUP];
		uint32		got = li_cleaf_decode_run(&v, i, Min(v.n, i + LI_CLEAF_GROUP),
											  PG_UINT64_MAX, kbuf, (uint16 *) tbuf);

		Assert(got > 0);
		for (uint32 j = 0; j < got; j++)
		{
			if (!ItemPointerIsValid(&tbuf[j]))
				continue;
			if (callback(&tbuf[j], callback_state))
				dead[ndel++] = (int) (i + j);
			else
				(*live)++;
		}
		i += got;
	}
	for (int i = (int) v.n; i < op->nitems; i++)
	{
		ItemPointerData *tid = &tail.tids[i - tail.base];

		if (!ItemPointerIsValid(tid))
			continue;
		if (callback(tid, callback_state))
			dead[ndel++] = i;
		else
			(*live)++;
	}
	if (ndel > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		p = GenericXLogRegisterBuffer(state, buf, 0);
		LearnedPageOpaque pop = LearnedPageGetOpaque(p);
		LearnedEntries ptail;

		/* tombstones keep every other entry at its modelled position */
		learned_page_entries(p, &ptail);
		for (int d = 0; d < ndel; d++)
		{
			if (dead[d] < (int) v.n)
				li_cleaf_kill(LearnedLeafBlock(p), (uint32) dead[d]);
			else
				ItemPointerSetInvalid(&ptail.tids[dead[d] - ptail.base]);
		}
		pop->ndead += ndel;
		GenericXLogFinish(state);
	}
	pfree(dead);
	return ndel;
}

/* compact the delta chain starting at blk (its leaf cleanup-locked) */
static int
bulkdelete_chain(Relation index, BlockNumber blk, uint16 type, uint32 generation,
				 IndexVacuumInfo *info, IndexBulkDeleteCallback callback,
				 void *callback_state, double *live)
{
	int			removed = 0;

	while (blk != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBufferExtended(info->index, MAIN_FORKNUM, blk,
											  RBM_NORMAL, info->strategy);
		int			nlive;

		LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
		learned_check_page(index, BufferGetPage(dbuf), blk, type, generation);
		removed += vacuum_chain_page(index, dbuf, false, callback,
									 callback_state, &nlive);
		*live += nlive;
		blk = LearnedPageGetOpaque(BufferGetPage(dbuf))->next;
		UnlockReleaseBuffer(dbuf);
	}
	return removed;
}

/*
 * One pass over the leaves and the NULL chain of generation meta; returns
 * false if a retrain switched generations while we waited for a pin (the
 * caller restarts the pass on the new structure).
 */
static bool
bulkdelete_pass(IndexVacuumInfo *info, const LearnedMetaPageData *meta,
				IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				void *callback_state, double *live)
{
	Relation	index = info->index;
	LearnedCache *c = learned_cache_acquire(index, meta);
	LearnedMetaPageData now;
	BlockNumber blk;

	for (uint32 g = 0; g < meta->nleaf; g++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, c->blknos[g],
											 RBM_NORMAL, info->strategy);

		learned_vacuum_delay_point();
		/* waits for scans that still return entries of this group */
		if (!cleanup_lock_for_bulkdelete(index, buf, meta->generation))
		{
			ReleaseBuffer(buf);
			learned_cache_release(c);
			return false;
		}
		learned_check_page(index, BufferGetPage(buf), c->blknos[g], LEARNED_PAGE_LEAF,
						   meta->generation);
		stats->tuples_removed += bulkdelete_leaf(index, buf, callback,
												 callback_state, live);
		stats->tuples_removed +=
			bulkdelete_chain(index, LearnedPageGetOpaque(BufferGetPage(buf))->next,
							 LEARNED_PAGE_DELTA, meta->generation, info, callback,
							 callback_state, live);
		UnlockReleaseBuffer(buf);
	}
	learned_cache_release(c);

	learned_read_meta(index, &now);
	blk = now.null_head;
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk,
											 RBM_NORMAL, info->strategy);
		int			nlive;

		learned_vacuum_delay_point();
		if (!cleanup_lock_for_bulkdelete(index, buf, meta->generation))
		{
			ReleaseBuffer(buf);
			return false;
		}
		learned_check_page(index, BufferGetPage(buf), blk, LEARNED_PAGE_NULL,
						   meta->generation);
		stats->tuples_removed += vacuum_chain_page(index, buf, true, callback,
												   callback_state, &nlive);
		*live += nlive;
		blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	return true;
}

/*
 * ambulkdelete: tombstone (leaves) or compact away (delta and NULL pages)
 * every entry whose TID the callback reports dead.  Holds the structure
 * lock in insert mode (no retrain moves entries meanwhile), but never
 * while it waits for scans.  Afterwards no TID removed can still be
 * returned by a scan, which index-only scans rely on.
 */
IndexBulkDeleteResult *
learned_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	LearnedMetaPageData meta;
	double		live;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	for (;;)
	{
		bulkdelete_begin(index, &meta);
		live = 0;
		if (bulkdelete_pass(info, &meta, stats, callback, callback_state, &live))
			break;
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
	}
	learned_unlock_structure(index, LEARNED_LOCK_INSERT);

	stats->num_index_tuples = live;
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

/* ------------------------------------------------------------------
 * amvacuumcleanup
 * ------------------------------------------------------------------ */

/* pages marked free (recyclable) */
static BlockNumber
count_free_pages(Relation index, BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber nfree = 0;

	for (BlockNumber b = 1; b < nblocks; b++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, b, RBM_NORMAL, strategy);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) ||
			(PageGetSpecialSize(page) == MAXALIGN(sizeof(LearnedPageOpaqueData)) &&
			 LearnedPageGetOpaque(page)->page_type == LEARNED_PAGE_FREE))
			nfree++;
		UnlockReleaseBuffer(buf);
		learned_vacuum_delay_point();
	}
	return nfree;
}

/* amvacuumcleanup: retrain leaves with pending/dead entries, sweep, report */
IndexBulkDeleteResult *
learned_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	LearnedMetaPageData meta;
	LearnedCache *c;
	LearnedIndexCounts counts;
	BlockNumber free_before,
				free_after;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	/*
	 * Merge pending entries and drop tombstones of the leaves that have any
	 * (segment-local; the whole index if most leaves need it).  Autovacuum
	 * does not wait for running inserts.
	 */
	free_before = count_free_pages(index, info->strategy);
	{
		LearnedMetaPageData before,
					after;
		LearnedIndexCounts cb;

		learned_reader_begin(index, &before);
		c = learned_cache_acquire(index, &before);
		learned_count(index, c, &cb);
		learned_cache_release(c);
		learned_reader_end(index, before.generation);

		if (learned_retrain(index, LEARNED_RETRAIN_PENDING, !LearnedIsAutoVacuumWorker()))
		{
			learned_read_meta(index, &after);
			ereport(info->message_level,
					(errmsg("index \"%s\" retrained (%s): %llu pending entries merged, %llu tombstones dropped",
							RelationGetRelationName(index),
							after.nlocal > before.nlocal ? "segment-local" : "whole index",
							(unsigned long long) cb.pending,
							(unsigned long long) cb.base_dead),
					 errdetail("%u leaves and %u segments before, %u leaves and %u segments after; max error %.1f (epsilon %u).",
							   before.nleaf, before.nsegments, after.nleaf,
							   after.nsegments, after.max_error, after.epsilon)));
		}
	}
	learned_sweep(index);

	learned_reader_begin(index, &meta);
	c = learned_cache_acquire(index, &meta);
	learned_count(index, c, &counts);
	learned_cache_release(c);
	learned_reader_end(index, meta.generation);

	/*
	 * VACUUM VERBOSE shows these: pages a retrain replaced and that are now
	 * free for reuse ("deleted", "reusable"), and how many this VACUUM freed.
	 */
	free_after = count_free_pages(index, info->strategy);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->num_index_tuples = (double) (counts.base_live + counts.pending + counts.nulls);
	stats->estimated_count = false;
	stats->pages_deleted = free_after;
	stats->pages_free = free_after;
	stats->pages_newly_deleted = free_after > free_before ? free_after - free_before : 0;
	return stats;
}
