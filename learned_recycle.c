/*
 * learned_recycle.c -- recycling the pages a retrain replaced: only when
 * no scan of an older generation can still read them (no_old_readers,
 * never waits), as free pages given to the FSM; and the sweep, which frees
 * every page the current structure does not reach (pages earlier retrains
 * could not recycle yet, orphans of a crash).  See docs/design.md,
 * "Retrain" step 8.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

/* append blk to a growable list of blocks */
void
learned_blocklist_add(LearnedBlockList *list, BlockNumber blk)
{
	if (list->n >= list->cap)
	{
		list->cap = Max(64, list->cap * 2);
		list->blocks = list->blocks ?
			repalloc_huge(list->blocks, sizeof(BlockNumber) * list->cap) :
			palloc(sizeof(BlockNumber) * list->cap);
	}
	list->blocks[list->n++] = blk;
}

/* mark every page of the chain from blk (of pages of `type`) as reached */
static void
reach_chain(Relation index, BlockNumber blk, uint16 type, bool *reach,
			BlockNumber nblocks)
{
	while (blk != InvalidBlockNumber)
	{
		if (blk < nblocks)
			reach[blk] = true;
		blk = learned_chain_next(index, blk, type, 0, NULL);
	}
}

/* rewrite blocks[0..n) as free pages (4 per WAL record) and give them to the FSM */
static void
mark_free_pages(Relation index, BlockNumber *blocks, int n, uint32 generation)
{
	for (int i = 0; i < n; i += 4)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[4];
		int			k = Min(4, n - i);

		for (int j = 0; j < k; j++)
		{
			Page		p;

			bufs[j] = ReadBuffer(index, blocks[i + j]);
			LockBuffer(bufs[j], BUFFER_LOCK_EXCLUSIVE);
			/*
			 * A full image: the page may never have been WAL-logged (an
			 * orphan of a crash right after a relation extension).  It
			 * costs a few bytes anyway: a free page is an empty standard
			 * page, whose hole (the whole body) the image leaves out.
			 */
			p = GenericXLogRegisterBuffer(state, bufs[j], GENERIC_XLOG_FULL_IMAGE);
			learned_init_page(p, LEARNED_PAGE_FREE, generation);
		}
		GenericXLogFinish(state);
		for (int j = 0; j < k; j++)
		{
			UnlockReleaseBuffer(bufs[j]);
			RecordFreeIndexPage(index, blocks[i + j]);
		}
		CHECK_FOR_INTERRUPTS();
	}
	IndexFreeSpaceMapVacuum(index);
}

/*
 * Can pages that the current structure no longer references be recycled
 * now?  Only if no scan of a generation <= upto is left: scans hold their
 * generation lock in AccessShare mode from beginscan to endscan, so
 * momentarily getting each old generation's lock in AccessExclusive mode
 * proves it.  (This session's own open scans would not conflict with our
 * own locks: check them separately.)  Never waits.
 */
static bool
no_old_readers(Relation index, uint32 upto)
{
	LearnedMetaPageData meta;
	uint32		from;

	if (learned_cache_in_use(RelationGetRelid(index)))
		return false;
	learned_read_meta(index, &meta);
	from = meta.recycle_horizon + 1;
	if (upto >= from && upto - from >= LEARNED_GEN_TAGS)
		from = upto - LEARNED_GEN_TAGS + 1;
	for (uint32 g = from; g <= upto && g >= from; g++)
	{
		if (!ConditionalLockPage(index, LEARNED_GEN_LOCK(g), AccessExclusiveLock))
			return false;
		UnlockPage(index, LEARNED_GEN_LOCK(g), AccessExclusiveLock);
	}
	return true;
}

/* pages are recycled: no reader of a generation <= horizon is left */
static void
set_recycled(Relation index, uint32 horizon)
{
	LearnedMetaUpdate u;
	LearnedMetaPage m = learned_meta_update_begin(index, &u);

	m->sweep_needed = 0;
	if (horizon > m->recycle_horizon)
		m->recycle_horizon = horizon;
	learned_meta_update_finish(&u, false);
}


