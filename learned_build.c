/*
 * learned_build.c -- ambuild, ambuildempty and the page writer shared with
 * retrain: a sorted stream of (key, TID) becomes dense leaf pages, the
 * model is fitted in the same pass, and the model blob (segments,
 * separators, leaf block numbers) is written to a chain of model pages.
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"

#include "learned.h"

#define SIGN_BIT UINT64CONST(0x8000000000000000)

struct LearnedWriter
{
	Relation	index;
	uint32		generation;
	LearnedKeyKind kind;
	int			epsilon;
	int			per_page;
	learned_sink_fn sink;
	void	   *arg;

	PGAlignedBlock leaf;
	int			leaf_n;
	PGAlignedBlock nullpg;
	int			null_n;
	BlockNumber null_head;

	li_fitter  *fitter;
	li_keystream ks;
	li_segment *segs;
	int			nseg;
	int			segcap;

	uint64	   *seps;
	BlockNumber *blknos;
	int			nleaf;
	int			leafcap;

	uint64		nkeys;
	uint64		nnulls;
};

static void
writer_check(li_status st)
{
	if (st != LI_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("learned index model fitting failed with status %d", (int) st)));
}

static void
writer_add_segments(LearnedWriter *w, li_segment *closed, int nclosed)
{
	for (int i = 0; i < nclosed; i++)
	{
		if (w->nseg >= w->segcap)
		{
			w->segcap *= 2;
			w->segs = repalloc_huge(w->segs, sizeof(li_segment) * w->segcap);
		}
		w->segs[w->nseg++] = closed[i];
	}
}

LearnedWriter *
learned_writer_begin(Relation index, uint32 generation, LearnedKeyKind kind,
					 int epsilon, int per_page, learned_sink_fn sink, void *arg)
{
	LearnedWriter *w = palloc0(sizeof(LearnedWriter));

	w->index = index;
	w->generation = generation;
	w->kind = kind;
	w->epsilon = epsilon;
	w->per_page = per_page;
	w->sink = sink;
	w->arg = arg;
	w->null_head = InvalidBlockNumber;
	w->fitter = palloc(li_fitter_size());
	writer_check(li_fitter_init(w->fitter, (uint32) epsilon));
	li_keystream_init(&w->ks);
	w->segcap = 64;
	w->segs = palloc(sizeof(li_segment) * w->segcap);
	w->leafcap = 64;
	w->seps = palloc(sizeof(uint64) * w->leafcap);
	w->blknos = palloc(sizeof(BlockNumber) * w->leafcap);
	return w;
}

static void
writer_flush_leaf(LearnedWriter *w)
{
	Page		page = w->leaf.data;
	BlockNumber blk;

	LearnedPageGetOpaque(page)->nitems = w->leaf_n;
	blk = w->sink(w->arg, page);
	if (w->nleaf >= w->leafcap)
	{
		w->leafcap *= 2;
		w->seps = repalloc_huge(w->seps, sizeof(uint64) * w->leafcap);
		w->blknos = repalloc_huge(w->blknos, sizeof(BlockNumber) * w->leafcap);
	}
	w->seps[w->nleaf] = (w->nleaf == 0) ? 0 : LearnedPageKeys(page)[0];
	w->blknos[w->nleaf] = blk;
	w->nleaf++;
	w->leaf_n = 0;
}

void
learned_writer_add(LearnedWriter *w, uint64 key, ItemPointer tid)
{
	Page		page = w->leaf.data;
	li_segment	closed[2];
	int			nclosed;

	if (w->leaf_n == w->per_page)
		writer_flush_leaf(w);
	if (w->leaf_n == 0)
		learned_init_page(page, LI_PAGE_LEAF, w->generation);
	LearnedPageKeys(page)[w->leaf_n] = key;
	LearnedPageTids(page)[w->leaf_n] = *tid;
	w->leaf_n++;
	w->nkeys++;

	writer_check(li_keystream_push(&w->ks, w->fitter, key, closed, &nclosed));
	writer_add_segments(w, closed, nclosed);
}

static void
writer_flush_null(LearnedWriter *w)
{
	Page		page = w->nullpg.data;

	LearnedPageGetOpaque(page)->nitems = w->null_n;
	LearnedPageGetOpaque(page)->next = w->null_head;
	w->null_head = w->sink(w->arg, page);
	w->null_n = 0;
}

void
learned_writer_add_null(LearnedWriter *w, ItemPointer tid)
{
	Page		page = w->nullpg.data;

	if (w->null_n == LI_NULL_CAP)
		writer_flush_null(w);
	if (w->null_n == 0)
		learned_init_page(page, LI_PAGE_NULL, w->generation);
	LearnedNullTids(page)[w->null_n++] = *tid;
	w->nnulls++;
}

/*
 * Maximum |prediction - true position| over every distinct key, reading the
 * leaf pages just written (every key checked, no sampling).
 */
