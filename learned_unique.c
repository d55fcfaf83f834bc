/*
 * learned_unique.c -- inserts into a UNIQUE learned index: the uniqueness
 * check and the insert, atomic under the exclusive locks of every leaf that
 * can hold the key (as btree's _bt_check_unique + _bt_insertonpg under the
 * leaf's write lock).
 *
 * A unique index never buffers: an entry must be visible to a concurrent
 * inserter of the same key before our transaction commits.  So aminsert
 * (learned_unique_insert) takes the insert batch's fast path -- the
 * metapage pinned, which makes a retrain wait before it reads the leaves --
 * locks the leaves [first, last] that can hold the key, in ascending order,
 * looks at every entry with an equal key there (sorted part, tail, delta
 * chain) and asks the heap (dirty snapshot) about its tuple:
 *   - live and committed: unique_violation (UNIQUE_CHECK_YES), or "maybe"
 *     (UNIQUE_CHECK_PARTIAL: deferred constraints, ON CONFLICT arbiters);
 *   - inserted or deleted by a transaction in progress: release everything,
 *     wait for it (or for its speculative insertion), start again;
 *   - dead: ignored.
 * With no conflict the entry is appended to its leaf before the locks go,
 * so of two inserters of one key the second always sees the first.  NULLs
 * never conflict unless NULLS NOT DISTINCT; then the NULL chain is checked
 * and appended to under the metapage's exclusive lock.  See docs/design.md,
 * "UNIQUE".
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "learned.h"

/* what the check found */
typedef enum UniqueVerdict
{
	UNIQUE_OK,					/* no conflicting entry: insert */
	UNIQUE_MAYBE,				/* a conflict (PARTIAL): insert, return false */
	UNIQUE_WAIT,				/* an in-progress inserter/deleter: wait, retry */
	UNIQUE_CONFLICT,			/* a committed live duplicate: error */
	UNIQUE_FROZEN				/* a leaf a retrain is rewriting: wait, retry */
} UniqueVerdict;

/* state of one check */
typedef struct UniqueCheck
{
	Relation	index;
	Relation	heap;
	ItemPointerData self;		/* our heap tuple */
	IndexUniqueCheck mode;
	bool		found_self;		/* UNIQUE_CHECK_EXISTING met our own entry */
	bool		skip_check;		/* our own tuple is dead: insert, check nothing */
	TransactionId xwait;		/* UNIQUE_WAIT: whom */
	uint32		spec_token;		/* ... and its speculative insertion */
	ItemPointerData wait_tid;
	bool		heavy;			/* we hold the structure lock (no retrain runs) */
	bool		frozen;			/* a leaf we locked is frozen by a retrain */
} UniqueCheck;

/*
 * One entry with an equal key: what does the heap say about its tuple?
 * Returns UNIQUE_OK to go on checking.
 */
static UniqueVerdict
check_entry(UniqueCheck *uc, const ItemPointerData *etid)
{
	SnapshotData dirty;
	ItemPointerData tid = *etid;
	bool		all_dead = false;

	if (!ItemPointerIsValid(&tid) || uc->skip_check)
		return UNIQUE_OK;		/* a tombstone, or nothing to check */
	if (uc->mode == UNIQUE_CHECK_EXISTING && ItemPointerEquals(&tid, &uc->self))
	{
		uc->found_self = true;
		return UNIQUE_OK;
	}
	InitDirtySnapshot(dirty);
	if (!table_index_fetch_tuple_check(uc->heap, &tid, &dirty, &all_dead))
		return UNIQUE_OK;		/* no live version in that HOT chain */
	if (uc->mode == UNIQUE_CHECK_PARTIAL)
		return UNIQUE_MAYBE;
	uc->xwait = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
	if (TransactionIdIsValid(uc->xwait))
	{
		uc->spec_token = dirty.speculativeToken;
		uc->wait_tid = tid;
		return UNIQUE_WAIT;
	}
	return UNIQUE_CONFLICT;
}

/* check the entries equal to the key (codes lo..hi) among keys[from, to) (unsorted) */
static UniqueVerdict
check_entries(UniqueCheck *uc, const uint64 *keys, const ItemPointerData *tids,
			  int from, int to, uint64 lo, uint64 hi)
{
	for (int i = from; i < to; i++)
	{
		UniqueVerdict v;

		if (keys[i] < lo || keys[i] > hi)
			continue;
		v = check_entry(uc, &tids[i]);
		if (v != UNIQUE_OK)
			return v;
	}
	return UNIQUE_OK;
}

/*
 * Check leaf g (locked in buf) and its delta chain for entries equal to
 * the key, whose codes are lo..hi (learned_unique_range): the sorted part
 * by binary search, the tail and the delta pages by a scan.
 */
