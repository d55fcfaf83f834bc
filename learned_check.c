/*
 * learned_check.c -- learned_index_check(index, heapallindexed): verify the
 * structure of a learned index, modelled on amcheck's bt_index_check.
 *
 * Checks: metapage magic/version/consistency; model pages (type,
 * generation, lengths); segments ordered; separators ordered; every leaf,
 * delta and NULL page (type, generation, counts, TIDs); keys sorted within
 * and across leaves; every key inside its leaf's separator range; every
 * sorted key within the search radius of the model's prediction (the bound
 * every lookup relies on) and within the stored max_error; each page
 * referenced once.  With heapallindexed, both directions between index and
 * heap: every heap tuple visible to the check's snapshot must have an entry
 * (Bloom filter fingerprint sized by maintenance_work_mem, as amcheck
 * does), and every entry must lead to a heap item that holds (or held) a
 * row with the entry's key (see verify_tid()).
 *
 * The first violation raises ERRCODE_INDEX_CORRUPTED naming the block (and
 * offset) where it was found.
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "common/pg_prng.h"
#include "catalog/index.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/bloomfilter.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#include "learned.h"

PG_FUNCTION_INFO_V1(learned_index_check);

typedef struct CheckState
{
	Relation	index;
	LearnedCache *c;
	bool	   *seen;			/* blocks referenced so far */
	BlockNumber nblocks;		/* index size known so far (it grows) */
	bloom_filter *filter;
	LearnedKeyKind kind;
	int64		entries;
	int64		heap_checked;
	/* index -> heap verification (heapallindexed), see verify_tid() */
	bool		heapcheck;
	Relation	heap;
	BlockNumber heap_nblocks;	/* heap size known so far (it grows) */
	IndexInfo  *ii;
	EState	   *estate;			/* for FormIndexDatum (expression indexes) */
	TupleTableSlot *slot;
	MemoryContext tmpcxt;		/* per entry: copies of heap tuples */
	/* every (key, TID) once (heapallindexed): sorted, then compared */
	Tuplesortstate *dupsort;
	TupleTableSlot *dupslot;
	/* a unique index: the key of every row the snapshot sees, sorted */
	Tuplesortstate *uniqsort;
	TupleTableSlot *uniqslot;
	/* the leaf being checked, decoded: sorted entries, then its tail */
	uint64	   *lkeys;
	ItemPointerData *ltids;
	int			lsorted;
} CheckState;

/* what an entry's heap TID names (verify_tid) */
typedef enum TidTarget
{
	TID_ROWS,					/* LP_NORMAL root or LP_REDIRECT: a HOT chain */
	TID_DEAD,					/* LP_DEAD: awaiting VACUUM */
	TID_UNUSED,					/* LP_UNUSED or past the line pointer array */
	TID_HEAP_ONLY,				/* a heap-only tuple: never indexed */
	TID_BAD_REDIRECT			/* a redirect to no tuple */
} TidTarget;

#define CORRUPT(cs, blk, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INDEX_CORRUPTED), \
			 errmsg("learned index \"%s\" is corrupted at block %u", \
					RelationGetRelationName((cs)->index), (blk)), \
			 errdetail(__VA_ARGS__)))

/* sort columns of dupsort: key, TID (with the NULL flag), index block */
#define DUP_NULL_BIT (INT64CONST(1) << 56)

/* add an entry's (key, TID) to the Bloom filter and the duplicate sort */
static void
fingerprint(CheckState *cs, BlockNumber blk, bool isnull, uint64 key,
			const ItemPointerData *tid)
{
	unsigned char buf[16];

	if (cs->filter == NULL)
		return;
	ExecClearTuple(cs->dupslot);
	cs->dupslot->tts_values[0] = Int64GetDatum(isnull ? 0 : (int64) (key ^ (UINT64CONST(1) << 63)));
	cs->dupslot->tts_values[1] = Int64GetDatum(((int64) ItemPointerGetBlockNumber(tid) << 16) |
											   ItemPointerGetOffsetNumber(tid) |
											   (isnull ? DUP_NULL_BIT : 0));
	cs->dupslot->tts_values[2] = Int64GetDatum((int64) blk);
	memset(cs->dupslot->tts_isnull, 0, 3 * sizeof(bool));
	ExecStoreVirtualTuple(cs->dupslot);
	tuplesort_puttupleslot(cs->dupsort, cs->dupslot);
	memset(buf, 0, sizeof(buf));
	if (!isnull)
		memcpy(buf, &key, 8);
	buf[8] = isnull ? 1 : 0;
	memcpy(buf + 9, &tid->ip_blkid.bi_hi, 2);
	memcpy(buf + 11, &tid->ip_blkid.bi_lo, 2);
	memcpy(buf + 13, &tid->ip_posid, 2);
	bloom_add_element(cs->filter, buf, sizeof(buf));
}

/*
 * Is blk inside the index?  Concurrent inserts extend the index while we
 * walk it, and link the new pages before we read the link, so a block past
 * the size known so far makes us re-read the size before we complain.
 */
static bool
index_block_exists(CheckState *cs, BlockNumber blk)
{
	BlockNumber n;

	if (blk < cs->nblocks)
		return true;
	n = RelationGetNumberOfBlocks(cs->index);
	if (n > cs->nblocks)
	{
		cs->seen = repalloc_huge(cs->seen, sizeof(bool) * n);
		memset(cs->seen + cs->nblocks, 0, sizeof(bool) * (n - cs->nblocks));
		cs->nblocks = n;
	}
	return blk < cs->nblocks;
}

