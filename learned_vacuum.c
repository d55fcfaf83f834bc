/*
 * learned_vacuum.c -- ambulkdelete, amvacuumcleanup, and the retrain that
 * merges pending entries into dense pages and refits the model.
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
		int			built = learned_leaf_sorted(c, g);

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
		if (blk != InvalidBlockNumber)
			counts->dirty_leaves++;
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
	ItemPointerData *tids = LearnedPageTids(page);
	int			ndel = 0;

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
	}
	for (int i = 0; i < op->nitems; i++)
		if (ItemPointerIsValid(&tids[i]))
			(*live)++;
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

		vacuum_delay_point();
		/* waits for scans that still return entries of this group */
		if (!cleanup_lock_for_bulkdelete(index, buf, meta->generation))
		{
			ReleaseBuffer(buf);
			learned_cache_release(c);
			return false;
		}
		learned_check_page(index, BufferGetPage(buf), c->blknos[g], LI_PAGE_LEAF,
						   meta->generation);
		stats->tuples_removed += bulkdelete_leaf(index, buf, callback,
												 callback_state, live);
		stats->tuples_removed +=
			bulkdelete_chain(index, LearnedPageGetOpaque(BufferGetPage(buf))->next,
							 LI_PAGE_DELTA, meta->generation, info, callback,
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

		vacuum_delay_point();
		if (!cleanup_lock_for_bulkdelete(index, buf, meta->generation))
		{
			ReleaseBuffer(buf);
			return false;
		}
		learned_check_page(index, BufferGetPage(buf), blk, LI_PAGE_NULL,
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
 * Retrain
 * ------------------------------------------------------------------ */

typedef struct RetrainSink
{
	Relation	index;
	BlockNumber *blocks;		/* pages written */
	int			nblocks;
	int			cap;
} RetrainSink;

static void
blocklist_add(BlockNumber **list, int *n, int *cap, BlockNumber blk)
{
	if (*n >= *cap)
	{
		*cap = Max(64, *cap * 2);
		*list = *list ? repalloc_huge(*list, sizeof(BlockNumber) * *cap)
			: palloc(sizeof(BlockNumber) * *cap);
	}
	(*list)[(*n)++] = blk;
}

static BlockNumber
retrain_sink(void *arg, Page page)
{
	RetrainSink *rs = (RetrainSink *) arg;
	Buffer		buf = learned_new_buffer(rs->index);
	GenericXLogState *state = GenericXLogStart(rs->index);
	Page		p = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	BlockNumber blk = BufferGetBlockNumber(buf);

	memcpy(p, page, BLCKSZ);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	blocklist_add(&rs->blocks, &rs->nblocks, &rs->cap, blk);
	return blk;
}

static void sweep_locked(Relation index);

/* what a retrain learns about one leaf before deciding */
typedef struct LeafInfo
{
	uint16		nitems;
	uint16		ndead;
	BlockNumber delta;			/* head of its delta chain */
	uint64		last_sorted;	/* last key of its sorted part */
	bool		has_sorted;
} LeafInfo;

static void
read_leaf_info(Relation index, LearnedCache *c, int g, LeafInfo *li)
{
	Buffer		buf = ReadBuffer(index, c->blknos[g]);
	Page		page;
	LearnedPageOpaque op;
	int			ns = learned_leaf_sorted(c, g);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, c->blknos[g], LI_PAGE_LEAF, c->meta.generation);
	op = LearnedPageGetOpaque(page);
	li->nitems = op->nitems;
	li->ndead = op->ndead;
	li->delta = op->next;
	li->has_sorted = (ns > 0 && op->nitems >= ns);
	li->last_sorted = li->has_sorted ? LearnedPageKeys(page)[ns - 1] : 0;
	UnlockReleaseBuffer(buf);
}

/* append old segments covering keys [x0, x1) shifted by `shift` positions */
static void
emit_region(LearnedCache *c, uint64 x0, bool has_x1, uint64 x1, uint64 lb_x0,
			int64 shift, li_segment **segs, int *nseg, int *segcap)
{
	int			n = c->meta.nsegments;
	int			i;

	/* an empty region (the runs around it meet at one key) keeps nothing */
	if (n == 0 || (has_x1 && x0 >= x1))
		return;
	i = (int) li_find_segment(c->segs, n, x0);
	for (; i < n && (!has_x1 || c->segs[i].first_key < x1); i++)
	{
		li_segment	s = c->segs[i];

		if (s.first_key < x0)
		{
			if (x0 == 0)
				continue;
			/* the segment covering the region's start, cut there */
			s.intercept = (double) ((long double) s.intercept +
									(long double) s.slope * (long double) (x0 - s.first_key));
			s.first_key = x0;
			s.first_pos = lb_x0;
		}
		s.intercept += (double) shift;
		s.first_pos = (uint64) ((int64) s.first_pos + shift);
		if (*nseg >= *segcap)
		{
			*segcap *= 2;
			*segs = repalloc_huge(*segs, sizeof(li_segment) * *segcap);
		}
		(*segs)[(*nseg)++] = s;
	}
}

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
			learned_init_page(p, LI_PAGE_FREE, generation);
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
 * now?  Only if no scan is running: scans hold the structure lock in
 * AccessShare mode from beginscan to endscan, so momentarily getting it in
 * AccessExclusive mode proves it.  (This session's own open scans would not
 * conflict with our own lock: check them separately.)  Never waits.
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
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	GenericXLogState *state;
	LearnedMetaPage m;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	m = LearnedPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
	m->sweep_needed = 0;
	if (horizon > m->recycle_horizon)
		m->recycle_horizon = horizon;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Retrain: merge pending entries (leaf tails, delta pages) and drop
 * tombstones by rewriting runs of dirty leaves into new dense leaves, refit
 * the model on those runs only, keep the other leaves and the segments of
 * their key ranges (shifted to their new positions), and switch the
 * metapage to the new model in one WAL record.  When most leaves are dirty
 * (or mode is LI_RETRAIN_FULL, or epsilon/fillfactor changed) the run is
 * the whole index.  Concurrent scans are not blocked: they keep reading the
 * pages of the model they started with, which are recycled only once no
 * scan is left.  Inserts wait.
 *
 * Returns false if nothing was to be done (or, with wait = false, the
 * index was busy).
 */
bool
learned_retrain(Relation index, LearnedRetrainMode mode, bool wait)
{
	return learned_retrain_merge(index, mode, wait, NULL, 0, NULL);
}

/*
 * The retrain an insert batch triggers (dirty threshold crossed, or a long
 * delta chain seen in generation `seen_gen`).  It never waits: if a retrain,
 * sweep or bulk delete holds the structure lock, that one (or a later batch)
 * takes care of it, and the inserting transaction commits at once instead
 * of queueing.  With the lock, the need is checked again, since a retrain
 * that just finished has usually absorbed the dirty leaves already.
 */
bool
learned_retrain_if_needed(Relation index, double threshold, bool long_chain,
						  uint32 seen_gen)
{
	LearnedMetaPageData meta;
	bool		done = false;

	if (!learned_conditional_lock_structure(index, LEARNED_LOCK_RETRAIN))
		return false;
	learned_read_meta(index, &meta);
	if (learned_over_threshold(meta.ndirty, meta.nleaf, threshold) ||
		(long_chain && meta.generation == seen_gen))
		done = learned_retrain_merge(index, LI_RETRAIN_OVERFLOW, true, NULL, 0, NULL);
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
	return done;
}

/*
 * The retrain, optionally merging `extra` (sorted by key, non-null) into
 * the rewritten leaves: the bulk path of a large insert batch, which then
 * writes each page once instead of once as delta and once more at the
 * retrain that would follow.  The leaves `extra` falls into are rewritten
 * (with those `mode` selects); most leaves touched means a whole rewrite.
 */
bool
learned_retrain_merge(Relation index, LearnedRetrainMode mode, bool wait,
					  const li_item *extra, int nextra, bool *extra_written)
{
	LearnedMetaPageData meta,
				newmeta;
	LearnedCache *c;
	LeafInfo   *info;
	bool	   *dirty;
	int			L,
				P,
				ndirty = 0;
	int			epsilon = learned_get_epsilon(index);
	int			per_page = learned_per_page(index);
	uint32		newgen;
	Buffer		metabuf;
	GenericXLogState *state;
	RetrainSink rs;
	li_segment *segs;
	int			nseg = 0,
				segcap = 64;
	uint64	   *seps;
	BlockNumber *blknos;
	uint16	   *nsorted;
	bool	   *isnew;
	int			nl = 0,
				lcap;
	BlockNumber *oldpages = NULL;
	int			noldpages = 0,
				oldcap = 0;
	li_item    *items = NULL;
	int			itemcap = 0;
	double		maxerr;
	bool		full;
	bool		local_any = false;
	MemoryContext cxt,
				oldcxt;
	uint64		npos = 0;		/* positions of the new structure so far */
	int			xi = 0;			/* next extra entry to merge */
	uint64		region_x0 = 0;
	uint64		region_lb = 0;
	int64		region_shift = 0;
	bool		region_open = true;
	BlockNumber blk;

	if (wait)
		learned_lock_structure(index, LEARNED_LOCK_RETRAIN);
	else if (!learned_conditional_lock_structure(index, LEARNED_LOCK_RETRAIN))
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "learned_index retrain",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	learned_read_meta(index, &meta);
	c = learned_cache_acquire(index, &meta);
	L = meta.nleaf;
	P = meta.per_page;

	/* which leaves need it */
	info = palloc(sizeof(LeafInfo) * L);
	dirty = palloc0(sizeof(bool) * L);
	for (int g = 0; g < L; g++)
	{
		int			ns = learned_leaf_sorted(c, g);

		CHECK_FOR_INTERRUPTS();
		read_leaf_info(index, c, g, &info[g]);
		if (mode == LI_RETRAIN_FULL)
			dirty[g] = true;
		else if (mode == LI_RETRAIN_OVERFLOW)
			dirty[g] = info[g].delta != InvalidBlockNumber ||
				(ns > 0 && info[g].ndead * 4 > ns);
		else
			dirty[g] = info[g].delta != InvalidBlockNumber ||
				info[g].ndead > 0 || info[g].nitems > ns;
		if (dirty[g])
			ndirty++;
	}
	full = (mode == LI_RETRAIN_FULL || ndirty * 2 > L ||
			epsilon != (int) meta.epsilon || per_page != P);
	/*
	 * Leaves that receive extra entries are rewritten too (the merge
	 * happens while a run is rewritten): an ascending batch touches only
	 * the last leaf and stays a segment-local retrain.
	 */
	if (nextra > 0)
	{
		int			g = 0;

		for (int i = 0; i < nextra; i++)
		{
			while (g + 1 < L && c->seps[g + 1] <= extra[i].key)
				g++;
			if (!dirty[g])
			{
				dirty[g] = true;
				ndirty++;
			}
		}
		full = (mode == LI_RETRAIN_FULL || ndirty * 2 > L ||
				epsilon != (int) meta.epsilon || per_page != P);
	}
	if (ndirty == 0 && !full)
	{
		learned_cache_release(c);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(cxt);
		learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
		return false;
	}
	if (full)
	{
		for (int g = 0; g < L; g++)
			dirty[g] = true;
		P = per_page;
	}

	/* consume a generation number first: never reused even after a crash */
	newgen = meta.next_generation;
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	{
		LearnedMetaPage m = LearnedPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));

		m->next_generation = newgen + 1;
		m->sweep_needed = 1;	/* until the old pages are recycled */
		m->retraining = 1;		/* new insert batches wait for us */
	}
	GenericXLogFinish(state);
	LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	/* ... and batches that started before the flag finish first */
	LockBufferForCleanup(metabuf);
	UnlockReleaseBuffer(metabuf);

	/*
	 * Pages earlier retrains could not recycle yet: recycle them now, so
	 * that this retrain can reuse them (inserts are excluded by the flag).
	 */
	if (meta.sweep_needed)
		sweep_locked(index);

	memset(&rs, 0, sizeof(rs));
	rs.index = index;
	segs = palloc(sizeof(li_segment) * segcap);
	lcap = L + 16;
	seps = palloc(sizeof(uint64) * lcap);
	blknos = palloc(sizeof(BlockNumber) * lcap);
	nsorted = palloc(sizeof(uint16) * lcap);
	isnew = palloc(sizeof(bool) * lcap);

	for (int g = 0; g < L;)
	{
		int			a,
					b;
		LearnedWriter *w;
		LearnedRunResult res;
		uint64		base;
		int			first_new;

		if (!dirty[g])
		{
			if (nl >= lcap)
			{
				lcap *= 2;
				seps = repalloc_huge(seps, sizeof(uint64) * lcap);
				blknos = repalloc_huge(blknos, sizeof(BlockNumber) * lcap);
				nsorted = repalloc_huge(nsorted, sizeof(uint16) * lcap);
				isnew = repalloc_huge(isnew, sizeof(bool) * lcap);
			}
			seps[nl] = c->seps[g];
			blknos[nl] = c->blknos[g];
			nsorted[nl] = c->nsorted[g];
			isnew[nl] = false;
			npos += c->nsorted[g];
			nl++;
			g++;
			continue;
		}

		/* a run of dirty leaves [a, b] with clean borders (no key spans one) */
		a = g;
		b = g;
		for (;;)
		{
			while (b + 1 < L && dirty[b + 1])
				b++;
			if (b + 1 < L && info[b].has_sorted && info[b].last_sorted >= c->seps[b + 1])
			{
				b++;
				dirty[b] = true;
				continue;
			}
			break;
		}
		while (a > 0 && info[a - 1].has_sorted && info[a - 1].last_sorted >= c->seps[a])
		{
			/* take back the clean leaf already kept */
			a--;
			dirty[a] = true;
			nl--;
			npos -= nsorted[nl];
		}
		local_any = local_any || !full;

		/* the clean region before this run keeps its segments */
		if (region_open && a > 0)
			emit_region(c, region_x0, true, c->seps[a], region_lb, region_shift,
						&segs, &nseg, &segcap);
		else if (region_open && a == 0 && nseg > 0)
			nseg = 0;			/* never: nothing emitted before leaf 0 */
		region_open = false;

		/* rewrite the run */
		base = npos;
		first_new = nl;
		/*
		 * Leaves rewritten by a local retrain received inserts before and
		 * will again: leave them more room (as a btree split does), so a
		 * leaf overflows after many more inserts and is rewritten that much
		 * less often.  A whole rewrite packs at the fillfactor, and so does
		 * a run that ends with the last leaf (ascending keys only ever
		 * append: the leaves they left behind stay as written).
		 */
		w = learned_writer_begin(index, newgen, epsilon,
								 (full || b == L - 1) ? P :
								 Max(1, P * LEARNED_LOCAL_FILL / 100),
								 base, c->seps[a],
								 retrain_sink, &rs);
		for (int x = a; x <= b; x++)
		{
			int			n;

			CHECK_FOR_INTERRUPTS();
			n = learned_collect_group(index, c, x, 0, PG_UINT64_MAX, false,
									  &items, &itemcap, NULL, NULL);
			{
				/* extra entries of this leaf's key range, merged in order */
				int			xe = xi;
				int			i = 0;

				while (xe < nextra &&
					   (x + 1 >= L || extra[xe].key < c->seps[x + 1]))
					xe++;
				while (i < n || xi < xe)
				{
					const li_item *it;
					ItemPointerData tid;

					if (xi < xe && (i >= n || extra[xi].key < items[i].key))
						it = &extra[xi++];
					else
						it = &items[i++];
					tid.ip_blkid.bi_hi = it->tid[0];
					tid.ip_blkid.bi_lo = it->tid[1];
					tid.ip_posid = it->tid[2];
					learned_writer_add(w, it->key, &tid);
				}
			}
			blocklist_add(&oldpages, &noldpages, &oldcap, c->blknos[x]);
			{
				/* the chain as it is now: inserts may have linked pages since */
				Buffer		lbuf = ReadBuffer(index, c->blknos[x]);

				LockBuffer(lbuf, BUFFER_LOCK_SHARE);
				blk = LearnedPageGetOpaque(BufferGetPage(lbuf))->next;
				UnlockReleaseBuffer(lbuf);
			}
			for (; blk != InvalidBlockNumber;)
			{
				Buffer		dbuf = ReadBuffer(index, blk);

				LockBuffer(dbuf, BUFFER_LOCK_SHARE);
				blocklist_add(&oldpages, &noldpages, &oldcap, blk);
				blk = LearnedPageGetOpaque(BufferGetPage(dbuf))->next;
				UnlockReleaseBuffer(dbuf);
			}
		}
		learned_writer_finish(w, b == L - 1, &res);

		for (int i = 0; i < res.nleaf; i++)
		{
			if (nl >= lcap)
			{
				lcap *= 2;
				seps = repalloc_huge(seps, sizeof(uint64) * lcap);
				blknos = repalloc_huge(blknos, sizeof(BlockNumber) * lcap);
				nsorted = repalloc_huge(nsorted, sizeof(uint16) * lcap);
				isnew = repalloc_huge(isnew, sizeof(bool) * lcap);
			}
			seps[nl] = res.seps[i];
			blknos[nl] = res.blknos[i];
			nsorted[nl] = res.nsorted[i];
			isnew[nl] = true;
			npos += res.nsorted[i];
			nl++;
		}
		for (int i = 0; i < res.nseg; i++)
		{
			/* a gap point past the run belongs to the next region */
			if (b + 1 < L && res.segs[i].first_key >= c->seps[b + 1])
				break;
			if (nseg >= segcap)
			{
				segcap *= 2;
				segs = repalloc_huge(segs, sizeof(li_segment) * segcap);
			}
			segs[nseg++] = res.segs[i];
		}
		(void) first_new;

		/* the next clean region starts at old leaf b + 1, now leaf nl */
		if (b + 1 < L)
		{
			region_open = true;
			region_x0 = c->seps[b + 1];
			region_lb = c->starts[b + 1];
			region_shift = (int64) npos - (int64) c->starts[b + 1];
		}
		g = b + 1;
	}
	if (region_open)
		emit_region(c, region_x0, false, 0, region_lb, region_shift,
					&segs, &nseg, &segcap);

	/* the new metapage */
	newmeta = meta;
	newmeta.generation = newgen;
	newmeta.next_generation = newgen + 1;
	newmeta.epsilon = epsilon;
	newmeta.per_page = P;
	newmeta.nleaf = nl;
	newmeta.nsegments = nseg;
	newmeta.nkeys = npos;
	newmeta.model_head = learned_write_model(segs, nseg, seps, blknos, nsorted, nl,
											 newgen, retrain_sink, &rs,
											 &newmeta.model_bytes);
	newmeta.retraining = 0;
	newmeta.sweep_needed = 1;
	newmeta.last_retrain = GetCurrentTimestamp();
	newmeta.nretrains = meta.nretrains + 1;
	if (!full)
		newmeta.nlocal = meta.nlocal + 1;

	/* exact error over the rewritten leaves; kept leaves keep their bound */
	maxerr = full ? 0.0 : meta.max_error;
	for (int g = 0; g < nl; g++)
	{
		int			h = g;

		if (!isnew[g])
			continue;
		while (h + 1 < nl && isnew[h + 1])
			h++;
		maxerr = Max(maxerr, learned_measure_error(index, newgen, segs, nseg,
												   newmeta.nkeys, blknos, nsorted, g, h + 1));
		g = h;
	}
	newmeta.max_error = maxerr;
	newmeta.radius = Max((uint32) epsilon, (uint32) ceil(maxerr));
	if (!full)
		newmeta.radius = Max(newmeta.radius, meta.radius);

	/* the switch: one WAL record */
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	{
		Page		mp = GenericXLogRegisterBuffer(state, metabuf, 0);

		newmeta.null_head = LearnedPageGetMeta(mp)->null_head;

		/*
		 * Leaves that overflowed while we read the leaves' state, before
		 * our flag stopped new batches, may be ones we kept: keep their
		 * count (an overestimate at worst: the next retrain re-reads every
		 * leaf), or the threshold would not see them again.
		 */
		newmeta.ndirty = LearnedPageGetMeta(mp)->ndirty > meta.ndirty ?
			LearnedPageGetMeta(mp)->ndirty - meta.ndirty : 0;
		memcpy(LearnedPageGetMeta(mp), &newmeta, sizeof(newmeta));
		LearnedPageGetOpaque(mp)->generation = newgen;
	}
	GenericXLogFinish(state);
	/* from here on, `extra` is in the index (the caller's buffer forgets it) */
	if (extra_written)
		*extra_written = true;
	UnlockReleaseBuffer(metabuf);

	/* old model pages are garbage too */
	for (blk = meta.model_head; blk != InvalidBlockNumber;)
	{
		Buffer		mbuf = ReadBuffer(index, blk);

		LockBuffer(mbuf, BUFFER_LOCK_SHARE);
		blocklist_add(&oldpages, &noldpages, &oldcap, blk);
		blk = LearnedPageGetOpaque(BufferGetPage(mbuf))->next;
		UnlockReleaseBuffer(mbuf);
	}

	learned_cache_release(c);
	if (no_old_readers(index, newgen - 1))
	{
		mark_free_pages(index, oldpages, noldpages, newgen);
		set_recycled(index, newgen - 1);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
	(void) local_any;
	return true;
}