/*
 * The pages a retrain replaced (`old`): recycled now if no scan of an older
 * generation than newgen is left, else they wait for a later sweep
 * (sweep_needed stays set).
 */
void
learned_recycle(Relation index, const LearnedBlockList *old, uint32 newgen)
{
	if (no_old_readers(index, newgen - 1))
	{
		mark_free_pages(index, old->blocks, old->n, newgen);
		set_recycled(index, newgen - 1);
	}
}

/*
 * Recycle every page the current structure does not reference (pages of
 * old models whose readers are gone, orphans of a crashed retrain or of a
 * crashed page allocation).  Needs no scan running (checked, never waited
 * for); inserts are excluded by the retrain lock.
 */
void
learned_sweep_locked(Relation index)
{
	LearnedMetaPageData meta;
	LearnedCache *c;
	BlockNumber nblocks,
				blk;
	bool	   *reach;
	LearnedBlockList freelist = {NULL, 0, 0};

	learned_read_meta(index, &meta);
	if (!meta.sweep_needed)
		return;
	c = learned_cache_acquire(index, &meta);
	nblocks = RelationGetNumberOfBlocks(index);
	reach = palloc0(sizeof(bool) * nblocks);
	reach[LEARNED_METAPAGE_BLKNO] = true;

	reach_chain(index, meta.model_head, LEARNED_PAGE_MODEL, reach, nblocks);
	reach_chain(index, meta.null_head, LEARNED_PAGE_NULL, reach, nblocks);
	for (uint32 g = 0; g < meta.nleaf; g++)
	{
		CHECK_FOR_INTERRUPTS();
		if (c->blknos[g] < nblocks)
			reach[c->blknos[g]] = true;
		reach_chain(index, learned_leaf_next(index, c->blknos[g]), LEARNED_PAGE_DELTA,
					reach, nblocks);
	}
	learned_cache_release(c);

	if (no_old_readers(index, meta.generation - 1))
	{
		for (blk = 0; blk < nblocks; blk++)
		{
			Buffer		buf;
			Page		page;
			bool		isfree;

			if (reach[blk])
				continue;
			buf = ReadBuffer(index, blk);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			isfree = !PageIsNew(page) &&
				PageGetSpecialSize(page) == MAXALIGN(sizeof(LearnedPageOpaqueData)) &&
				LearnedPageGetOpaque(page)->page_type == LEARNED_PAGE_FREE;
			UnlockReleaseBuffer(buf);
			if (isfree)
				RecordFreeIndexPage(index, blk);
			else
				learned_blocklist_add(&freelist, blk);
		}
		mark_free_pages(index, freelist.blocks, freelist.n, meta.generation);
		set_recycled(index, meta.generation - 1);
	}
	pfree(reach);
	if (freelist.blocks)
		pfree(freelist.blocks);
}

/* set or clear meta->retraining; setting it waits for running insert batches */
void
learned_set_retraining(Relation index, uint32 value)
{
	LearnedMetaUpdate u;

	learned_meta_update_begin(index, &u)->retraining = value;
	learned_meta_update_finish(&u, true);
	if (value)
	{
		LockBufferForCleanup(u.buf);
		LockBuffer(u.buf, BUFFER_LOCK_UNLOCK);
	}
	ReleaseBuffer(u.buf);
}

/*
 * The sweep computes which pages are reachable, so no insert batch may
 * link a page meanwhile: like a retrain, it sets the retraining flag and
 * waits for running batches (bulk deletes are excluded by the lock).
 */
void
learned_sweep(Relation index)
{
	learned_lock_structure(index, LEARNED_LOCK_RETRAIN);
	learned_sweep_barrier(index);
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
}

/*
 * The sweep under the retraining flag, the structure lock held: only if no
 * reader of an old generation is left now (else it would stop insert
 * batches and free nothing).
 */
void
learned_sweep_barrier(Relation index)
{
	LearnedMetaPageData meta;

	learned_read_meta(index, &meta);
	if (!meta.sweep_needed || !no_old_readers(index, meta.generation - 1))
		return;
	learned_set_retraining(index, 1);
	learned_sweep_locked(index);
	learned_set_retraining(index, 0);
}