/*
 * Read a page into a private copy, checking its header and type; with pin,
 * the buffer stays pinned (not locked) and is returned there.
 */
static void
read_page(CheckState *cs, BlockNumber blk, uint16 type, char *copy, Buffer *pin)
{
	Buffer		buf;
	char	   *problem;

	CHECK_FOR_INTERRUPTS();
	if (blk == LEARNED_METAPAGE_BLKNO || !index_block_exists(cs, blk))
		CORRUPT(cs, blk, "Reference to block %u, outside the index (%u blocks) or the metapage.",
				blk, cs->nblocks);
	if (cs->seen[blk])
		CORRUPT(cs, blk, "Block %u is referenced twice.", blk);
	cs->seen[blk] = true;

	buf = ReadBuffer(cs->index, blk);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(copy, BufferGetPage(buf), BLCKSZ);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (pin)
		*pin = buf;
	else
		ReleaseBuffer(buf);

	/* the rules every reader applies (delta/NULL pages may be newer) */
	problem = learned_page_problem((Page) copy, type, cs->c->meta.generation);
	if (problem)
		CORRUPT(cs, blk, "%s", problem);
}

/* a TID's offset must be possible on a heap page */
static void
check_tid(CheckState *cs, BlockNumber blk, int off, const ItemPointerData *tid)
{
	if (!ItemPointerIsValid(tid))
		return;
	if (ItemPointerGetOffsetNumber(tid) > MaxHeapTuplesPerPage)
		CORRUPT(cs, blk, "Entry %d has an invalid heap TID (%u,%u).", off,
				ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
}

/* the text of a key code (decoded to the index's type) for messages */
static char *
key_text(CheckState *cs, bool isnull, uint64 key)
{
	Oid			typid;
	Oid			outfn;
	bool		varlena;

	switch (cs->kind)
	{
		case LEARNED_KEY_INT2:
			typid = INT2OID;
			break;
		case LEARNED_KEY_INT4:
			typid = INT4OID;
			break;
		case LEARNED_KEY_INT8:
			typid = INT8OID;
			break;
		case LEARNED_KEY_FLOAT4:
			typid = FLOAT4OID;
			break;
		case LEARNED_KEY_FLOAT8:
			typid = FLOAT8OID;
			break;
		case LEARNED_KEY_DATE:
			typid = DATEOID;
			break;
		case LEARNED_KEY_TIMESTAMP:
			typid = TIMESTAMPOID;
			break;
		case LEARNED_KEY_TIMESTAMPTZ:
			typid = TIMESTAMPTZOID;
			break;
		default:
			return psprintf("code %llu", (unsigned long long) key);
	}
	if (isnull)
		return pstrdup("NULL");
	getTypeOutputInfo(typid, &outfn, &varlena);
	return OidOutputFunctionCall(outfn, learned_decode(cs->kind, key));
}

/* is blk inside the heap?  Inserts extend it during the check; nothing truncates it (our lock) */
static bool
heap_block_exists(CheckState *cs, BlockNumber blk)
{
	if (blk >= cs->heap_nblocks)
		cs->heap_nblocks = RelationGetNumberOfBlocks(cs->heap);
	return blk < cs->heap_nblocks;
}

/*
 * What heap item (hblk, hoff) of the share-locked page holds: for a root
 * or redirect, copies of the members of its HOT chain into members[]
 * (allocated in the current memory context), in chain order.
 */
static TidTarget
collect_chain(CheckState *cs, Page page, BlockNumber hblk, OffsetNumber hoff,
			  HeapTuple *members, int *nmembers)
{
	OffsetNumber maxoff = PageIsNew(page) ? InvalidOffsetNumber : PageGetMaxOffsetNumber(page);
	OffsetNumber off = hoff;
	TransactionId prev_xmax = InvalidTransactionId;
	ItemId		lp;

	*nmembers = 0;
	if (hoff < FirstOffsetNumber || hoff > maxoff)
		return TID_UNUSED;
	lp = PageGetItemId(page, hoff);
	if (!ItemIdIsUsed(lp))
		return TID_UNUSED;
	if (ItemIdIsDead(lp))
		return TID_DEAD;
	if (ItemIdIsRedirected(lp))
	{
		off = ItemIdGetRedirect(lp);
		if (off < FirstOffsetNumber || off > maxoff ||
			!ItemIdIsNormal(PageGetItemId(page, off)))
			return TID_BAD_REDIRECT;
	}
	else if (HeapTupleHeaderIsHeapOnly((HeapTupleHeader) PageGetItem(page, lp)))
		return TID_HEAP_ONLY;

	/* follow the chain as heap_hot_search_buffer does, on this page only */
	while (*nmembers < MaxHeapTuplesPerPage)
	{
		HeapTupleData tup;

		lp = PageGetItemId(page, off);
		if (!ItemIdIsNormal(lp))
			break;
		tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup.t_len = ItemIdGetLength(lp);
		tup.t_tableOid = RelationGetRelid(cs->heap);
		ItemPointerSet(&tup.t_self, hblk, off);
		if (TransactionIdIsValid(prev_xmax) &&
			!TransactionIdEquals(prev_xmax, HeapTupleHeaderGetXmin(tup.t_data)))
			break;
		members[(*nmembers)++] = heap_copytuple(&tup);
		if (!HeapTupleIsHotUpdated(&tup) ||
			ItemPointerGetBlockNumber(&tup.t_data->t_ctid) != hblk)
			break;
		off = ItemPointerGetOffsetNumber(&tup.t_data->t_ctid);
		if (off < FirstOffsetNumber || off > maxoff)
			break;
		prev_xmax = HeapTupleHeaderGetUpdateXid(tup.t_data);
	}
	return TID_ROWS;
}

/* the indexed key of a heap tuple, computed and encoded as an insert does */
static void
heap_key(CheckState *cs, HeapTuple tuple, bool *isnull, uint64 *key)
{
	Datum		values[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];

	ExecStoreHeapTuple(tuple, cs->slot, false);
	FormIndexDatum(cs->ii, cs->slot, cs->estate, values, nulls);
	*isnull = nulls[0];
	*key = nulls[0] ? 0 : learned_encode(cs->kind, values[0]);
	ExecClearTuple(cs->slot);
	ResetPerTupleExprContext(cs->estate);
}

/*
 * Index -> heap: the heap item an entry names must exist, must not be
 * unused nor a heap-only tuple, and, if it has storage, some member of the
 * HOT chain it roots must have the entry's key (NULL for NULL entries).
 * LP_DEAD is fine (its entries await VACUUM).  Any member, not the first:
 * a CREATE INDEX (CONCURRENTLY) over a HOT chain whose key changed before
 * the index existed indexes the root TID with a later member's key.
 *
 * Why the heap item cannot be recycled under us although we hold only
 * AccessShareLock: callers keep the index page the entry was copied from
 * pinned (for a delta page, its leaf) until its entries are verified.
 * VACUUM marks a TID unused only after its bulk delete removed every entry
 * of it, and bulk delete takes a cleanup lock on each leaf (covering its
 * delta pages) and NULL page before removing entries there, so it waits
 * for our pin; entries a concurrent retrain moved to newer leaves are
 * protected by our generation lock, which bulk delete waits for too
 * (learned_vacuum.c).  So an entry valid in our copy names a TID that is
 * not recycled before we look at it.  (On a hot standby, redo takes no
 * cleanup locks on our pages; this direction is skipped there.)
 */
static void
verify_tid(CheckState *cs, BlockNumber blk, const char *what, int off,
		   bool isnull, uint64 key, const ItemPointerData *tid)
{
	BlockNumber hblk = ItemPointerGetBlockNumber(tid);
	OffsetNumber hoff = ItemPointerGetOffsetNumber(tid);
	HeapTuple	members[MaxHeapTuplesPerPage];
	int			n;
	TidTarget	target;
	Buffer		buf;
	bool		hnull = false;
	uint64		hkey = 0;

	if (!heap_block_exists(cs, hblk))
		CORRUPT(cs, blk, "%s %d (key %s) points to heap block %u, past the end of table \"%s\" (%u blocks).",
				what, off, key_text(cs, isnull, key), hblk,
				RelationGetRelationName(cs->heap), cs->heap_nblocks);
	/* no ring buffer: entries visit heap pages in random order */
	buf = ReadBufferExtended(cs->heap, MAIN_FORKNUM, hblk, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	target = collect_chain(cs, BufferGetPage(buf), hblk, hoff, members, &n);
	UnlockReleaseBuffer(buf);

	if (target == TID_UNUSED)
		CORRUPT(cs, blk, "%s %d (key %s) points to heap item (%u,%u), which is unused.",
				what, off, key_text(cs, isnull, key), hblk, hoff);
	if (target == TID_HEAP_ONLY)
		CORRUPT(cs, blk, "%s %d (key %s) points to heap-only tuple (%u,%u) instead of the root of its HOT chain.",
				what, off, key_text(cs, isnull, key), hblk, hoff);
	if (target == TID_BAD_REDIRECT)
		CORRUPT(cs, blk, "%s %d (key %s) points to heap item (%u,%u), a redirect to no tuple.",
				what, off, key_text(cs, isnull, key), hblk, hoff);
	for (int i = 0; i < n; i++)
	{
		bool		mnull;
		uint64		mkey;

		heap_key(cs, members[i], &mnull, &mkey);
		if (mnull == isnull && (isnull || mkey == key))
			return;
		if (i == 0)
		{
			hnull = mnull;
			hkey = mkey;
		}
	}
	if (n > 0)
		CORRUPT(cs, blk, "%s %d (key %s) points to heap tuple (%u,%u), whose indexed key is %s%s.",
				what, off, key_text(cs, isnull, key), hblk, hoff,
				key_text(cs, hnull, hkey),
				n > 1 ? psprintf(" (nor does any of the %d later versions in its HOT chain have the entry's key)", n - 1) : "");
}

/* verify_tid() for every live entry of a page copy (keys == NULL: NULL entries) */
static void
verify_entries(CheckState *cs, BlockNumber blk, const char *what,
			   const uint64 *keys, const ItemPointerData *tids, int n)
{
	MemoryContext old;

	if (!cs->heapcheck)
		return;
	old = MemoryContextSwitchTo(cs->tmpcxt);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!ItemPointerIsValid(&tids[i]))
			continue;
		verify_tid(cs, blk, what, i, keys == NULL, keys ? keys[i] : 0, &tids[i]);
		MemoryContextReset(cs->tmpcxt);
	}
	MemoryContextSwitchTo(old);
}