/*
 * Recycle every page the current structure does not reference (pages of
 * old models whose readers are gone, orphans of a crashed retrain or of a
 * crashed page allocation).  Needs no scan running (checked, never waited
 * for); inserts are excluded by the retrain lock.
 */
static void
sweep_locked(Relation index)
{
	LearnedMetaPageData meta;
	LearnedCache *c;
	BlockNumber nblocks,
				blk;
	bool	   *reach;
	BlockNumber *freelist = NULL;
	int			nfree = 0,
				freecap = 0;

	learned_read_meta(index, &meta);
	if (!meta.sweep_needed)
		return;
	c = learned_cache_acquire(index, &meta);
	nblocks = RelationGetNumberOfBlocks(index);
	reach = palloc0(sizeof(bool) * nblocks);
	reach[LEARNED_METAPAGE_BLKNO] = true;

#define REACH(b) do { if ((b) < nblocks) reach[(b)] = true; } while (0)
	for (blk = meta.model_head; blk != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBuffer(index, blk);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		REACH(blk);
		blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	for (blk = meta.null_head; blk != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBuffer(index, blk);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		REACH(blk);
		blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	for (uint32 g = 0; g < meta.nleaf; g++)
	{
		CHECK_FOR_INTERRUPTS();
		for (blk = c->blknos[g]; blk != InvalidBlockNumber;)
		{
			Buffer		buf = ReadBuffer(index, blk);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			REACH(blk);
			blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
			UnlockReleaseBuffer(buf);
		}
	}
#undef REACH
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
				LearnedPageGetOpaque(page)->page_type == LI_PAGE_FREE;
			UnlockReleaseBuffer(buf);
			if (isfree)
				RecordFreeIndexPage(index, blk);
			else
				blocklist_add(&freelist, &nfree, &freecap, blk);
		}
		mark_free_pages(index, freelist, nfree, meta.generation);
		set_recycled(index, meta.generation - 1);
	}
	pfree(reach);
	if (freelist)
		pfree(freelist);
}

/* set or clear meta->retraining; setting it waits for running insert batches */
static void
set_retraining(Relation index, uint32 value)
{
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	GenericXLogState *state;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	LearnedPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0))->retraining = value;
	GenericXLogFinish(state);
	LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	if (value)
	{
		LockBufferForCleanup(metabuf);
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	}
	ReleaseBuffer(metabuf);
}

/*
 * The sweep computes which pages are reachable, so no insert batch may
 * link a page meanwhile: like a retrain, it sets the retraining flag and
 * waits for running batches (bulk deletes are excluded by the lock).
 */
void
learned_sweep(Relation index)
{
	LearnedMetaPageData meta;

	learned_lock_structure(index, LEARNED_LOCK_RETRAIN);
	learned_read_meta(index, &meta);
	if (meta.sweep_needed)
	{
		set_retraining(index, 1);
		sweep_locked(index);
		set_retraining(index, 0);
	}
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
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
			 LearnedPageGetOpaque(page)->page_type == LI_PAGE_FREE))
			nfree++;
		UnlockReleaseBuffer(buf);
		vacuum_delay_point();
	}
	return nfree;
}

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

		if (learned_retrain(index, LI_RETRAIN_PENDING, !IsAutoVacuumWorkerProcess()))
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
