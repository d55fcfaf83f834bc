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
 * referenced once.  With heapallindexed, every heap tuple visible to the
 * check's snapshot must have an entry (Bloom filter fingerprint sized by
 * maintenance_work_mem, as amcheck does).
 *
 * The first violation raises ERRCODE_INDEX_CORRUPTED naming the block (and
 * offset) where it was found.
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "common/pg_prng.h"
#include "catalog/index.h"
#include "fmgr.h"
#include "lib/bloomfilter.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "learned.h"

PG_FUNCTION_INFO_V1(learned_index_check);

typedef struct CheckState
{
	Relation	index;
	LearnedCache *c;
	bool	   *seen;			/* blocks referenced so far */
	BlockNumber nblocks;
	bloom_filter *filter;
	LearnedKeyKind kind;
	int64		entries;
	int64		heap_checked;
} CheckState;

#define CORRUPT(cs, blk, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INDEX_CORRUPTED), \
			 errmsg("learned index \"%s\" is corrupted at block %u", \
					RelationGetRelationName((cs)->index), (blk)), \
			 errdetail(__VA_ARGS__)))

static void
fingerprint(CheckState *cs, bool isnull, uint64 key, const ItemPointerData *tid)
{
	unsigned char buf[16];

	if (cs->filter == NULL)
		return;
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

/* read a page into a private copy, checking its header and type */
static void
read_page(CheckState *cs, BlockNumber blk, uint16 type, char *copy)
{
	Buffer		buf;
	Page		page;
	LearnedPageOpaque op;

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
	UnlockReleaseBuffer(buf);

	page = (Page) copy;
	if (PageIsNew(page))
		CORRUPT(cs, blk, "Page is new (all zeroes) but referenced.");
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(LearnedPageOpaqueData)) ||
		((PageHeader) page)->pd_lower > ((PageHeader) page)->pd_upper ||
		((PageHeader) page)->pd_upper > ((PageHeader) page)->pd_special)
		CORRUPT(cs, blk, "Invalid page header or special space.");
	op = LearnedPageGetOpaque(page);
	if (op->page_id != LEARNED_PAGE_ID)
		CORRUPT(cs, blk, "Page id is 0x%04X, expected 0x%04X.", op->page_id, LEARNED_PAGE_ID);
	if (op->page_type != type)
		CORRUPT(cs, blk, "Page type is %u, expected %u.", op->page_type, type);

	/*
	 * Leaf and model pages are never newer than the model we walk (pages
	 * are recycled only once every reader of an older model is gone); delta
	 * and NULL pages may be: after a concurrent retrain, inserts link new
	 * ones to the leaves it kept and to the NULL chain.
	 */
	if ((type == LI_PAGE_LEAF || type == LI_PAGE_MODEL) &&
		op->generation > cs->c->meta.generation)
		CORRUPT(cs, blk, "Page generation %u is newer than the index's %u.",
				op->generation, cs->c->meta.generation);
	if ((type == LI_PAGE_LEAF || type == LI_PAGE_DELTA) && op->nitems > LI_LEAF_CAP)
		CORRUPT(cs, blk, "%u entries, more than the capacity %d.", op->nitems, LI_LEAF_CAP);
	if (type == LI_PAGE_NULL && op->nitems > LI_NULL_CAP)
		CORRUPT(cs, blk, "%u entries, more than the capacity %d.", op->nitems, LI_NULL_CAP);
}