/*
 * Decode a (checked) leaf into cs->lkeys/ltids: its compressed sorted
 * entries (tombstones as invalid TIDs), then its tail.
 */
static void
decode_leaf(CheckState *cs, Page page)
{
	li_cleaf_view v;
	LearnedEntries tail;
	int			nitems = LearnedPageGetOpaque(page)->nitems;

	if (cs->lkeys == NULL)
	{
		cs->lkeys = palloc(sizeof(uint64) * (LEARNED_LEAF_MAX + LEARNED_LEAF_CAP));
		cs->ltids = palloc(sizeof(ItemPointerData) * (LEARNED_LEAF_MAX + LEARNED_LEAF_CAP));
	}
	learned_leaf_view(page, &v);
	learned_page_entries(page, &tail);
	/* in order (no per-entry group lookups); keys are never > UINT64_MAX */
	if (li_cleaf_decode_run(&v, 0, v.n, PG_UINT64_MAX, cs->lkeys,
							(uint16 *) cs->ltids) != v.n)
		elog(ERROR, "learned: decoding a compressed leaf stopped early");
	for (int i = (int) v.n; i < nitems; i++)
		(void) learned_leaf_entry(&v, &tail, i, &cs->lkeys[i], &cs->ltids[i]);
	cs->lsorted = (int) v.n;
}

