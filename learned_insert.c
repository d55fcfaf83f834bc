/*
 * learned_insert.c -- aminsert and the backend-local insert buffer.
 *
 * The model is never refitted here.  aminsert only appends (key, TID) to a
 * buffer in this backend's transaction memory.  The buffer is flushed into
 * the index in one batch: sorted by key, split by leaf, and each leaf
 * receives all its entries with one WAL record per page touched (its free
 * tail first, then its delta chain).  A flush happens
 *   - before this transaction commits or prepares (XACT_EVENT_PRE_COMMIT),
 *     so no committed row is ever missing from the index;
 *   - before the next statement of this backend starts (ExecutorStart and
 *     ProcessUtility hooks): the statement, and the parallel workers it may
 *     start, see the transaction's own rows; a TRUNCATE or REINDEX never
 *     meets buffered entries of the files it replaces;
 *   - before this backend scans, vacuums, retrains or inspects the index;
 *   - when the buffer reaches learned_index.insert_buffer_size.
 * A statement is the unit of batching: INSERT ... SELECT or COPY of many
 * rows makes one batch.  Entries buffered in a subtransaction that aborts
 * are dropped (their heap tuples are dead and VACUUM may recycle their
 * TIDs before we would flush).
 * Other backends cannot see the buffered rows (they are uncommitted), so
 * deferring their index entries is invisible to them.  On abort the buffer
 * is simply dropped (its heap tuples are dead).  If the index got a new
 * relfilenode in the meantime (TRUNCATE, REINDEX), the buffer is dropped:
 * the rebuild already read the rows from the heap.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/relation.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "tcop/utility.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

int			learned_insert_buffer_kb = 65536;

typedef struct LearnedPending
{
	struct LearnedPending *next;
	Oid			indexoid;
	LearnedRelFile node;
	li_item    *items;			/* pad == 1 marks a NULL key */
	int			n;
	int			cap;
} LearnedPending;

/* lives in TopTransactionContext; reset at transaction end */
static LearnedPending *pending_list = NULL;

/*
 * For each open subtransaction, how many entries each buffer held when it
 * started (entries beyond are dropped if it aborts).  A flush empties a
 * buffer, so it clamps every saved length of that buffer to 0.
 */
typedef struct SubxactMark
{
	struct SubxactMark *next;	/* enclosing subtransaction */
	SubTransactionId subid;
	int			nbufs;
	Oid		   *oids;
	int		   *lens;
} SubxactMark;

static SubxactMark *subxact_marks = NULL;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* ------------------------------------------------------------------
 * Writing a batch into the index
 * ------------------------------------------------------------------ */

static inline void
tid_of(const li_item *it, ItemPointer tid)
{
	tid->ip_blkid.bi_hi = it->tid[0];
	tid->ip_blkid.bi_lo = it->tid[1];
	tid->ip_posid = it->tid[2];
}

/*
 * Append items[0..k) at the end of the entries of an exclusively locked
 * leaf, delta or NULL page, with one compact WAL record (see
 * learned_append_logged).
 */
static void
append_items(Relation index, Buffer buf, const li_item *items, int k)
{
	uint64		keys[LI_NULL_CAP];
	ItemPointerData tids[LI_NULL_CAP];

	Assert(k <= LI_NULL_CAP);
	for (int i = 0; i < k; i++)
	{
		keys[i] = items[i].key;
		tid_of(&items[i], &tids[i]);
	}
	learned_append_logged(index, buf, keys, tids, k);
}

/*
 * Append items[0..k) to leaf g (free tail, then delta chain).  Returns true
 * if the leaf got its first delta page (it "overflowed").
 */
