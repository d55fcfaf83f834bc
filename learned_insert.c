/*
 * learned_insert.c -- aminsert and the backend-local insert buffer.
 *
 * The model is never refitted here.  aminsert appends (key, TID) to a
 * buffer in this backend's transaction memory; the buffer is written to the
 * index in one batch: sorted by key, split by leaf, and each leaf receives
 * all its entries with one WAL record per page touched (its free tail
 * first, then its delta chain).  A flush happens
 *   - before this transaction commits or prepares (XACT_EVENT_PRE_COMMIT),
 *     so no committed row is ever missing from the index;
 *   - before the next statement of this backend starts (ExecutorStart and
 *     ProcessUtility hooks): the statement, and the parallel workers it may
 *     start, see the transaction's own rows; a TRUNCATE or REINDEX never
 *     meets buffered entries of the files it replaces;
 *   - before this backend scans, vacuums, retrains or inspects the index;
 *   - when the buffer reaches learned_index.insert_buffer_size.
 *
 * The invariant (docs/design.md, "The insert buffer and the invariant"):
 * an entry leaves the buffer only once it is in the index, or once its
 * heap tuple is dead for a reason that also kills the entry's purpose (its
 * subtransaction or transaction aborted); and an entry whose heap tuple
 * can die while the transaction goes on (a speculative insertion of
 * INSERT ... ON CONFLICT) is never buffered, so VACUUM always finds it in
 * the index before it can recycle the TID.
 *   - Subtransactions: the buffer is in arrival order and each open
 *     subtransaction remembers how long each buffer was when it began; its
 *     abort cuts the buffers back to that length.  A flush writes the part
 *     of each subtransaction level separately (the buffer is sorted range
 *     by range) and keeps count of what it wrote, so a flush that fails
 *     part-way -- cancel, lock timeout, out of disk -- removes from the
 *     buffer exactly the entries that reached the index and keeps the
 *     others, each in its level's range: the abort that follows drops only
 *     the aborted level's entries.
 *   - ON CONFLICT: while a statement with ON CONFLICT runs, aminsert writes
 *     each entry at once, before the executor can super-delete the tuple.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/relation.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "commands/defrem.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "catalog/pg_index.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "tcop/utility.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "learned.h"

int			learned_insert_buffer_kb = 65536;

/* one index's buffered entries, in arrival order */
typedef struct LearnedPending
{
	struct LearnedPending *next;
	Oid			indexoid;
	LearnedRelFile node;
	li_item    *items;			/* isnull marks a NULL key */
	int			n;
	int			cap;
} LearnedPending;

/* lives in TopTransactionContext; reset at transaction end */
static LearnedPending *pending_list = NULL;

/*
 * For each open subtransaction that began with entries buffered, how many
 * entries each buffer held then (entries beyond are dropped if it aborts).
 * A subtransaction without a mark began with every buffer empty.  A flush
 * removes what it wrote from a buffer and moves the marks down with it.
 */
typedef struct SubxactMark
{
	struct SubxactMark *next;	/* enclosing subtransaction */
	SubTransactionId subid;
	int			nbufs;
	struct
	{
		Oid			oid;
		int			len;
	}			bufs[FLEXIBLE_ARRAY_MEMBER];
} SubxactMark;

static SubxactMark *subxact_marks = NULL;

/*
 * Statements with ON CONFLICT that are running (their QueryDesc), each with
 * the resource owner that was current when it started, so that an error
 * that ends the statement also ends its entry.  While one runs, inserts
 * are written through.
 */
typedef struct SpecStatement
{
	struct SpecStatement *next;
	QueryDesc  *query;
	ResourceOwner owner;
} SpecStatement;

static SpecStatement *spec_statements = NULL;

/*
 * The library was loaded inside a transaction, maybe in the middle of a
 * statement whose start our ExecutorStart hook did not see (the first use
 * of the access method loads it): for the rest of that transaction we do
 * not know whether an ON CONFLICT statement runs, so inserts write through.
 */
static bool loaded_mid_transaction = false;

/* what a flush has written so far (for a flush that fails part-way) */
typedef struct FlushProgress
{
	int			nnull;			/* NULL entries, moved to the batch's end */
	int			nonnull_done;	/* sorted non-null entries written, in order */
	int			null_done;		/* NULL entries written, in order */
} FlushProgress;

/*
 * Progress of the flush under way: static, not a local, because the error
 * path reads it after a longjmp (flushes never nest).
 */
static FlushProgress flush_progress;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* ------------------------------------------------------------------
 * Writing a batch into the index
 * ------------------------------------------------------------------ */

/*
 * Append items[0..k) at the end of the entries of an exclusively locked
 * leaf, delta or NULL page, with one compact WAL record (see
 * learned_append_logged).
 */
static void
append_items(Relation index, Buffer buf, const li_item *items, int k)
{
	uint64		keys[LEARNED_NULL_CAP];
	ItemPointerData tids[LEARNED_NULL_CAP];

	Assert(k <= LEARNED_NULL_CAP);
	for (int i = 0; i < k; i++)
	{
		keys[i] = items[i].key;
		learned_item_tid(&items[i], &tids[i]);
	}
	learned_append_logged(index, buf, keys, tids, k);
}