/* a leaf's entries: TIDs, range of its separators, tombstone count, fingerprints */
static void
check_leaf_entries(CheckState *cs, uint32 g, BlockNumber blk, Page page)
{
	LearnedCache *c = cs->c;
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	uint64	   *keys = cs->lkeys;
	ItemPointerData *tids = cs->ltids;
	int			ns = learned_leaf_sorted(c, g);
	uint64		lo = c->seps[g];
	bool		has_hi = (g + 1 < c->meta.nleaf);
	uint64		hi = has_hi ? c->seps[g + 1] : PG_UINT64_MAX;
	int			ndead = 0;

	if (li_cleaf_validate(LearnedLeafBlock(page), LEARNED_ENTRY_AVAIL) != LI_OK)
		CORRUPT(cs, blk, "Leaf %u's compressed block has invalid group tables.", g);
	if (cs->lsorted != ns)
		CORRUPT(cs, blk, "Leaf %u holds %d sorted entries but the model says %d were written sorted.",
				g, cs->lsorted, ns);
	for (int i = 0; i < op->nitems; i++)
	{
		check_tid(cs, blk, i, &tids[i]);
		if (!ItemPointerIsValid(&tids[i]))
		{
			ndead++;
			continue;
		}
		cs->entries++;
		fingerprint(cs, blk, false, keys[i], &tids[i]);
		if (keys[i] < lo || keys[i] > hi || (i >= ns && has_hi && keys[i] == hi))
			CORRUPT(cs, blk, "Entry %d (key code %llu) is outside the leaf's range [%llu, %llu%s.",
					i, (unsigned long long) keys[i], (unsigned long long) lo,
					(unsigned long long) hi, has_hi ? ")" : "]");
	}
	if (ndead != op->ndead)
		CORRUPT(cs, blk, "Page counts %u tombstones, found %d.", op->ndead, ndead);
}

/* a leaf's sorted part: order across leaves and the model's error bound */
static void
check_leaf_sorted(CheckState *cs, uint32 g, BlockNumber blk, Page page,
				  bool *have_prev, uint64 *prev)
{
	LearnedCache *c = cs->c;
	const LearnedMetaPageData *m = &c->meta;
	uint64	   *keys = cs->lkeys;

	for (int i = 0; i < cs->lsorted; i++)
	{
		double		pred,
					err;

		if (*have_prev && keys[i] < *prev)
			CORRUPT(cs, blk, "Entry %d (key code %llu) is smaller than the previous key %llu.",
					i, (unsigned long long) keys[i], (unsigned long long) *prev);
		if (*have_prev && keys[i] == *prev)
			continue;
		*have_prev = true;
		*prev = keys[i];
		pred = li_predict(c->segs, m->nsegments, m->nkeys, keys[i]);
		err = fabs(pred - (double) (c->starts[g] + i));
		if (err > m->radius)
			CORRUPT(cs, blk, "Entry %d (key code %llu): model error %.3f exceeds the search radius %u.",
					i, (unsigned long long) keys[i], err, m->radius);
		if (err > m->max_error + 1e-6)
			CORRUPT(cs, blk, "Entry %d (key code %llu): model error %.3f exceeds the recorded max_error %.3f.",
					i, (unsigned long long) keys[i], err, m->max_error);
	}
}