static bool
insert_group(Relation index, LearnedCache *c, int g, li_item *items, int k,
			 int *chainlen)
{
	BlockNumber blkno = c->blknos[g];
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	LearnedPageOpaque op;
	BlockNumber head;
	GenericXLogState *state;
	int			done = 0;
	bool		overflowed;
	int			chain = 0;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, blkno, LI_PAGE_LEAF, c->meta.generation);
	op = LearnedPageGetOpaque(page);

	/* the leaf's own free tail (unsorted, after its sorted entries) */
	if (op->nitems < LI_LEAF_CAP)
	{
		int			take = Min(LI_LEAF_CAP - op->nitems, k);

		append_items(index, buf, items, take);
		done = take;
	}
	*chainlen = 0;
	if (done == k)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}

	/* the head delta page */
	head = op->next;
	overflowed = (head == InvalidBlockNumber);
	if (head != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBuffer(index, head);

		LockBuffer(dbuf, BUFFER_LOCK_EXCLUSIVE);
		learned_check_page(index, BufferGetPage(dbuf), head, LI_PAGE_DELTA,
						   c->meta.generation);
		/* a delta page's ndead field holds the length of the chain from it */
		chain = LearnedPageGetOpaque(BufferGetPage(dbuf))->ndead;
		if (LearnedPageGetOpaque(BufferGetPage(dbuf))->nitems < LI_LEAF_CAP)
		{
			int			take = Min(LI_LEAF_CAP - LearnedPageGetOpaque(BufferGetPage(dbuf))->nitems,
								   k - done);

			append_items(index, dbuf, items + done, take);
			done += take;
		}
		UnlockReleaseBuffer(dbuf);
	}

	/* new delta pages at the head of the chain */
	while (done < k)
	{
		Buffer		nbuf = learned_new_buffer(index);
		Page		npage;
		LearnedPageOpaque nop;
		int			take = Min(LI_LEAF_CAP, k - done);

		state = GenericXLogStart(index);
		npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		learned_init_page(npage, LI_PAGE_DELTA, c->meta.generation);
		nop = LearnedPageGetOpaque(npage);
		nop->next = LearnedPageGetOpaque(page)->next;
		for (int i = 0; i < take; i++)
		{
			LearnedPageKeys(npage)[i] = items[done + i].key;
			tid_of(&items[done + i], &LearnedPageTids(npage)[i]);
		}
		nop->nitems = take;
		nop->ndead = (uint16) Min(chain + 1, PG_UINT16_MAX);
		chain = nop->ndead;
		LearnedPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(nbuf);
		done += take;
	}
	UnlockReleaseBuffer(buf);
	*chainlen = chain;
	return overflowed;
}

/* append NULL entries to the NULL chain */
static void
insert_nulls(Relation index, uint32 generation, li_item *items, int k)
{
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	GenericXLogState *state;
	int			done = 0;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);

	while (done < k)
	{
		BlockNumber head = LearnedPageGetMeta(BufferGetPage(metabuf))->null_head;

		if (head != InvalidBlockNumber)
		{
			Buffer		buf = ReadBuffer(index, head);

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			learned_check_page(index, BufferGetPage(buf), head, LI_PAGE_NULL, generation);
			if (LearnedPageGetOpaque(BufferGetPage(buf))->nitems < LI_NULL_CAP)
			{
				int			take = Min(LI_NULL_CAP - LearnedPageGetOpaque(BufferGetPage(buf))->nitems,
									   k - done);

				append_items(index, buf, items + done, take);
				done += take;
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
			int			take = Min(LI_NULL_CAP, k - done);

			state = GenericXLogStart(index);
			npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
			mpage = GenericXLogRegisterBuffer(state, metabuf, 0);
			learned_init_page(npage, LI_PAGE_NULL, generation);
			op = LearnedPageGetOpaque(npage);
			op->next = head;
			for (int i = 0; i < take; i++)
				tid_of(&items[done + i], &LearnedNullTids(npage)[op->nitems++]);
			LearnedPageGetMeta(mpage)->null_head = BufferGetBlockNumber(nbuf);
			GenericXLogFinish(state);
			UnlockReleaseBuffer(nbuf);
			done += take;
		}
	}
	UnlockReleaseBuffer(metabuf);
}

/*
 * Insert a batch of items (any order; pad == 1 marks NULL) into the index.
 * The items array is reordered.
 */