/*
 * Append items[0..k) to the exclusively locked leaf in buf (free tail, then
 * delta chain), in order, adding to *written as each WAL record is done.
 * Returns true if the leaf got its first delta page (it "overflowed");
 * *chainlen is the length of its delta chain after.  The leaf stays locked.
 */
bool
learned_insert_group_locked(Relation index, uint32 generation, Buffer buf,
							li_item *items, int k, int *chainlen, int *written)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	BlockNumber head;
	GenericXLogState *state;
	int			done = 0;
	bool		overflowed;
	int			chain = 0;
	LearnedEntries tail;

	/* the leaf's own free tail (unsorted, after its sorted entries) */
	learned_page_entries(page, &tail);
	if (op->nitems < tail.base + tail.cap)
	{
		int			take = Min(tail.base + tail.cap - op->nitems, k);

		append_items(index, buf, items, take);
		done = take;
		*written += take;
	}
	*chainlen = 0;
	if (done == k)
		return false;

	/* the head delta page */
	head = op->next;
	overflowed = (head == InvalidBlockNumber);
	if (head != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBuffer(index, head);

		LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
		learned_check_page(index, BufferGetPage(dbuf), head, LEARNED_PAGE_DELTA,
						   generation);
		chain = LearnedPageGetOpaque(BufferGetPage(dbuf))->chainlen;
		if (LearnedPageGetOpaque(BufferGetPage(dbuf))->nitems < LEARNED_LEAF_CAP)
		{
			int			take = Min(LEARNED_LEAF_CAP - LearnedPageGetOpaque(BufferGetPage(dbuf))->nitems,
								   k - done);

			append_items(index, dbuf, items + done, take);
			done += take;
			*written += take;
		}
		UnlockReleaseBuffer(dbuf);
	}

	/*
	 * New delta pages at the head of the chain: each is linked empty, with
	 * pd_lower at the start of its entry area, so that its full image is
	 * the header and special space (the rest is the page's hole), then
	 * filled by an append record, which moves pd_lower to the end of the
	 * entry area.  (An 8 kB image per new delta page was a quarter of the
	 * index's WAL under single-row inserts.)
	 */
	while (done < k)
	{
		Buffer		nbuf = learned_new_buffer(index);
		Page		npage;
		LearnedPageOpaque nop;
		int			take = Min(LEARNED_LEAF_CAP, k - done);

		state = GenericXLogStart(index);
		npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		learned_init_page(npage, LEARNED_PAGE_DELTA, generation);
		((PageHeader) npage)->pd_lower = LEARNED_ENTRY_OFF;
		nop = LearnedPageGetOpaque(npage);
		nop->next = LearnedPageGetOpaque(page)->next;
		nop->chainlen = (uint16) Min(chain + 1, PG_UINT16_MAX);
		chain = nop->chainlen;
		LearnedPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		append_items(index, nbuf, items + done, take);
		*written += take;
		UnlockReleaseBuffer(nbuf);
		done += take;
	}
	*chainlen = chain;
	return overflowed;
}

/*
 * Whether the locked leaf in buf, reached through a model of `generation`,
 * is frozen by a running retrain (LearnedLeafFrozenBy): then the caller
 * must not append to it (nor trust it as the place of its key), but wait
 * for the retrain -- the structure lock -- and go on with the structure it
 * switched to.  A mark is stale when the caller holds the structure lock
 * (heavy: no retrain runs), or when it is not newer than the model: a
 * running retrain's generation is newer than every model in use, and a
 * retrain that switched left its marks only on leaves its generation and
 * later ones no longer reach.  So the retrain that set a stale mark on a
 * leaf we reached failed before its switch, and the leaf is current; with
 * the leaf locked exclusively, the caller clears the mark.
 */
bool
learned_leaf_frozen(Relation index, Buffer buf, uint32 generation, bool heavy,
					bool exclusive)
{
	uint32		mark = LearnedLeafFrozenBy(BufferGetPage(buf));

	if (mark == 0)
		return false;
	if (!heavy && mark > generation)
		return true;
	if (exclusive)
		learned_leaf_set_mark(index, buf, 0);
	return false;
}

/* set the frozen mark of the exclusively locked leaf in buf, WAL-logged */
void
learned_leaf_set_mark(Relation index, Buffer buf, uint32 mark)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, buf, 0);

	LearnedLeafFrozenBy(page) = mark;
	GenericXLogFinish(state);
}

/*
 * The same for leaf g of model c, which it locks.  Returns 1 if the leaf
 * overflowed, 0 if not, -1 (nothing written) if it is frozen by a running
 * retrain (learned_leaf_frozen).
 */
static int
insert_group(Relation index, LearnedCache *c, int g, li_item *items, int k,
			 int *chainlen, int *written, bool heavy)
{
	Buffer		buf = ReadBuffer(index, c->blknos[g]);
	bool		overflowed;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	learned_check_page(index, BufferGetPage(buf), c->blknos[g], LEARNED_PAGE_LEAF,
					   c->meta.generation);
	if (learned_leaf_frozen(index, buf, c->meta.generation, heavy, true))
	{
		UnlockReleaseBuffer(buf);
		return -1;
	}
	overflowed = learned_insert_group_locked(index, c->meta.generation, buf, items,
											 k, chainlen, written);
	UnlockReleaseBuffer(buf);
	return overflowed ? 1 : 0;
}