double
learned_measure_error(Relation index, const LearnedMetaPageData *meta,
					  const li_segment *segs, const uint64 *seps,
					  const BlockNumber *blknos)
{
	double		maxerr = 0.0;
	uint64		pos = 0;
	bool		have_prev = false;
	uint64		prev = 0;

	for (uint32 g = 0; g < meta->nleaf; g++)
	{
		Buffer		buf = ReadBuffer(index, blknos[g]);
		Page		page;
		uint64	   *keys;
		int			n;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, blknos[g], LI_PAGE_LEAF, meta->generation);
		keys = LearnedPageKeys(page);
		n = LearnedPageGetOpaque(page)->nitems;
		for (int i = 0; i < n; i++, pos++)
		{
			double		e;

			if (have_prev && keys[i] == prev)
				continue;
			have_prev = true;
			prev = keys[i];
			e = fabs(li_predict(segs, meta->nsegments, meta->nkeys, keys[i]) - (double) pos);
			if (e > maxerr)
				maxerr = e;
		}
		UnlockReleaseBuffer(buf);
	}
	return maxerr;
}

void
learned_writer_finish(LearnedWriter *w, LearnedMetaPageData *meta)
{
	li_segment	closed[2];
	int			nclosed;
	Size		nbytes;
	char	   *blob;
	int			npages;
	BlockNumber prev = InvalidBlockNumber;

	if (w->leaf_n > 0 || w->nleaf == 0)
	{
		if (w->leaf_n == 0)
			learned_init_page(w->leaf.data, LI_PAGE_LEAF, w->generation);
		writer_flush_leaf(w);
	}
	if (w->null_n > 0)
		writer_flush_null(w);
	writer_check(li_keystream_finish(&w->ks, w->fitter, closed, &nclosed));
	writer_add_segments(w, closed, nclosed);

	/* the model blob: segments, separators, leaf block numbers */
	nbytes = w->nseg * sizeof(li_segment) +
		w->nleaf * (sizeof(uint64) + sizeof(BlockNumber));
	if (nbytes > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("learned index model too large (%zu bytes)", nbytes)));
	blob = palloc_extended(nbytes, MCXT_ALLOC_HUGE);
	memcpy(blob, w->segs, w->nseg * sizeof(li_segment));
	memcpy(blob + w->nseg * sizeof(li_segment), w->seps, w->nleaf * sizeof(uint64));
	memcpy(blob + w->nseg * sizeof(li_segment) + w->nleaf * sizeof(uint64),
		   w->blknos, w->nleaf * sizeof(BlockNumber));

	/* write the chain back to front so that each page knows its successor */
	npages = (int) ((nbytes + LI_ENTRY_AVAIL - 1) / LI_ENTRY_AVAIL);
	for (int i = npages - 1; i >= 0; i--)
	{
		PGAlignedBlock pg;
		Size		off = (Size) i * LI_ENTRY_AVAIL;
		Size		len = Min((Size) LI_ENTRY_AVAIL, nbytes - off);

		learned_init_page(pg.data, LI_PAGE_MODEL, w->generation);
		memcpy(LearnedModelData(pg.data), blob + off, len);
		LearnedPageGetOpaque(pg.data)->nitems = (uint16) len;
		LearnedPageGetOpaque(pg.data)->next = prev;
		((PageHeader) pg.data)->pd_lower = LI_ENTRY_OFF + len;
		prev = w->sink(w->arg, pg.data);
	}

	memset(meta, 0, sizeof(LearnedMetaPageData));
	meta->magic = LEARNED_MAGIC;
	meta->version = LEARNED_VERSION;
	meta->generation = w->generation;
	meta->next_generation = w->generation + 1;
	meta->keykind = w->kind;
	meta->leaf_cap = LI_LEAF_CAP;
	meta->per_page = w->per_page;
	meta->null_cap = LI_NULL_CAP;
	meta->epsilon = w->epsilon;
	meta->nleaf = w->nleaf;
	meta->nsegments = w->nseg;
	meta->model_head = prev;
	meta->model_bytes = (uint32) nbytes;
	meta->null_head = w->null_head;
	meta->nkeys = w->nkeys;
	meta->nnulls = w->nnulls;
	meta->max_error = 0.0;
	if (w->nkeys > 0)
		meta->max_error = learned_measure_error(w->index, meta, w->segs,
												w->seps, w->blknos);
	meta->radius = Max((uint32) w->epsilon, (uint32) ceil(meta->max_error));
	pfree(blob);
}