static void
insert_batch(Relation index, li_item *items, int n)
{
	LearnedMetaPageData meta;
	LearnedCache *c;
	int			nnull = 0;
	int			i;
	int			newdirty = 0;
	int			chainlen = 0;
	uint32		ndirty = 0;
	double		threshold;
	bool		retrain = false;
	bool		long_chain = false;
	Buffer		metapin;
	bool		heavy = false;

	/* NULLs to the end */
	for (i = 0; i < n - nnull;)
	{
		if (items[i].pad == 1)
		{
			li_item		t = items[i];

			items[i] = items[n - nnull - 1];
			items[n - nnull - 1] = t;
			nnull++;
		}
		else
			i++;
	}
	li_sort_items(items, n - nnull);
	threshold = learned_get_retrain_threshold(index);

	/*
	 * Fast path without heavyweight locks: keep the metapage pinned while
	 * writing.  A retrain first sets meta->retraining, then waits for a
	 * cleanup lock on the metapage, i.e. until every batch that saw the flag
	 * clear has finished.  A batch that sees the flag waits for the retrain
	 * on the structure lock; if it gets that lock at once, the flag is stale
	 * (a retrain failed) and the batch proceeds holding it.
	 */
	for (;;)
	{
		metapin = learned_read_meta_pinned(index, &meta);
		if (!meta.retraining)
			break;
		ReleaseBuffer(metapin);
		if (learned_conditional_lock_structure(index, LEARNED_LOCK_INSERT))
		{
			heavy = true;
			metapin = learned_read_meta_pinned(index, &meta);
			break;
		}
		learned_lock_structure(index, LEARNED_LOCK_INSERT);
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);
	}
	/*
	 * A batch of at least a tenth of the index (and the retrain threshold
	 * enabled): merge it into a retrain of the leaves it falls into (all of
	 * them for random keys, the last one for ascending keys), since
	 * spreading it over delta pages would overflow those leaves and trigger
	 * that same retrain right after.  Pages are then written once.
	 */
	if (threshold > 0 && n - nnull >= 10000 &&
		(double) (n - nnull) >= LEARNED_BULK_MERGE_FRACTION * (double) meta.nkeys)
	{
		ReleaseBuffer(metapin);
		if (heavy)
			learned_unlock_structure(index, LEARNED_LOCK_INSERT);
		learned_retrain_merge(index, LI_RETRAIN_OVERFLOW, true, items, n - nnull);
		if (nnull > 0)
		{
			LearnedMetaPageData m2;

			learned_read_meta(index, &m2);
			insert_nulls(index, m2.generation, items + (n - nnull), nnull);
		}
		return;
	}

	c = learned_cache_acquire(index, &meta);

	i = 0;
	while (i < n - nnull)
	{
		int			g = learned_leaf_for_insert(c, items[i].key);
		int			j = i + 1;

		if (g + 1 < (int) c->meta.nleaf)
		{
			uint64		limit = c->seps[g + 1];

			while (j < n - nnull && items[j].key < limit)
				j++;
		}
		else
			j = n - nnull;
		if (insert_group(index, c, g, items + i, j - i, &chainlen))
			newdirty++;
		/* a long delta chain (e.g. ascending keys all landing on the last
		 * leaf) is retrained even below the threshold: lookups there would
		 * read every page of it */
		if (chainlen >= LEARNED_MAX_DELTA_CHAIN && threshold > 0)
			long_chain = retrain = true;
		i = j;
		CHECK_FOR_INTERRUPTS();
	}
	if (nnull > 0)
		insert_nulls(index, meta.generation, items + (n - nnull), nnull);

	/* count leaves that overflowed; past the threshold, retrain them */
	if (newdirty > 0)
	{
		Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
		GenericXLogState *state;
		LearnedMetaPage m;

		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		m = LearnedPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
		m->ndirty += newdirty;
		ndirty = m->ndirty;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(metabuf);
		if (learned_over_threshold(ndirty, meta.nleaf, threshold))
			retrain = true;
	}
	/* also when the threshold was lowered below the leaves already dirty */
	if (learned_over_threshold(meta.ndirty, meta.nleaf, threshold))
		retrain = true;

	learned_cache_release(c);
	ReleaseBuffer(metapin);
	if (heavy)
		learned_unlock_structure(index, LEARNED_LOCK_INSERT);

	if (retrain)
		learned_retrain_if_needed(index, threshold, long_chain, meta.generation);
}

/* ------------------------------------------------------------------
 * The buffer
 * ------------------------------------------------------------------ */

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