/*
 * Append NULL entries to the NULL chain, in order, counting them in
 * *written; the caller holds the metapage (metabuf) exclusively locked.
 */
void
learned_insert_nulls_locked(Relation index, Buffer metabuf, uint32 generation,
							li_item *items, int k, int *written)
{
	GenericXLogState *state;
	int			done = 0;

	while (done < k)
	{
		BlockNumber head = LearnedPageGetMeta(BufferGetPage(metabuf))->null_head;

		if (head != InvalidBlockNumber)
		{
			Buffer		buf = ReadBuffer(index, head);

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			learned_check_page(index, BufferGetPage(buf), head, LEARNED_PAGE_NULL, generation);
			if (LearnedPageGetOpaque(BufferGetPage(buf))->nitems < LEARNED_NULL_CAP)
			{
				int			take = Min(LEARNED_NULL_CAP - LearnedPageGetOpaque(BufferGetPage(buf))->nitems,
									   k - done);

				append_items(index, buf, items + done, take);
				done += take;
				*written += take;
			}
			UnlockReleaseBuffer(buf);
			if (done == k)
				break;
		}

		/* a new head page */
		{
			Buffer		nbuf = learned_new_buffer(index);
			Page		npage,
						mpage;
			LearnedPageOpaque op;
			int			take = Min(LEARNED_NULL_CAP, k - done);

			state = GenericXLogStart(index);
			npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
			mpage = GenericXLogRegisterBuffer(state, metabuf, 0);
			learned_init_page(npage, LEARNED_PAGE_NULL, generation);
			op = LearnedPageGetOpaque(npage);
			op->next = head;
			for (int i = 0; i < take; i++)
				learned_item_tid(&items[done + i], &LearnedNullTids(npage)[op->nitems++]);
			LearnedPageGetMeta(mpage)->null_head = BufferGetBlockNumber(nbuf);
			GenericXLogFinish(state);
			*written += take;
			UnlockReleaseBuffer(nbuf);
			done += take;
		}
	}
}

/* append NULL entries to the NULL chain (locks the metapage) */
static void
insert_nulls(Relation index, uint32 generation, li_item *items, int k,
			 int *written)
{
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	learned_insert_nulls_locked(index, metabuf, generation, items, k, written);
	UnlockReleaseBuffer(metabuf);
}

/* move the NULL entries (isnull) to the end of items[0..n); returns their count */
static int
partition_nulls(li_item *items, int n)
{
	int			nnull = 0;

	for (int i = 0; i < n - nnull;)
	{
		if (items[i].isnull)
		{
			li_item		t = items[i];

			items[i] = items[n - nnull - 1];
			items[n - nnull - 1] = t;
			nnull++;
		}
		else
			i++;
	}
	return nnull;
}

/* the end of leaf g's share of the sorted items[i..n) (i is in it) */
static int
leaf_share_end(LearnedCache *c, int g, const li_item *items, int i, int n)
{
	int			j = i + 1;

	if (g + 1 >= (int) c->meta.nleaf)
		return n;
	while (j < n && items[j].key < c->seps[g + 1])
		j++;
	return j;
}

/*
 * Would appending the sorted non-null items[0..n) overflow most of the
 * leaves it touches, and enough of them to cross the retrain threshold,
 * or give one leaf a delta chain long enough to trigger a retrain
 * (ascending keys)?  Then the retrain that would follow rewrites those
 * leaves anyway, after the append has given each delta pages: merging the
 * batch into that retrain writes each page once and allocates none.  (Each
 * touched leaf's free tail is read under a share lock: an estimate, as
 * other batches may append meanwhile.)
 */
static bool
batch_overflows_most(Relation index, const LearnedMetaPageData *meta,
					 const li_item *items, int n, double threshold)
{
	LearnedCache *c = learned_cache_acquire(index, meta);
	int			touched = 0;
	int			overflow = 0;
	int			free;
	bool		long_chain = false;

	for (int i = 0; i < n;)
	{
		int			g = learned_leaf_for_insert(index, c, items[i].key);
		int			j = leaf_share_end(c, g, items, i, n);
		Buffer		buf;
		Page		page;
		LearnedEntries tail;

		buf = ReadBuffer(index, c->blknos[g]);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, c->blknos[g], LEARNED_PAGE_LEAF, c->meta.generation);
		learned_page_entries(page, &tail);
		touched++;
		free = (int) (tail.base + tail.cap) - (int) LearnedPageGetOpaque(page)->nitems;
		if (LearnedPageGetOpaque(page)->next == InvalidBlockNumber && j - i > free)
			overflow++;
		/* a share that fills a long delta chain (ascending keys) */
		if (j - i > free + LEARNED_MAX_DELTA_CHAIN * LEARNED_LEAF_CAP)
			long_chain = true;
		UnlockReleaseBuffer(buf);
		i = j;
		CHECK_FOR_INTERRUPTS();
	}
	learned_cache_release(c);
	return long_chain ||
		(overflow * 2 >= touched &&
		 learned_over_threshold(meta->ndirty + overflow, meta->nleaf, threshold));
}