static void
check_tid(CheckState *cs, BlockNumber blk, int off, const ItemPointerData *tid)
{
	if (!ItemPointerIsValid(tid))
		return;
	if (ItemPointerGetOffsetNumber(tid) > MaxHeapTuplesPerPage)
		CORRUPT(cs, blk, "Entry %d has an invalid heap TID (%u,%u).", off,
				ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
}

static void
check_leaves(CheckState *cs)
{
	LearnedCache *c = cs->c;
	const LearnedMetaPageData *m = &c->meta;
	PGAlignedBlock copy;
	bool		have_prev = false;
	uint64		prev = 0;

	for (uint32 g = 0; g < m->nleaf; g++)
	{
		BlockNumber blk = c->blknos[g];
		Page		page = copy.data;
		LearnedPageOpaque op;
		uint64	   *keys;
		ItemPointerData *tids;
		int			ns = learned_leaf_sorted(c, g);
		uint64		lo = c->seps[g];
		bool		has_hi = (g + 1 < m->nleaf);
		uint64		hi = has_hi ? c->seps[g + 1] : PG_UINT64_MAX;
		int			ndead = 0;
		BlockNumber next;
		int			chain = 0;

		read_page(cs, blk, LI_PAGE_LEAF, page);
		op = LearnedPageGetOpaque(page);
		keys = LearnedPageKeys(page);
		tids = LearnedPageTids(page);
		if (op->nitems < ns)
			CORRUPT(cs, blk, "Leaf %u has %u entries but the model says %d were written sorted.",
					g, op->nitems, ns);
		for (int i = 0; i < op->nitems; i++)
		{
			check_tid(cs, blk, i, &tids[i]);
			if (!ItemPointerIsValid(&tids[i]))
			{
				ndead++;
				continue;
			}
			cs->entries++;
			fingerprint(cs, false, keys[i], &tids[i]);
			if (keys[i] < lo || keys[i] > hi || (i >= ns && has_hi && keys[i] == hi))
				CORRUPT(cs, blk, "Entry %d (key code %llu) is outside the leaf's range [%llu, %llu%s.",
						i, (unsigned long long) keys[i], (unsigned long long) lo,
						(unsigned long long) hi, has_hi ? ")" : "]");
		}
		if (ndead != op->ndead)
			CORRUPT(cs, blk, "Page counts %u tombstones, found %d.", op->ndead, ndead);

		/* sorted part: order and the model bound */
		for (int i = 0; i < ns; i++)
		{
			double		pred,
						err;

			if (have_prev && keys[i] < prev)
				CORRUPT(cs, blk, "Entry %d (key code %llu) is smaller than the previous key %llu.",
						i, (unsigned long long) keys[i], (unsigned long long) prev);
			if (have_prev && keys[i] == prev)
				continue;
			have_prev = true;
			prev = keys[i];
			pred = li_predict(c->segs, m->nsegments, m->nkeys, keys[i]);
			err = fabs(pred - (double) (c->starts[g] + i));
			if (err > m->radius)
				CORRUPT(cs, blk, "Entry %d (key code %llu): model error %.3f exceeds the search radius %u.",
						i, (unsigned long long) keys[i], err, m->radius);
			if (err > m->max_error + 1e-6)
				CORRUPT(cs, blk, "Entry %d (key code %llu): model error %.3f exceeds the recorded max_error %.3f.",
						i, (unsigned long long) keys[i], err, m->max_error);
		}

		/* delta chain */
		for (next = op->next; next != InvalidBlockNumber;)
		{
			PGAlignedBlock dcopy;
			Page		dpage = dcopy.data;
			LearnedPageOpaque dop;

			if (++chain > (int) cs->nblocks)
				CORRUPT(cs, blk, "Delta chain of leaf %u loops.", g);
			read_page(cs, next, LI_PAGE_DELTA, dpage);
			dop = LearnedPageGetOpaque(dpage);
			for (int i = 0; i < dop->nitems; i++)
			{
				uint64		k = LearnedPageKeys(dpage)[i];
				ItemPointerData *t = &LearnedPageTids(dpage)[i];

				check_tid(cs, next, i, t);
				if (!ItemPointerIsValid(t))
					continue;
				cs->entries++;
				fingerprint(cs, false, k, t);
				if (k < lo || (has_hi && k >= hi))
					CORRUPT(cs, next, "Delta entry %d (key code %llu) is outside leaf %u's range.",
							i, (unsigned long long) k, g);
			}
			next = dop->next;
		}
	}
}

static void
check_chain(CheckState *cs, BlockNumber head, uint16 type)
{
	PGAlignedBlock copy;
	int			chain = 0;

	for (BlockNumber blk = head; blk != InvalidBlockNumber;)
	{
		Page		page = copy.data;
		LearnedPageOpaque op;

		if (++chain > (int) cs->nblocks)
			CORRUPT(cs, blk, "Page chain loops.");
		read_page(cs, blk, type, page);
		op = LearnedPageGetOpaque(page);
		if (type == LI_PAGE_NULL)
		{
			for (int i = 0; i < op->nitems; i++)
			{
				check_tid(cs, blk, i, &LearnedNullTids(page)[i]);
				if (ItemPointerIsValid(&LearnedNullTids(page)[i]))
				{
					cs->entries++;
					fingerprint(cs, true, 0, &LearnedNullTids(page)[i]);
				}
			}
		}
		blk = op->next;
	}
}

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
		if (c->nsorted[g] > LI_LEAF_CAP)
			CORRUPT(cs, c->blknos[g], "Leaf %u has %u sorted entries, more than %d per leaf.",
					g, c->nsorted[g], LI_LEAF_CAP);
	}
	if (m->max_error > m->radius)
		CORRUPT(cs, LEARNED_METAPAGE_BLKNO, "Recorded max_error %.3f exceeds the search radius %u.",
				m->max_error, m->radius);
}

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

	/* our own buffered entries first: our snapshot sees their rows */
	learned_flush_pending(index);
	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	if (heapallindexed)
		snapshot = heap_check_snapshot(index);

	learned_reader_begin(index, &meta);
	cs.c = learned_cache_acquire(index, &meta);
	cs.kind = (LearnedKeyKind) meta.keykind;
	cs.nblocks = RelationGetNumberOfBlocks(index);
	cs.seen = palloc0(sizeof(bool) * Max(cs.nblocks, 1));
	if (heapallindexed)
	{
		/* entries: at most a full leaf per block; more than the filter needs */
		int64		total = Max((int64) (meta.nkeys + meta.nnulls),
								(int64) cs.nblocks * LI_LEAF_CAP / 2);

		cs.filter = bloom_create(Max(total, 1024), maintenance_work_mem,
								 pg_prng_uint64(&pg_global_prng_state));
	}

	check_model(&cs);
	/* model pages: type, generation, chain */
	check_chain(&cs, meta.model_head, LI_PAGE_MODEL);
	check_leaves(&cs);
	{
		/* the NULL chain is shared by every generation: read its head now */
		LearnedMetaPageData now;

		learned_read_meta(index, &now);
		check_chain(&cs, now.null_head, LI_PAGE_NULL);
	}

	if (heapallindexed)
	{
		check_heap_indexed(&cs, heap, snapshot);
		UnregisterSnapshot(snapshot);
		bloom_free(cs.filter);
	}

	learned_cache_release(cs.c);
	learned_reader_end(index, meta.generation);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	PG_RETURN_VOID();
}