/* the delta chain of leaf g (the caller keeps the leaf pinned) */
static void
check_delta_chain(CheckState *cs, uint32 g, BlockNumber leafblk, BlockNumber head)
{
	LearnedCache *c = cs->c;
	uint64		lo = c->seps[g];
	bool		has_hi = (g + 1 < c->meta.nleaf);
	uint64		hi = has_hi ? c->seps[g + 1] : PG_UINT64_MAX;
	PGAlignedBlock dcopy;
	Page		dpage = dcopy.data;
	int			chain = 0;

	for (BlockNumber next = head; next != InvalidBlockNumber;)
	{
		LearnedPageOpaque dop;
		uint64	   *keys;
		ItemPointerData *tids;

		if (++chain > (int) cs->nblocks)
			CORRUPT(cs, leafblk, "Delta chain of leaf %u loops.", g);
		read_page(cs, next, LEARNED_PAGE_DELTA, dpage, NULL);
		dop = LearnedPageGetOpaque(dpage);
		keys = LearnedPageKeys(dpage);
		tids = LearnedPageTids(dpage);
		for (int i = 0; i < dop->nitems; i++)
		{
			check_tid(cs, next, i, &tids[i]);
			if (!ItemPointerIsValid(&tids[i]))
				continue;
			cs->entries++;
			fingerprint(cs, next, false, keys[i], &tids[i]);
			if (keys[i] < lo || (has_hi && keys[i] >= hi))
				CORRUPT(cs, next, "Delta entry %d (key code %llu) is outside leaf %u's range.",
						i, (unsigned long long) keys[i], g);
		}
		verify_entries(cs, next, "Delta entry", keys, tids, dop->nitems);
		next = dop->next;
	}
}

/*
 * Every leaf group (leaf and delta chain) of the model, in key order.  The
 * leaf stays pinned while its group's heap items are verified: VACUUM's
 * bulk delete cannot remove the group's entries meanwhile (verify_tid()).
 */
static void
check_leaves(CheckState *cs)
{
	LearnedCache *c = cs->c;
	PGAlignedBlock copy;
	Page		page = copy.data;
	bool		have_prev = false;
	uint64		prev = 0;

	for (uint32 g = 0; g < c->meta.nleaf; g++)
	{
		BlockNumber blk = c->blknos[g];
		Buffer		pin = InvalidBuffer;

		read_page(cs, blk, LEARNED_PAGE_LEAF, page, &pin);
		decode_leaf(cs, page);
		check_leaf_entries(cs, g, blk, page);
		check_leaf_sorted(cs, g, blk, page, &have_prev, &prev);
		verify_entries(cs, blk, "Entry", cs->lkeys, cs->ltids,
					   LearnedPageGetOpaque(page)->nitems);
		check_delta_chain(cs, g, blk, LearnedPageGetOpaque(page)->next);
		ReleaseBuffer(pin);
	}
}

/* a chain of model or NULL pages; each NULL page stays pinned while its heap items are verified */
static void
check_chain(CheckState *cs, BlockNumber head, uint16 type)
{
	PGAlignedBlock copy;
	Page		page = copy.data;
	int			chain = 0;

	for (BlockNumber blk = head; blk != InvalidBlockNumber;)
	{
		LearnedPageOpaque op;
		ItemPointerData *tids = LearnedNullTids(page);
		Buffer		pin = InvalidBuffer;

		if (++chain > (int) cs->nblocks)
			CORRUPT(cs, blk, "Page chain loops.");
		read_page(cs, blk, type, page, type == LEARNED_PAGE_NULL ? &pin : NULL);
		op = LearnedPageGetOpaque(page);
		if (type == LEARNED_PAGE_NULL)
		{
			for (int i = 0; i < op->nitems; i++)
			{
				check_tid(cs, blk, i, &tids[i]);
				if (ItemPointerIsValid(&tids[i]))
				{
					cs->entries++;
					fingerprint(cs, blk, true, 0, &tids[i]);
				}
			}
			verify_entries(cs, blk, "NULL entry", NULL, tids, op->nitems);
			ReleaseBuffer(pin);
		}
		blk = op->next;
	}
}

/*
 * The model directory on the metapage (if any, and if the metapage still
 * describes the generation we check): the blocks of the model chain, in
 * order, and the first key of the first segment starting on each page.
 */
static void
check_model_dir(CheckState *cs)
{
	LearnedCache *c = cs->c;
	PGAlignedBlock copy;
	Page		page = copy.data;
	LearnedMetaPage m;
	Buffer		buf = ReadBuffer(cs->index, LEARNED_METAPAGE_BLKNO);
	int			n;
	BlockNumber blk = c->meta.model_head;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(page, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	m = LearnedPageGetMeta(page);
	n = (int) m->model_dir_pages;
	if (n == 0 || m->generation != c->meta.generation)
		return;
	if (n != LEARNED_MODEL_PAGES(c->meta.model_bytes) || n > LEARNED_META_DIR_MAX ||
		((PageHeader) page)->pd_lower < (char *) (LearnedMetaDirKeys(page, n) + n) - (char *) page)
		CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "The model directory lists %d pages; the model has %d.",
				n, LEARNED_MODEL_PAGES(c->meta.model_bytes));
	for (int p = 0; p < n; p++)
	{
		uint64		j0 = ((uint64) p * LEARNED_ENTRY_AVAIL + sizeof(li_segment) - 1) /
			sizeof(li_segment);
		uint64		want = j0 < c->meta.nsegments ? c->segs[j0].first_key : 0;

		if (LearnedMetaDirBlocks(page)[p] != blk)
			CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "The model directory lists block %u as model page %d; the chain has %u.",
					LearnedMetaDirBlocks(page)[p], p, blk);
		if (LearnedMetaDirKeys(page, n)[p] != want)
			CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "The model directory's key of model page %d is %llu, not %llu.",
					p, (unsigned long long) LearnedMetaDirKeys(page, n)[p],
					(unsigned long long) want);
		blk = learned_chain_next(cs->index, blk, LEARNED_PAGE_MODEL, c->meta.generation, NULL);
	}
}