/*
 * A batch of at least a tenth of the index, or one that would overflow
 * most of the leaves it touches (batch_overflows_most), with the retrain
 * threshold enabled, is merged into a retrain of the leaves it falls into (all of
 * them for random keys, the last one for ascending keys), since spreading
 * it over delta pages would overflow those leaves and trigger that same
 * retrain right after: pages are then written once.  The structure lock is
 * only tried, never waited for (a VACUUM may hold it while this backend
 * has a scan open): if busy, the batch is appended instead.  Returns true
 * if the sorted non-null items[0..n) are in the index.
 */
static bool
try_bulk_merge(Relation index, li_item *items, int n, double threshold,
			   FlushProgress *prog)
{
	LearnedMetaPageData meta;
	Buffer		metapin;
	bool		heavy;
	bool		merge;

	if (threshold <= 0 || n < 10000)
		return false;
	/*
	 * The metapage pinned while the model and leaves are read, as for an
	 * append: a retrain does not recycle them under us.
	 */
	metapin = learned_pin_meta_for_batch(index, &meta, &heavy);
	merge = (double) n >= LEARNED_BULK_MERGE_FRACTION * (double) meta.nkeys ||
		batch_overflows_most(index, &meta, items, n, threshold);
	ReleaseBuffer(metapin);
	if (heavy)
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
	if (!merge)
		return false;
	/*
	 * prog (static memory for a flush) says "all written" from the metapage
	 * switch on, even if the retrain fails after it (recycling pages can be
	 * cancelled): the caller's error path reads it.
	 */
	learned_retrain_merge(index, LEARNED_RETRAIN_OVERFLOW, false, items, n,
						  &prog->nonnull_done, INT_MAX);
	return prog->nonnull_done == n;
}

/*
 * Pin the metapage for a batch that writes without heavyweight locks.  A
 * retrain first sets meta->retraining, then waits for a cleanup lock on the
 * metapage, i.e. until every batch that saw the flag clear has finished.  A
 * batch that sees the flag waits for the retrain on the structure lock; if
 * it gets that lock at once, the flag is stale (a retrain failed) and the
 * batch proceeds holding it (*heavy).
 */
Buffer
learned_pin_meta_for_batch(Relation index, LearnedMetaPageData *meta, bool *heavy)
{
	Buffer		metapin;

	*heavy = false;
	for (;;)
	{
		metapin = learned_read_meta_pinned(index, meta);
		if (!meta->retraining)
			return metapin;
		ReleaseBuffer(metapin);
		if (learned_conditional_lock_structure(index, LEARNED_LOCK_INSERT))
		{
			/* no retrain or sweep runs: the flag is stale, clear it */
			*heavy = true;
			learned_set_retraining(index, 0);
			return learned_read_meta_pinned(index, meta);
		}
		learned_lock_structure(index, LEARNED_LOCK_INSERT);
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
	}
}

/*
 * A batch met a frozen leaf (it released its metapage pin and model): wait
 * for the retrain by taking the structure lock, which the batch then holds
 * to its end (*heavy), and pin the metapage again (the current structure).
 */
Buffer
learned_wait_for_retrain(Relation index, LearnedMetaPageData *meta, bool *heavy)
{
	/* (holding the lock, every mark is stale: nobody waits twice) */
	Assert(!*heavy);
	learned_lock_structure(index, LEARNED_LOCK_INSERT);
	*heavy = true;
	return learned_read_meta_pinned(index, meta);
}

/* add newly overflowed leaves to meta->ndirty; returns the new count */
uint32
learned_add_dirty_leaves(Relation index, int newdirty)
{
	LearnedMetaUpdate u;
	LearnedMetaPage m = learned_meta_update_begin(index, &u);
	uint32		ndirty;

	m->ndirty += newdirty;
	ndirty = m->ndirty;
	learned_meta_update_finish(&u, false);
	return ndirty;
}

/*
 * Insert a batch of items (any order; isnull marks NULL) into the index.
 * The items array is reordered: NULLs to the end (prog->nnull of them),
 * the others sorted; prog counts, in that order, what has been written, so
 * that a caller whose batch fails part-way knows which entries are in.
 */