static UniqueVerdict
check_leaf(UniqueCheck *uc, LearnedCache *c, int g, Buffer buf, uint64 lo, uint64 hi)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	li_cleaf_view lv;
	LearnedEntries tail;
	UniqueVerdict v = UNIQUE_OK;
	BlockNumber blk;

	learned_leaf_view(page, &lv);
	learned_page_entries(page, &tail);
	for (uint32 i = li_cleaf_lower_bound_in(&lv, lo, 0, lv.n);
		 v == UNIQUE_OK && i < lv.n && li_cleaf_key_at(&lv, i) <= hi; i++)
	{
		ItemPointerData tid;

		if (learned_leaf_tid(&lv, (int) i, &tid))
			v = check_entry(uc, &tid);
	}
	if (v == UNIQUE_OK)
		v = check_entries(uc, tail.keys, tail.tids, 0, op->nitems - tail.base, lo, hi);
	for (blk = op->next; v == UNIQUE_OK && blk != InvalidBlockNumber;)
	{
		Buffer		dbuf = ReadBuffer(uc->index, blk);
		Page		dpage;

		LockBuffer(dbuf, BUFFER_LOCK_SHARE);
		dpage = BufferGetPage(dbuf);
		learned_check_page(uc->index, dpage, blk, LEARNED_PAGE_DELTA, c->meta.generation);
		v = check_entries(uc, LearnedPageKeys(dpage), LearnedPageTids(dpage), 0,
						  LearnedPageGetOpaque(dpage)->nitems, lo, hi);
		blk = LearnedPageGetOpaque(dpage)->next;
		UnlockReleaseBuffer(dbuf);
	}
	return v;
}

/* check the NULL chain (the metapage locked) for a live NULL entry */
static UniqueVerdict
check_nulls(UniqueCheck *uc, Buffer metabuf, uint32 generation)
{
	BlockNumber blk = LearnedPageGetMeta(BufferGetPage(metabuf))->null_head;
	UniqueVerdict v = UNIQUE_OK;

	while (v == UNIQUE_OK && blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(uc->index, blk);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(uc->index, page, blk, LEARNED_PAGE_NULL, generation);
		for (int i = 0; v == UNIQUE_OK && i < LearnedPageGetOpaque(page)->nitems; i++)
			v = check_entry(uc, &LearnedNullTids(page)[i]);
		blk = LearnedPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	return v;
}

/*
 * A committed live duplicate: unless our own tuple is dead by now (CREATE
 * INDEX CONCURRENTLY's validation may insert dead ones), raise btree's
 * error.  Returns if there is no error to raise.
 */
static void
report_conflict(UniqueCheck *uc, Datum *values, bool *isnull)
{
	ItemPointerData self = uc->self;
	char	   *key_desc;

	if (!table_index_fetch_tuple_check(uc->heap, &self, SnapshotSelf, NULL))
		return;
	key_desc = BuildIndexValueDescription(uc->index, values, isnull);
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("duplicate key value violates unique constraint \"%s\"",
					RelationGetRelationName(uc->index)),
			 key_desc ? errdetail("Key %s already exists.", key_desc) : 0,
			 errtableconstraint(uc->heap, RelationGetRelationName(uc->index))));
}

/* wait for the transaction (or speculative insertion) the check met */
static void
wait_for_conflict(UniqueCheck *uc)
{
	if (uc->spec_token)
		SpeculativeInsertionWait(uc->xwait, uc->spec_token);
	else
		XactLockTableWait(uc->xwait, uc->heap, &uc->wait_tid, XLTW_InsertIndex);
}

/*
 * Read and lock leaf g of model c in `mode`, checked; uc->frozen is set if
 * a running retrain froze it (learned_leaf_frozen).
 */
static Buffer
lock_leaf(UniqueCheck *uc, LearnedCache *c, int g, int mode)
{
	Buffer		buf = ReadBuffer(uc->index, c->blknos[g]);

	LockBuffer(buf, mode);
	learned_check_page(uc->index, BufferGetPage(buf), c->blknos[g],
					   LEARNED_PAGE_LEAF, c->meta.generation);
	if (learned_leaf_frozen(uc->index, buf, c->meta.generation, uc->heavy,
							mode == BUFFER_LOCK_EXCLUSIVE))
		uc->frozen = true;
	return buf;
}

/*
 * Check a non-null key and, unless mode is UNIQUE_CHECK_EXISTING, append
 * its entry.  The first leaf that can hold the key stays exclusively locked
 * throughout: every inserter of this key locks it first, so they take turns
 * (the leaves after it, up to the insert target -- the last one -- are
 * locked one at a time, in ascending order, as long runs of one key's dead
 * versions may span many).  Returns the verdict; on UNIQUE_OK/UNIQUE_MAYBE
 * the entry is in (*overflowed and *chainlen tell about its leaf).
 */