/* segments and separators of the cached model: order and sane values */
static void
check_model(CheckState *cs)
{
	LearnedCache *c = cs->c;
	const LearnedMetaPageData *m = &c->meta;

	for (uint32 s = 1; s < m->nsegments; s++)
	{
		if (c->segs[s].first_key <= c->segs[s - 1].first_key)
			CORRUPT(cs, m->model_head, "Segment %u starts at key code %llu, not after segment %u (%llu).",
					s, (unsigned long long) c->segs[s].first_key, s - 1,
					(unsigned long long) c->segs[s - 1].first_key);
		if (c->segs[s].first_pos < c->segs[s - 1].first_pos)
			CORRUPT(cs, m->model_head, "Segment %u starts at position %llu, before segment %u.",
					s, (unsigned long long) c->segs[s].first_pos, s - 1);
	}
	for (uint32 s = 0; s < m->nsegments; s++)
		if (c->segs[s].first_pos > m->nkeys || isnan(c->segs[s].slope) ||
			isnan(c->segs[s].intercept) || c->segs[s].slope < 0)
			CORRUPT(cs, m->model_head, "Segment %u has invalid parameters.", s);
	if (m->nleaf > 0 && c->seps[0] != 0)
		CORRUPT(cs, c->blknos[0], "The first leaf's separator is %llu, not 0.",
				(unsigned long long) c->seps[0]);
	for (uint32 g = 0; g < m->nleaf; g++)
	{
		if (g > 0 && c->seps[g] < c->seps[g - 1])
			CORRUPT(cs, c->blknos[g], "Leaf %u's separator is smaller than leaf %u's.", g, g - 1);
		if (c->nsorted[g] > LEARNED_LEAF_MAX)
			CORRUPT(cs, c->blknos[g], "Leaf %u has %u sorted entries, more than %d per leaf.",
					g, c->nsorted[g], LEARNED_LEAF_MAX);
	}
	if (m->max_error > m->radius)
		CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "Recorded max_error %.3f exceeds the search radius %u.",
				m->max_error, m->radius);
}

/* heap -> index: a visible heap tuple must have been fingerprinted */
static void
heap_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	CheckState *cs = (CheckState *) state;
	unsigned char buf[16];
	uint64		key = isnull[0] ? 0 : learned_encode(cs->kind, values[0]);

	memset(buf, 0, sizeof(buf));
	if (!isnull[0])
		memcpy(buf, &key, 8);
	buf[8] = isnull[0] ? 1 : 0;
	memcpy(buf + 9, &tid->ip_blkid.bi_hi, 2);
	memcpy(buf + 11, &tid->ip_blkid.bi_lo, 2);
	memcpy(buf + 13, &tid->ip_posid, 2);
	cs->heap_checked++;
	if (cs->uniqsort && (!isnull[0] || index->rd_index->indnullsnotdistinct))
	{
		uint64		lo,
					ukey;

		/* equal keys with two codes (floats' -0.0 and +0.0) count as one */
		learned_unique_range(cs->kind, key, &lo, &ukey);
		ExecClearTuple(cs->uniqslot);
		cs->uniqslot->tts_values[0] = Int64GetDatum(isnull[0] ? 1 : 0);
		cs->uniqslot->tts_values[1] = Int64GetDatum((int64) ukey);
		cs->uniqslot->tts_values[2] = Int64GetDatum(((int64) ItemPointerGetBlockNumber(tid) << 16) |
													ItemPointerGetOffsetNumber(tid));
		memset(cs->uniqslot->tts_isnull, 0, sizeof(bool) * 3);
		ExecStoreVirtualTuple(cs->uniqslot);
		tuplesort_puttupleslot(cs->uniqsort, cs->uniqslot);
	}
	if (bloom_lacks_element(cs->filter, buf, sizeof(buf)))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("heap tuple (%u,%u) from table \"%s\" lacks matching index entry in index \"%s\"",
						ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
						get_rel_name(index->rd_index->indrelid),
						RelationGetRelationName(index))));
}

/*
 * The MVCC snapshot of the heap-to-index direction, registered before the
 * index walk begins (as amcheck's bt_index_check does): a row visible to
 * it was committed before it was taken, and its entry was written to the
 * index before that commit (insert batches flush at pre-commit), so the
 * walk that follows must meet that entry.  A snapshot taken after the walk
 * sees rows whose entries were added behind the walk: false reports under
 * concurrent inserts.
 */
static Snapshot
heap_check_snapshot(Relation index)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	/*
	 * In READ COMMITTED this is a new snapshot, which is entitled to every
	 * entry it needs.  An older transaction snapshot (REPEATABLE READ,
	 * SERIALIZABLE) may predate an index built with indcheckxmin set (HOT
	 * chains broken by the build): such a snapshot may still see tuples the
	 * index deliberately lacks, so it cannot be used to verify it.
	 */
	if (IsolationUsesXactSnapshot() && index->rd_index->indcheckxmin &&
		!TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
							   snapshot->xmin))
	{
		UnregisterSnapshot(snapshot);
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("index \"%s\" cannot be verified using the transaction snapshot",
						RelationGetRelationName(index)),
				 errhint("Run learned_index_check() in a READ COMMITTED transaction.")));
	}
	return snapshot;
}