/* ------------------------------------------------------------------
 * ambuild
 * ------------------------------------------------------------------ */

typedef struct LearnedBuildState
{
	LearnedKeyKind kind;
	Tuplesortstate *sort;
	TupleTableSlot *slot;
	LearnedWriter *writer;
	double		indtuples;
	MemoryContext tmpcxt;
} LearnedBuildState;

static BlockNumber
build_sink(void *arg, Page page)
{
	Relation	index = (Relation) arg;
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	BlockNumber blk;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	memcpy(BufferGetPage(buf), page, BLCKSZ);
	MarkBufferDirty(buf);
	blk = BufferGetBlockNumber(buf);
	UnlockReleaseBuffer(buf);
	return blk;
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	LearnedBuildState *bs = (LearnedBuildState *) state;

	if (isnull[0])
		learned_writer_add_null(bs->writer, tid);
	else
	{
		uint64		key = learned_encode(bs->kind, values[0]);

		ExecClearTuple(bs->slot);
		bs->slot->tts_values[0] = Int64GetDatum((int64) (key ^ SIGN_BIT));
		bs->slot->tts_isnull[0] = false;
		bs->slot->tts_values[1] = Int64GetDatum(((int64) ItemPointerGetBlockNumber(tid) << 16) |
												ItemPointerGetOffsetNumber(tid));
		bs->slot->tts_isnull[1] = false;
		ExecStoreVirtualTuple(bs->slot);
		tuplesort_puttupleslot(bs->sort, bs->slot);
	}
	bs->indtuples += 1;
}

static LearnedKeyKind
learned_check_build(Relation index)
{
	Oid			typid = getBaseType(TupleDescAttr(RelationGetDescr(index), 0)->atttypid);
	LearnedKeyKind kind = learned_keykind_for_type(typid);

	if (kind == LI_KEY_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learned index does not support type %s",
						format_type_be(typid)),
				 errdetail("Supported types: %s.", learned_supported_types())));
	if (index->rd_indoption[0] & (INDOPTION_DESC | INDOPTION_NULLS_FIRST))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learned index does not support DESC or NULLS FIRST columns"),
				 errhint("A learned index is scanned backward for ORDER BY ... DESC; create it without DESC/NULLS FIRST.")));
	return kind;
}