static UniqueVerdict
check_and_insert_key(UniqueCheck *uc, LearnedCache *c, li_item *it,
					 bool *overflowed, int *chainlen)
{
	uint64		lo,
				hi;
	int			first,
				last,
				target;
	Buffer		fbuf;
	Buffer		tbuf;
	UniqueVerdict v;

	/* every code equal to the key (floats: -0.0 and +0.0) */
	learned_unique_range(learned_keykind_for_type(uc->index->rd_opcintype[0]), it->key,
						 &lo, &hi);
	first = learned_leaf_first(uc->index, c, lo);
	last = learned_leaf_for_insert(uc->index, c, hi);
	target = learned_leaf_for_insert(uc->index, c, it->key);
	fbuf = lock_leaf(uc, c, first, BUFFER_LOCK_EXCLUSIVE);
	tbuf = fbuf;
	v = uc->frozen ? UNIQUE_FROZEN : check_leaf(uc, c, first, fbuf, lo, hi);

	Assert(first <= target && target <= last);
	for (int g = first + 1; g <= last && v == UNIQUE_OK; g++)
	{
		Buffer		buf = lock_leaf(uc, c, g, g == target ? BUFFER_LOCK_EXCLUSIVE :
									BUFFER_LOCK_SHARE);

		v = uc->frozen ? UNIQUE_FROZEN : check_leaf(uc, c, g, buf, lo, hi);
		if (g == target && v != UNIQUE_FROZEN)
			tbuf = buf;
		else
			UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	if (v == UNIQUE_FROZEN && tbuf != fbuf)
	{
		/* (a later leaf was frozen after the target was kept) */
		UnlockReleaseBuffer(tbuf);
		tbuf = fbuf;
	}
	if (v == UNIQUE_MAYBE && target > first && tbuf == fbuf)
	{
		tbuf = lock_leaf(uc, c, target, BUFFER_LOCK_EXCLUSIVE);
		if (uc->frozen)
		{
			UnlockReleaseBuffer(tbuf);
			tbuf = fbuf;
			v = UNIQUE_FROZEN;
		}
	}
	if ((v == UNIQUE_OK || v == UNIQUE_MAYBE) && uc->mode != UNIQUE_CHECK_EXISTING)
	{
		int			written = 0;

		*overflowed = learned_insert_group_locked(uc->index, c->meta.generation, tbuf,
												  it, 1, chainlen, &written);
	}
	if (tbuf != fbuf)
		UnlockReleaseBuffer(tbuf);
	UnlockReleaseBuffer(fbuf);
	return v;
}

/* the same for a NULL key, under the metapage's exclusive lock */
static UniqueVerdict
check_and_insert_null(UniqueCheck *uc, uint32 generation, li_item *it)
{
	Buffer		metabuf = ReadBuffer(uc->index, LEARNED_METAPAGE_BLKNO);
	UniqueVerdict v;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	v = check_nulls(uc, metabuf, generation);
	if ((v == UNIQUE_OK || v == UNIQUE_MAYBE) && uc->mode != UNIQUE_CHECK_EXISTING)
	{
		int			written = 0;

		learned_insert_nulls_locked(uc->index, metabuf, generation, it, 1, &written);
	}
	UnlockReleaseBuffer(metabuf);
	return v;
}

/*
 * aminsert for a unique index (see the file header).  Returns false when
 * UNIQUE_CHECK_PARTIAL found a possible conflict, true otherwise.
 */
bool
learned_unique_insert(Relation index, Relation heap, li_item *it,
					  ItemPointer tid, IndexUniqueCheck mode,
					  Datum *values, bool *isnull)
{
	UniqueCheck uc;
	bool		nulls_conflict = index->rd_index->indnullsnotdistinct;

	/* a test can stop here, after the executor's ON CONFLICT pre-check */
	learned_fault("unique_before_check");
	memset(&uc, 0, sizeof(uc));
	uc.index = index;
	uc.heap = heap;
	uc.self = *tid;
	uc.mode = mode;
	for (;;)
	{
		LearnedMetaPageData meta;
		bool		heavy = false;
		Buffer		metapin;
		LearnedCache *c;
		UniqueVerdict v = UNIQUE_OK;
		bool		overflowed = false;
		int			chainlen = 0;

		/* after a frozen leaf: wait for its retrain, holding its lock */
		if (uc.frozen)
			metapin = learned_wait_for_retrain(index, &meta, &heavy);
		else
			metapin = learned_pin_meta_for_batch(index, &meta, &heavy);
		uc.frozen = false;
		uc.heavy = heavy;
		c = learned_cache_acquire(index, &meta);

		if (!it->isnull)
			v = check_and_insert_key(&uc, c, it, &overflowed, &chainlen);
		else if (nulls_conflict)
			v = check_and_insert_null(&uc, meta.generation, it);
		else if (mode != UNIQUE_CHECK_EXISTING)
		{
			int			written = 0;
			Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);

			LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
			learned_insert_nulls_locked(index, metabuf, meta.generation, it, 1, &written);
			UnlockReleaseBuffer(metabuf);
		}
		learned_cache_release(c);
		ReleaseBuffer(metapin);
		if (heavy)
			learned_unlock_structure(index, LEARNED_LOCK_INSERT);

		if (v == UNIQUE_FROZEN)
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (v == UNIQUE_WAIT)
		{
			wait_for_conflict(&uc);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (v == UNIQUE_CONFLICT)
		{
			report_conflict(&uc, values, isnull);
			/* our own tuple is dead: nothing to complain about, insert */
			uc.skip_check = true;
			continue;
		}
		learned_after_append(index, &meta, overflowed ? 1 : 0, chainlen, it->key);
		return v != UNIQUE_MAYBE;
	}
}