static void
pending_flush(Relation index, LearnedPending *p)
{
	int			n = p->n;

	if (n == 0)
		return;
	/* empty the buffer first: an error must not flush it twice */
	p->n = 0;
	for (SubxactMark *m = subxact_marks; m; m = m->next)
		for (int i = 0; i < m->nbufs; i++)
			if (m->oids[i] == p->indexoid)
				m->lens[i] = 0;
	if (!LearnedRelFileEquals(p->node, LearnedRelFileOf(index)))
		return;					/* rebuilt since: the rows are in already */
	insert_batch(index, p->items, n);
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
		/* dropped in this transaction: nothing to do */
		index = try_relation_open(p->indexoid, RowExclusiveLock);
		if (index == NULL)
		{
			p->n = 0;
			continue;
		}
		if (index->rd_rel->relkind == RELKIND_INDEX &&
			index->rd_indam && index->rd_indam->ambuild == learned_build)
			pending_flush(index, p);
		p->n = 0;
		relation_close(index, RowExclusiveLock);
	}
}

static bool
any_pending(void)
{
	for (LearnedPending *p = pending_list; p; p = p->next)
		if (p->n > 0)
			return true;
	return false;
}

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
			break;
		default:
			break;
	}
}

static void
learned_insert_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg)
{
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			{
				SubxactMark *m;
				int			n = 0;
				int			i = 0;

				if (pending_list == NULL)
					break;		/* nothing buffered yet: nothing to undo */
				for (LearnedPending *p = pending_list; p; p = p->next)
					n++;
				m = MemoryContextAlloc(TopTransactionContext, sizeof(SubxactMark));
				m->subid = mySubid;
				m->nbufs = n;
				m->oids = MemoryContextAlloc(TopTransactionContext, sizeof(Oid) * n);
				m->lens = MemoryContextAlloc(TopTransactionContext, sizeof(int) * n);
				for (LearnedPending *p = pending_list; p; p = p->next, i++)
				{
					m->oids[i] = p->indexoid;
					m->lens[i] = p->n;
				}
				m->next = subxact_marks;
				subxact_marks = m;
				break;
			}
		case SUBXACT_EVENT_ABORT_SUB:
			{
				SubxactMark *m = subxact_marks;

				/* buffers created inside the subtransaction: drop them all */
				for (LearnedPending *p = pending_list; p; p = p->next)
				{
					int			keep = 0;

					if (m && m->subid == mySubid)
						for (int i = 0; i < m->nbufs; i++)
							if (m->oids[i] == p->indexoid)
								keep = Min(m->lens[i], p->n);
					if (m == NULL || m->subid != mySubid)
					{
						/* no mark: the buffers were all empty when it began */
						keep = 0;
					}
					p->n = keep;
				}
				if (m && m->subid == mySubid)
					subxact_marks = m->next;
				break;
			}
		case SUBXACT_EVENT_COMMIT_SUB:
			if (subxact_marks && subxact_marks->subid == mySubid)
				subxact_marks = subxact_marks->next;
			break;
		default:
			break;
	}
}

/* flush before each statement (and before the parallel workers it starts) */
static void
learned_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (pending_list && any_pending())
		flush_all_pending();
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

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
	RegisterXactCallback(learned_insert_xact_callback, NULL);
	RegisterSubXactCallback(learned_insert_subxact_callback, NULL);
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = learned_executor_start;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = learned_process_utility;
}

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
	if (isnull[0])
		it.pad = 1;
	else
	{
		LearnedKeyKind kind = learned_keykind_for_type(index->rd_opcintype[0]);

		it.key = learned_encode(kind, values[0]);
	}
	it.tid[0] = ht_ctid->ip_blkid.bi_hi;
	it.tid[1] = ht_ctid->ip_blkid.bi_lo;
	it.tid[2] = ht_ctid->ip_posid;

	if (learned_insert_buffer_kb == 0 || !IsTransactionState())
	{
		insert_batch(index, &it, 1);
		return false;
	}

	p = pending_find(RelationGetRelid(index), true);
	if (p->n > 0 && !LearnedRelFileEquals(p->node, LearnedRelFileOf(index)))
		p->n = 0;
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