IndexBuildResult *
learned_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	LearnedBuildState bs;
	TupleDesc	tupdesc;
	AttrNumber	attnums[1] = {1};
	Oid			sortops[1] = {Int8LessOperator};
	Oid			collations[1] = {InvalidOid};
	bool		nullsfirst[1] = {false};
	double		reltuples;
	Buffer		metabuf;
	LearnedMetaPageData meta;
	int			per_page;
	TupleTableSlot *outslot;
	bool		shouldfree;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data",
			 RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.kind = learned_check_build(index);
	per_page = Max(1, LI_LEAF_CAP * learned_get_fillfactor(index) / 100);

	/* metapage first, so that it is block 0 */
	metabuf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(metabuf) == LEARNED_METAPAGE_BLKNO);
	ReleaseBuffer(metabuf);

	tupdesc = CreateTemplateTupleDesc(2);
	TupleDescInitEntry(tupdesc, 1, "key", INT8OID, -1, 0);
	TupleDescInitEntry(tupdesc, 2, "tid", INT8OID, -1, 0);
	bs.slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	outslot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	bs.sort = tuplesort_begin_heap(tupdesc, 1, attnums, sortops, collations,
								   nullsfirst, maintenance_work_mem, NULL,
								   TUPLESORT_NONE);
	bs.writer = learned_writer_begin(index, 1, bs.kind,
									 learned_get_epsilon(index), per_page,
									 build_sink, index);

	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   build_callback, &bs, NULL);

	tuplesort_performsort(bs.sort);
	while (tuplesort_gettupleslot(bs.sort, true, false, outslot, NULL))
	{
		bool		isnull;
		uint64		key = (uint64) DatumGetInt64(slot_getattr(outslot, 1, &isnull)) ^ SIGN_BIT;
		int64		packed = DatumGetInt64(slot_getattr(outslot, 2, &isnull));
		ItemPointerData tid;

		CHECK_FOR_INTERRUPTS();
		ItemPointerSet(&tid, (BlockNumber) (packed >> 16), (OffsetNumber) (packed & 0xFFFF));
		learned_writer_add(bs.writer, key, &tid);
	}
	tuplesort_end(bs.sort);
	(void) shouldfree;

	learned_writer_finish(bs.writer, &meta);
	meta.last_retrain = GetCurrentTimestamp();

	/* fill the metapage */
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	learned_init_page(BufferGetPage(metabuf), LI_PAGE_META, meta.generation);
	memcpy(LearnedPageGetMeta(BufferGetPage(metabuf)), &meta, sizeof(meta));
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0,
						  RelationGetNumberOfBlocks(index), true);

	ExecDropSingleTupleTableSlot(bs.slot);
	ExecDropSingleTupleTableSlot(outslot);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ------------------------------------------------------------------
 * ambuildempty: the init fork of an unlogged index
 * ------------------------------------------------------------------ */

typedef struct EmptySink
{
	int			npages;
	PGAlignedBlock pages[4];
} EmptySink;

static BlockNumber
empty_sink(void *arg, Page page)
{
	EmptySink  *es = (EmptySink *) arg;

	if (es->npages >= (int) lengthof(es->pages) - 1)
		elog(ERROR, "learned index: empty index needs too many pages");
	memcpy(es->pages[1 + es->npages].data, page, BLCKSZ);
	es->npages++;
	return (BlockNumber) es->npages;	/* block 0 is the metapage */
}

void
learned_buildempty(Relation index)
{
	EmptySink  *es = palloc0(sizeof(EmptySink));
	LearnedWriter *w;
	LearnedMetaPageData meta;
	LearnedKeyKind kind = learned_check_build(index);

	w = learned_writer_begin(index, 1, kind, learned_get_epsilon(index),
							 Max(1, LI_LEAF_CAP * learned_get_fillfactor(index) / 100),
							 empty_sink, es);
	learned_writer_finish(w, &meta);
	learned_init_page(es->pages[0].data, LI_PAGE_META, meta.generation);
	memcpy(LearnedPageGetMeta(es->pages[0].data), &meta, sizeof(meta));

	for (int i = 0; i <= es->npages; i++)
	{
		PageSetChecksumInplace(es->pages[i].data, i);
		smgrextend(RelationGetSmgr(index), INIT_FORKNUM, i, es->pages[i].data, true);
		log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM, i,
					es->pages[i].data, true);
	}
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