/* every tuple visible to the snapshot must have its fingerprint in the filter */
static void
check_heap_indexed(CheckState *cs, Relation heap, Snapshot snapshot)
{
	IndexInfo  *indexInfo = BuildIndexInfo(cs->index);
	TableScanDesc scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, true);

	/* only tuples of the snapshot; heap-only ones report their root TID */
	indexInfo->ii_Concurrent = true;
	table_index_build_scan(heap, cs->index, indexInfo, true, false,
						   heap_callback, cs, scan);
}

/*
 * Prepare the index -> heap direction of heapallindexed.  It reads heap
 * pages directly, so only for heap tables, and not on a hot standby (see
 * verify_tid()).
 */
static void
heap_check_begin(CheckState *cs, Relation heap)
{
	if (heap->rd_rel->relam != HEAP_TABLE_AM_OID || RecoveryInProgress())
	{
		ereport(DEBUG1,
				(errmsg_internal("learned_index_check: not verifying that the entries of \"%s\" lead to their rows",
								 RelationGetRelationName(cs->index))));
		return;
	}
	cs->heapcheck = true;
	cs->heap = heap;
	cs->heap_nblocks = RelationGetNumberOfBlocks(heap);
	cs->ii = BuildIndexInfo(cs->index);
	cs->estate = CreateExecutorState();
	cs->slot = MakeSingleTupleTableSlot(RelationGetDescr(heap), &TTSOpsHeapTuple);
	GetPerTupleExprContext(cs->estate)->ecxt_scantuple = cs->slot;
	cs->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "learned_index_check heap tuples",
									   ALLOCSET_DEFAULT_SIZES);
}

/* release what heap_check_begin() set up */
static void
heap_check_end(CheckState *cs)
{
	if (!cs->heapcheck)
		return;
	ExecDropSingleTupleTableSlot(cs->slot);
	FreeExecutorState(cs->estate);
	MemoryContextDelete(cs->tmpcxt);
}

/*
 * A sort of rows of three int8 columns named `names`, by the first nkeys
 * of them; *slot gets a virtual slot to feed it.
 */
static Tuplesortstate *
int8_sort_begin(const char *const names[3], int nkeys, TupleTableSlot **slot)
{
	TupleDesc	desc = CreateTemplateTupleDesc(3);
	AttrNumber	attnums[3] = {1, 2, 3};
	Oid			sortops[3] = {Int8LessOperator, Int8LessOperator, Int8LessOperator};
	Oid			collations[3] = {InvalidOid, InvalidOid, InvalidOid};
	bool		nullsfirst[3] = {false, false, false};

	for (int i = 0; i < 3; i++)
		TupleDescInitEntry(desc, (AttrNumber) (i + 1), names[i], INT8OID, -1, 0);
	*slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	return tuplesort_begin_heap(desc, nkeys, attnums, sortops, collations,
								nullsfirst, maintenance_work_mem, NULL, TUPLESORT_NONE);
}

/* begin the sort of every (key, TID) that finds an entry made twice */
static void
dup_check_begin(CheckState *cs)
{
	static const char *const names[3] = {"key", "tid", "blk"};

	cs->dupsort = int8_sort_begin(names, 2, &cs->dupslot);
}

/*
 * No (key, TID) may be in the index twice: a heap tuple gets one entry per
 * insertion (an entry written twice would make scans return its row twice).
 */
static void
dup_check_end(CheckState *cs)
{
	TupleTableSlot *out = MakeSingleTupleTableSlot(cs->dupslot->tts_tupleDescriptor,
												   &TTSOpsMinimalTuple);
	int64		pkey = 0,
				ptid = 0;
	bool		have = false;

	tuplesort_performsort(cs->dupsort);
	while (tuplesort_gettupleslot(cs->dupsort, true, false, out, NULL))
	{
		bool		n;
		int64		key = DatumGetInt64(slot_getattr(out, 1, &n));
		int64		tid = DatumGetInt64(slot_getattr(out, 2, &n));

		CHECK_FOR_INTERRUPTS();
		if (have && key == pkey && tid == ptid)
			CORRUPT(cs, (BlockNumber) DatumGetInt64(slot_getattr(out, 3, &n)),
					"The entry (key %s, heap TID (%u,%u)) is in the index twice.",
					key_text(cs, (tid & DUP_NULL_BIT) != 0,
							 (uint64) key ^ (UINT64CONST(1) << 63)),
					(BlockNumber) ((tid & ~DUP_NULL_BIT) >> 16), (unsigned) (tid & 0xFFFF));
		pkey = key;
		ptid = tid;
		have = true;
	}
	tuplesort_end(cs->dupsort);
	ExecDropSingleTupleTableSlot(out);
	ExecDropSingleTupleTableSlot(cs->dupslot);
}

/*
 * A unique index: begin the sort of the key of every row the heap scan of
 * heapallindexed sees (NULLs only with NULLS NOT DISTINCT): null flag, key
 * code, TID.
 */