static void
insert_batch(Relation index, li_item *items, int n, FlushProgress *prog)
{
	LearnedMetaPageData meta;
	LearnedCache *c;
	int			nnull;
	int			i;
	int			newdirty = 0;
	int			chainlen = 0;
	int			maxchain = 0;
	uint64		chain_key = 0;	/* a key of the leaf with the longest chain */
	double		threshold;
	Buffer		metapin;
	bool		heavy;

	memset(prog, 0, sizeof(*prog));
	nnull = prog->nnull = partition_nulls(items, n);
	li_sort_items(items, n - nnull);
	threshold = learned_get_retrain_threshold(index);

	if (try_bulk_merge(index, items, n - nnull, threshold, prog))
	{
		if (nnull > 0)
		{
			learned_read_meta(index, &meta);
			insert_nulls(index, meta.generation, items + (n - nnull), nnull,
						 &prog->null_done);
		}
		return;
	}

	metapin = learned_pin_meta_for_batch(index, &meta, &heavy);
	c = learned_cache_acquire(index, &meta);
	/* (a bulk merge that ended early has written a prefix of the batch) */
	i = prog->nonnull_done;
	while (i < n - nnull)
	{
		int			g = learned_leaf_for_insert(index, c, items[i].key);
		int			j = leaf_share_end(c, g, items, i, n - nnull);
		int			r = insert_group(index, c, g, items + i, j - i, &chainlen,
									 &prog->nonnull_done, heavy);

		if (r < 0)
		{
			/* a retrain is rewriting that leaf: wait, go on with its result */
			learned_cache_release(c);
			ReleaseBuffer(metapin);
			metapin = learned_wait_for_retrain(index, &meta, &heavy);
			c = learned_cache_acquire(index, &meta);
			continue;
		}
		if (r > 0)
			newdirty++;
		Assert(prog->nonnull_done == j);
		if (chainlen > maxchain)
		{
			maxchain = chainlen;
			chain_key = items[i].key;
		}
		i = j;
		CHECK_FOR_INTERRUPTS();
		learned_fault("batch_after_group");
	}
	if (nnull > 0)
		insert_nulls(index, meta.generation, items + (n - nnull), nnull,
					 &prog->null_done);

	learned_cache_release(c);
	ReleaseBuffer(metapin);
	if (heavy)
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
	learned_after_append(index, &meta, newdirty, maxchain, chain_key);
}

/*
 * After appending (the metapage pin and locks released): count the leaves
 * that overflowed into meta->ndirty, and retrain past the threshold -- or
 * when a delta chain reached LEARNED_MAX_DELTA_CHAIN pages (ascending keys
 * all landing on the last leaf: lookups there would read every page of it;
 * chain_key, a key of that leaf, is where the retrain starts looking)
 * -- without ever waiting for the structure lock.
 */
void
learned_after_append(Relation index, const LearnedMetaPageData *meta,
					 int newdirty, int maxchain, uint64 chain_key)
{
	double		threshold = learned_get_retrain_threshold(index);
	bool		long_chain = (maxchain >= LEARNED_MAX_DELTA_CHAIN && threshold > 0);
	bool		retrain = long_chain;

	if (newdirty > 0 &&
		learned_over_threshold(learned_add_dirty_leaves(index, newdirty), meta->nleaf,
							   threshold))
		retrain = true;
	/* also when the threshold was lowered below the leaves already dirty */
	if (learned_over_threshold(meta->ndirty, meta->nleaf, threshold))
		retrain = true;
	/*
	 * The batch rewrites the leaves it overflowed, or a slice's worth if
	 * more (so single-row commits each take a bounded share of the work).
	 */
	if (retrain)
		learned_retrain_if_needed(index, threshold, long_chain, chain_key, meta->generation,
								  learned_retrain_slice_leaves > 0 ?
								  Max(learned_retrain_slice_leaves, newdirty) : INT_MAX);
}

/* ------------------------------------------------------------------
 * The buffer
 * ------------------------------------------------------------------ */

/* this transaction's buffer of an index (created on demand) */
static LearnedPending *
pending_find(Oid indexoid, bool create)
{
	LearnedPending *p;

	for (p = pending_list; p; p = p->next)
		if (p->indexoid == indexoid)
			return p;
	if (!create)
		return NULL;
	p = MemoryContextAllocZero(TopTransactionContext, sizeof(LearnedPending));
	p->indexoid = indexoid;
	p->next = pending_list;
	pending_list = p;
	return p;
}

/* the length subtransaction mark m saved for buffer p (0 if p is newer) */
static int *
mark_len(SubxactMark *m, LearnedPending *p)
{
	for (int i = 0; i < m->nbufs; i++)
		if (m->bufs[i].oid == p->indexoid)
			return &m->bufs[i].len;
	return NULL;
}

/*
 * The entries of buffer p that reached the index are removed: [0, s) (the
 * ranges written before the failing one), what prog says was written of
 * [s, e), nothing of [e, n).  The marks move down with the entries.
 */
static void
pending_forget_written(LearnedPending *p, int s, int e, const FlushProgress *prog)
{
	int			nn = (e - s) - prog->nnull;
	int			keep1 = nn - prog->nonnull_done;	/* unwritten non-null */
	int			keep2 = prog->nnull - prog->null_done;	/* unwritten NULLs */
	int			removed = s + prog->nonnull_done + prog->null_done;
	int			k = 0;

	memmove(p->items + k, p->items + s + prog->nonnull_done,
			sizeof(li_item) * keep1);
	k += keep1;
	memmove(p->items + k, p->items + s + nn + prog->null_done,
			sizeof(li_item) * keep2);
	k += keep2;
	memmove(p->items + k, p->items + e, sizeof(li_item) * (p->n - e));
	k += p->n - e;
	Assert(k == p->n - removed);
	p->n = k;
	for (SubxactMark *m = subxact_marks; m; m = m->next)
	{
		int		   *len = mark_len(m, p);

		if (len == NULL)
			continue;
		Assert(*len <= s || *len >= e);
		*len = (*len <= s) ? 0 : *len - removed;
	}
}