static void
uniq_check_begin(CheckState *cs)
{
	static const char *const names[3] = {"isnull", "key", "tid"};

	if (cs->index->rd_index->indisunique)
		cs->uniqsort = int8_sort_begin(names, 3, &cs->uniqslot);
}

/*
 * No two rows visible to one MVCC snapshot may share the key of a unique
 * index (as amcheck's checkunique).  The index itself may hold equal keys
 * (dead rows, rows of other snapshots); what it must never allow is two
 * live rows, which is what the heap scan collected.
 */
static void
uniq_check_end(CheckState *cs)
{
	TupleTableSlot *out;
	int64		pnull = 0,
				pkey = 0,
				ptid = 0;
	bool		have = false;

	if (!cs->uniqsort)
		return;
	out = MakeSingleTupleTableSlot(cs->uniqslot->tts_tupleDescriptor, &TTSOpsMinimalTuple);
	tuplesort_performsort(cs->uniqsort);
	while (tuplesort_gettupleslot(cs->uniqsort, true, false, out, NULL))
	{
		bool		n;
		int64		isnull = DatumGetInt64(slot_getattr(out, 1, &n));
		int64		key = DatumGetInt64(slot_getattr(out, 2, &n));
		int64		tid = DatumGetInt64(slot_getattr(out, 3, &n));

		CHECK_FOR_INTERRUPTS();
		if (have && isnull == pnull && key == pkey)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index uniqueness is violated for learned index \"%s\"",
							RelationGetRelationName(cs->index)),
					 errdetail("Rows (%u,%u) and (%u,%u) of table \"%s\", both visible to the check's snapshot, have the key %s.",
							   (BlockNumber) (ptid >> 16), (unsigned) (ptid & 0xFFFF),
							   (BlockNumber) (tid >> 16), (unsigned) (tid & 0xFFFF),
							   get_rel_name(cs->index->rd_index->indrelid),
							   key_text(cs, isnull != 0, (uint64) key))));
		pnull = isnull;
		pkey = key;
		ptid = tid;
		have = true;
	}
	tuplesort_end(cs->uniqsort);
	ExecDropSingleTupleTableSlot(out);
	ExecDropSingleTupleTableSlot(cs->uniqslot);
}

/* walk the index (and, with a filter, fingerprint it), then the heap -> index direction */
static void
check_index(CheckState *cs, Relation heap, Snapshot snapshot)
{
	LearnedMetaPageData now;
	LearnedKeyKind opckind = learned_keykind_for_type(cs->index->rd_opcintype[0]);

	if (cs->kind != opckind)
		CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "Key kind %d in the metapage, but the operator class's is %d.",
				(int) cs->kind, (int) opckind);
	check_model(cs);
	check_model_dir(cs);
	/* model pages: type, generation, chain */
	check_chain(cs, cs->c->meta.model_head, LEARNED_PAGE_MODEL);
	check_leaves(cs);
	/* the NULL chain is shared by every generation: read its head now */
	learned_read_meta(cs->index, &now);
	check_chain(cs, now.null_head, LEARNED_PAGE_NULL);
	if (cs->filter)
	{
		dup_check_end(cs);
		check_heap_indexed(cs, heap, snapshot);
		uniq_check_end(cs);
	}
}

/* learned_index_check(index regclass, heapallindexed boolean) */
Datum
learned_index_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	bool		heapallindexed = PG_GETARG_BOOL(1);
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap,
				index;
	LearnedMetaPageData meta;
	CheckState	cs;
	Snapshot	snapshot = InvalidSnapshot;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	/* table before index, as amcheck does */
	heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	if (heapoid != IndexGetRelation(indexoid, false))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open the table of index \"%s\"",
						RelationGetRelationName(index))));
	learned_check_index_rel(index);

	/*
	 * Index expressions run as the table's owner, in a restricted security
	 * context, with GUC changes undone afterwards (as amcheck does).
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(heap->rd_rel->relowner,
						   save_sec_context | SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();

	/* our own buffered entries first: our snapshot sees their rows */
	learned_flush_pending(index);
	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	if (heapallindexed)
		snapshot = heap_check_snapshot(index);

	learned_reader_begin(index, &meta);
	cs.c = learned_cache_acquire(index, &meta);
	learned_cache_load_all(index, cs.c);
	cs.kind = (LearnedKeyKind) meta.keykind;
	cs.nblocks = RelationGetNumberOfBlocks(index);
	cs.seen = palloc0(sizeof(bool) * Max(cs.nblocks, 1));
	if (heapallindexed)
	{
		/* entries: at most a full leaf per block; more than the filter needs */
		int64		total = Max((int64) (meta.nkeys + meta.nnulls),
								(int64) cs.nblocks * (LEARNED_LEAF_MAX / 4));

		cs.filter = bloom_create(Max(total, 1024), maintenance_work_mem,
								 pg_prng_uint64(&pg_global_prng_state));
		dup_check_begin(&cs);
		uniq_check_begin(&cs);
		heap_check_begin(&cs, heap);
	}

	check_index(&cs, heap, snapshot);

	if (heapallindexed)
	{
		heap_check_end(&cs);
		UnregisterSnapshot(snapshot);
		bloom_free(cs.filter);
	}
	learned_cache_release(cs.c);
	learned_reader_end(index, meta.generation);

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	PG_RETURN_VOID();
}