/* forget every entry of buffer p (written, or not to be written) */
static void
pending_forget_all(LearnedPending *p)
{
	pending_forget_written(p, p->n, p->n, &(FlushProgress) {0});
}

/* the range bounds of buffer p: 0, each distinct mark inside (0, n), n */
static int
pending_ranges(LearnedPending *p, int *bounds, int maxb)
{
	int			nb = 0;

	/* marks are innermost first, so their lengths never increase */
	bounds[nb++] = p->n;
	for (SubxactMark *m = subxact_marks; m; m = m->next)
	{
		int		   *len = mark_len(m, p);

		if (len && *len > 0 && *len < bounds[nb - 1] && nb < maxb - 1)
			bounds[nb++] = *len;
	}
	bounds[nb++] = 0;
	/* ascending */
	for (int i = 0; i < nb / 2; i++)
	{
		int			t = bounds[i];

		bounds[i] = bounds[nb - 1 - i];
		bounds[nb - 1 - i] = t;
	}
	return nb;
}

/* count open subtransaction marks (bounds needed for a flush) */
static int
count_marks(void)
{
	int			n = 0;

	for (SubxactMark *m = subxact_marks; m; m = m->next)
		n++;
	return n;
}

/*
 * Write buffer p into the index and empty it.  Each subtransaction level's
 * range is sorted and written on its own; if anything fails, the entries
 * already written are removed from the buffer and the rest stays, in its
 * level's range, before the error goes on (see the file header).
 */
static void
pending_flush(Relation index, LearnedPending *p)
{
	int			maxb = count_marks() + 2;
	int			bounds_local[16];
	int		   *bounds;
	int			nb;
	volatile int r = 0;

	if (p->n == 0)
		return;
	if (!LearnedRelFileEquals(p->node, LearnedRelFileOf(index)))
	{
		/* rebuilt since (REINDEX, TRUNCATE): the rows are in already */
		pending_forget_all(p);
		return;
	}
	bounds = maxb <= lengthof(bounds_local) ? bounds_local : palloc(sizeof(int) * maxb);
	nb = pending_ranges(p, bounds, maxb);
	PG_TRY();
	{
		for (r = 0; r + 1 < nb; r++)
			insert_batch(index, p->items + bounds[r], bounds[r + 1] - bounds[r],
						 &flush_progress);
	}
	PG_CATCH();
	{
		pending_forget_written(p, bounds[r], bounds[r + 1], &flush_progress);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pending_forget_all(p);
	Assert(p->n == 0);
	if (bounds != bounds_local)
		pfree(bounds);
}

/* Flush this backend's pending entries of one index (before reading it). */
void
learned_flush_pending(Relation index)
{
	LearnedPending *p = pending_find(RelationGetRelid(index), false);

	if (p && p->n > 0)
		pending_flush(index, p);
}

/* flush every buffer of this backend */
static void
flush_all_pending(void)
{
	/* (in parallel mode the top statement has flushed before it began) */
	if (!IsTransactionState() || IsParallelWorker() || IsInParallelMode())
		return;
	for (LearnedPending *p = pending_list; p; p = p->next)
	{
		Relation	index;

		if (p->n == 0)
			continue;
		/*
		 * Dropped in this transaction: nothing to do.  No lock to take:
		 * learned_insert locked the index to the transaction's end when
		 * this buffer got its first entry (under the subtransaction whose
		 * abort would have dropped the entries with the lock).
		 */
		index = try_relation_open(p->indexoid, NoLock);
		if (index == NULL)
		{
			pending_forget_all(p);
			continue;
		}
		if (index->rd_rel->relkind == RELKIND_INDEX &&
			index->rd_indam && index->rd_indam->ambuild == learned_build)
			pending_flush(index, p);
		else
			pending_forget_all(p);
		relation_close(index, NoLock);
	}
}

/* is any entry buffered? */
static bool
any_pending(void)
{
	for (LearnedPending *p = pending_list; p; p = p->next)
		if (p->n > 0)
			return true;
	return false;
}

/* flush before commit/prepare; forget everything at transaction end */
static void
learned_insert_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			flush_all_pending();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			pending_list = NULL;	/* freed with TopTransactionContext */
			subxact_marks = NULL;
			spec_statements = NULL;
			loaded_mid_transaction = false;
			break;
		default:
			break;
	}
}

/* a subtransaction starts: remember the buffers' lengths, if any is non-empty */
static void
subxact_start(SubTransactionId mySubid)
{
	SubxactMark *m;
	int			n = 0;
	int			i = 0;

	if (!any_pending())
		return;					/* no mark: every buffer was empty */
	for (LearnedPending *p = pending_list; p; p = p->next)
		n++;
	m = MemoryContextAlloc(TopTransactionContext,
						   offsetof(SubxactMark, bufs) + sizeof(m->bufs[0]) * n);
	m->subid = mySubid;
	m->nbufs = n;
	for (LearnedPending *p = pending_list; p; p = p->next, i++)
	{
		m->bufs[i].oid = p->indexoid;
		m->bufs[i].len = p->n;
	}
	m->next = subxact_marks;
	subxact_marks = m;
}

/* a subtransaction aborts: drop the entries buffered since it began */
static void
subxact_abort(SubTransactionId mySubid)
{
	SubxactMark *m = subxact_marks;
	bool		mine = (m != NULL && m->subid == mySubid);

	for (LearnedPending *p = pending_list; p; p = p->next)
	{
		int		   *len = mine ? mark_len(m, p) : NULL;

		/* no mark, or a buffer created since: everything is the subxact's */
		p->n = len ? Min(*len, p->n) : 0;
	}
	if (mine)
	{
		subxact_marks = m->next;
		pfree(m);
	}
}

/* subtransaction start/commit/abort: keep the marks in step */
static void
learned_insert_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg)
{
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			subxact_start(mySubid);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			subxact_abort(mySubid);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (subxact_marks && subxact_marks->subid == mySubid)
			{
				SubxactMark *m = subxact_marks;

				subxact_marks = m->next;
				pfree(m);
			}
			break;
		default:
			break;
	}
}

/* ------------------------------------------------------------------
 * Statements with ON CONFLICT (speculative insertions)
 * ------------------------------------------------------------------ */

/* the ModifyTable with ON CONFLICT in this plan tree, or NULL */
static ModifyTable *
plan_on_conflict(Plan *plan)
{
	ModifyTable *mt;

	if (plan == NULL)
		return NULL;
	if (IsA(plan, ModifyTable) &&
		((ModifyTable *) plan)->onConflictAction != ONCONFLICT_NONE)
		return (ModifyTable *) plan;
	mt = plan_on_conflict(plan->lefttree);
	return mt ? mt : plan_on_conflict(plan->righttree);
}

#if PG_VERSION_NUM < 180000
/* is index indexoid a unique index of access method amoid? */
static bool
is_unique_index_of_am(Oid indexoid, Oid amoid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	bool		match;

	if (!HeapTupleIsValid(tup))
		return false;
	match = ((Form_pg_class) GETSTRUCT(tup))->relam == amoid;
	ReleaseSysCache(tup);
	if (!match)
		return false;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		return false;
	match = ((Form_pg_index) GETSTRUCT(tup))->indisunique;
	ReleaseSysCache(tup);
	return match;
}

/*
 * PostgreSQL (15 to 17) accepts only btree unique indexes as ON CONFLICT
 * arbiters, and checks every unique index of the target table when the
 * statement has ON CONFLICT (BuildSpeculativeIndexInfo): with a unique
 * learned index there, the executor would fail with an internal error.
 * Say so clearly instead, before anything runs.
 */
static void
refuse_learned_arbiters(PlannedStmt *ps, ModifyTable *mt)
{
	Oid			amoid = get_index_am_oid("learned", true);
	ListCell   *lc;

	if (!OidIsValid(amoid))
		return;
	foreach(lc, mt->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);
		Relation	rel = relation_open(rte->relid, RowExclusiveLock);
		List	   *indexes = RelationGetIndexList(rel);
		ListCell   *li;

		foreach(li, indexes)
		{
			Oid			indexoid = lfirst_oid(li);

			if (is_unique_index_of_am(indexoid, amoid))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("INSERT ... ON CONFLICT is not supported on table \"%s\": its unique index \"%s\" is a learned index",
								RelationGetRelationName(rel), get_rel_name(indexoid)),
						 errdetail("PostgreSQL accepts only btree unique indexes as conflict arbiters."),
						 errhint("Enforce uniqueness with a btree unique index (a non-unique learned index can serve the lookups), or insert without ON CONFLICT.")));
		}
		list_free(indexes);
		relation_close(rel, NoLock);
	}
}
#endif

/* the statement's ModifyTable with ON CONFLICT (or a CTE's), or NULL */
static ModifyTable *
statement_on_conflict(PlannedStmt *ps)
{
	ListCell   *lc;
	ModifyTable *mt;

	if (ps == NULL || (ps->commandType != CMD_INSERT && !ps->hasModifyingCTE))
		return NULL;
	if ((mt = plan_on_conflict(ps->planTree)) != NULL)
		return mt;
	foreach(lc, ps->subplans)
		if ((mt = plan_on_conflict((Plan *) lfirst(lc))) != NULL)
			return mt;
	return NULL;
}

/* forget the ON CONFLICT statement `query` (or those of `owner`) */
static void
spec_forget(QueryDesc *query, ResourceOwner owner)
{
	SpecStatement **prev = &spec_statements;

	while (*prev)
	{
		SpecStatement *st = *prev;

		if ((query && st->query == query) || (owner && st->owner == owner))
		{
			*prev = st->next;
			pfree(st);
		}
		else
			prev = &st->next;
	}
}

/* a resource owner ends (error, end of portal): its statements are over */
static void
learned_insert_resource_release(ResourceReleasePhase phase, bool isCommit,
								bool isTopLevel, void *arg)
{
	if (phase == RESOURCE_RELEASE_BEFORE_LOCKS && spec_statements != NULL &&
		CurrentResourceOwner != NULL)
		spec_forget(NULL, CurrentResourceOwner);
}

/* flush before each statement (and before the parallel workers it starts) */
static void
learned_executor_start(QueryDesc *queryDesc, int eflags)
{
	ModifyTable *mt;

	if (pending_list && any_pending())
		flush_all_pending();
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && IsTransactionState() &&
		(mt = statement_on_conflict(queryDesc->plannedstmt)) != NULL)
	{
		SpecStatement *st;

#if PG_VERSION_NUM < 180000
		refuse_learned_arbiters(queryDesc->plannedstmt, mt);
#endif
		st = MemoryContextAlloc(TopTransactionContext, sizeof(SpecStatement));

		st->query = queryDesc;
		st->owner = CurrentResourceOwner;
		st->next = spec_statements;
		spec_statements = st;
	}
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* the end of an ON CONFLICT statement ends its write-through */
static void
learned_executor_end(QueryDesc *queryDesc)
{
	if (spec_statements)
		spec_forget(queryDesc, NULL);
	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/* flush before every utility statement but COMMIT/ROLLBACK-like ones */
static void
learned_process_utility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	/* COMMIT flushes in its pre-commit callback; ROLLBACK drops the buffer */
	if (pending_list && any_pending() &&
		!IsA(pstmt->utilityStmt, TransactionStmt))
		flush_all_pending();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* GUC, callbacks and hooks (from _PG_init) */
void
learned_insert_init(void)
{
	DefineCustomIntVariable("learned_index.insert_buffer_size",
							"Memory (kB) of the per-backend buffer of inserted index entries.",
							"Entries are written to learned indexes in batches: at commit, "
							"before the backend reads the index, or when the buffer is full. "
							"0 writes every entry at once.",
							&learned_insert_buffer_kb, 65536, 0, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	loaded_mid_transaction = IsTransactionState();
	RegisterXactCallback(learned_insert_xact_callback, NULL);
	RegisterSubXactCallback(learned_insert_subxact_callback, NULL);
	RegisterResourceReleaseCallback(learned_insert_resource_release, NULL);
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = learned_executor_start;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = learned_executor_end;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = learned_process_utility;
}

/* write one entry at once (no buffering) */
static void
insert_now(Relation index, li_item *it)
{
	FlushProgress prog;

	insert_batch(index, it, 1, &prog);
}

/*
 * aminsert: buffer the entry -- or write it at once when it cannot wait:
 * the buffer is off, no transaction, a parallel worker (its buffer would
 * not be flushed at its commit), or a statement with ON CONFLICT is running
 * (its speculative tuple may be killed before the transaction ends, and
 * VACUUM may then recycle the TID), or may be running (the library was
 * loaded during this transaction), or the index backs an exclusion
 * constraint (the executor's check scans the index for the entries of
 * concurrent inserters right after this).  A unique index never buffers.
 */
bool
learned_insert(Relation index, Datum *values, bool *isnull,
			   ItemPointer ht_ctid, Relation heapRel,
			   IndexUniqueCheck checkUnique,
			   bool indexUnchanged,
			   IndexInfo *indexInfo)
{
	li_item		it;
	LearnedPending *p;
	Size		limit;

	memset(&it, 0, sizeof(it));
	learned_item_set(&it, isnull[0] ? 0 :
					 learned_encode(learned_keykind_for_type(index->rd_opcintype[0]),
									values[0]),
					 ht_ctid);
	it.isnull = isnull[0] ? 1 : 0;

	/* a unique index checks and writes at once (learned_unique.c) */
	if (index->rd_index->indisunique)
		return learned_unique_insert(index, heapRel, &it, ht_ctid, checkUnique,
									 values, isnull);

	if (learned_insert_buffer_kb == 0 || !IsTransactionState() ||
		IsParallelWorker() || spec_statements != NULL || loaded_mid_transaction ||
		(indexInfo && indexInfo->ii_ExclusionOps != NULL))
	{
		insert_now(index, &it);
		return false;
	}

	p = pending_find(RelationGetRelid(index), true);
	if (p->n > 0 && !LearnedRelFileEquals(p->node, LearnedRelFileOf(index)))
		pending_forget_all(p);
	/*
	 * A buffer's first entry locks the index to the transaction's end: the
	 * executor's RowExclusiveLock ends with the statement (ExecCloseIndices),
	 * and DDL that only locks the index (ALTER INDEX ... SET TABLESPACE
	 * copies the file) must not slip in before the entries are written.
	 * Taken under the current subtransaction: if it aborts, its entries go
	 * with the lock; if it commits, the lock moves to the parent.  (Already
	 * held by the executor: no wait, a local count.)
	 */
	if (p->n == 0)
		LockRelationOid(RelationGetRelid(index), RowExclusiveLock);
	p->node = LearnedRelFileOf(index);
	if (p->n >= p->cap)
	{
		int			newcap = p->cap ? p->cap * 2 : 64;

		p->items = p->items ?
			repalloc_huge(p->items, sizeof(li_item) * (Size) newcap) :
			MemoryContextAllocHuge(TopTransactionContext, sizeof(li_item) * (Size) newcap);
		p->cap = newcap;
	}
	p->items[p->n++] = it;

	limit = (Size) learned_insert_buffer_kb * 1024 / sizeof(li_item);
	if ((Size) p->n >= limit)
		pending_flush(index, p);
	return false;
}
