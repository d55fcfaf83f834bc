/*
 * learned_build.c -- ambuild and ambuildempty: the heap is scanned, its
 * keys sorted (tuplesort), and the sorted stream goes through the page
 * writer (learned_writer.c).
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "pgstat.h"
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

/* fill a metapage image's contents for a freshly written structure */
static void
build_meta(LearnedMetaPageData *meta, Relation index, LearnedKeyKind kind,
		   uint32 generation, int epsilon, int leaf_fill, LearnedRunResult *res,
		   BlockNumber model_head, uint32 model_bytes)
{
	memset(meta, 0, sizeof(LearnedMetaPageData));
	meta->magic = LEARNED_MAGIC;
	meta->version = LEARNED_VERSION;
	meta->build_id = learned_new_build_id();
	meta->generation = generation;
	meta->next_generation = generation + 1;
	meta->keykind = kind;
	meta->leaf_cap = LEARNED_LEAF_MAX;
	meta->leaf_fill = leaf_fill;
	meta->null_cap = LEARNED_NULL_CAP;
	meta->epsilon = epsilon;
	meta->nleaf = res->model.nleaf;
	meta->nsegments = res->model.nseg;
	meta->model_head = model_head;
	meta->model_bytes = model_bytes;
	meta->null_head = res->null_head;
	meta->nkeys = res->nkeys;
	meta->nnulls = res->nnulls;
	meta->radius = epsilon;
}

/* ------------------------------------------------------------------
 * ambuild
 * ------------------------------------------------------------------ */

typedef struct LearnedBuildState
{
	Relation	index;
	Relation	heap;
	LearnedKeyKind kind;
	Tuplesortstate *sort;
	TupleTableSlot *slot;
	LearnedWriter *writer;
	double		indtuples;
	MemoryContext tmpcxt;
	bool		unique;			/* CREATE UNIQUE INDEX: live duplicates fail */
	bool		nulls_conflict; /* ... NULLS NOT DISTINCT */
	int64		live_nulls;
} LearnedBuildState;

/*
 * the sorted tuples pack (block, offset, alive) into one int8, the TID in
 * its bits 1-48 and bit 0 set for a live tuple: the build sorts by key
 * alone (a second sort column makes tuplesort break every tie of
 * duplicates by deforming both tuples: 1.5-3x slower builds of 10M
 * duplicates), then each run of equal keys by this value (BuildRun), so
 * the TIDs of equal keys come out in TID order (the compressed leaves
 * need that to code them cheaply, design.md §4)
 */
#define BUILD_ALIVE_BIT INT64CONST(1)
#define BUILD_PACK(blk, off, alive) \
	(((int64) (blk) << 17) | ((int64) (off) << 1) | ((alive) ? BUILD_ALIVE_BIT : 0))

/* a run of equal keys from the sort (at most LI_CLEAF_MAX: longer runs go in pieces) */
typedef struct BuildRun
{
	uint64		key;
	int			n;
	int64		packed[LI_CLEAF_MAX];
} BuildRun;

/* build_sort_packed(int64 *, size_t): an inlined sort of packed TIDs */
#define ST_SORT build_sort_packed
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* hand a run of equal keys to the writer in TID order */
static void
build_flush_run(BuildRun *run, LearnedWriter *writer)
{
	int			i;

	if (run->n > 1)
		build_sort_packed(run->packed, run->n);
	for (i = 0; i < run->n; i++)
	{
		ItemPointerData tid;

		ItemPointerSet(&tid, (BlockNumber) (run->packed[i] >> 17),
					   (OffsetNumber) ((run->packed[i] >> 1) & 0xFFFF));
		learned_writer_add(writer, run->key, &tid);
	}
	run->n = 0;
}

/* a unique build met two live tuples with equal keys (or NULLs) */
static void
build_duplicate(LearnedBuildState *bs, bool isnull, uint64 key)
{
	Datum		value = isnull ? (Datum) 0 : learned_decode(bs->kind, key);
	char	   *key_desc = BuildIndexValueDescription(bs->index, &value, &isnull);

	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("could not create unique index \"%s\"",
					RelationGetRelationName(bs->index)),
			 key_desc ? errdetail("Key %s is duplicated.", key_desc) :
			 errdetail("Duplicate keys exist."),
			 errtableconstraint(bs->heap, RelationGetRelationName(bs->index))));
}

/* build: append a finished page at the end of the relation (WAL comes later) */
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

/* build: one heap tuple -> tuplesort (NULLs straight to the writer) */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	LearnedBuildState *bs = (LearnedBuildState *) state;

	if (isnull[0])
	{
		if (bs->nulls_conflict && tupleIsAlive && ++bs->live_nulls > 1)
			build_duplicate(bs, true, 0);
		learned_writer_add_null(bs->writer, tid);
	}
	else
	{
		uint64		key = learned_encode(bs->kind, values[0]);

		ExecClearTuple(bs->slot);
		bs->slot->tts_values[0] = Int64GetDatum((int64) (key ^ SIGN_BIT));
		bs->slot->tts_isnull[0] = false;
		bs->slot->tts_values[1] = Int64GetDatum(BUILD_PACK(ItemPointerGetBlockNumber(tid),
														   ItemPointerGetOffsetNumber(tid),
														   tupleIsAlive));
		bs->slot->tts_isnull[1] = false;
		ExecStoreVirtualTuple(bs->slot);
		tuplesort_puttupleslot(bs->sort, bs->slot);
	}
	bs->indtuples += 1;
}

/* the key kind of an index being built, or an error for a bad definition */
static LearnedKeyKind
learned_check_build(Relation index)
{
	Oid			typid = getBaseType(TupleDescAttr(RelationGetDescr(index), 0)->atttypid);
	LearnedKeyKind kind = learned_keykind_for_type(typid);

	if (kind != LEARNED_KEY_INVALID && index->rd_opcintype[0] == ANYELEMENTOID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("operator class \"unsupported_type_ops\" cannot be used for an index"),
				 errhint("Use the default operator class of type %s.",
						 format_type_be(typid))));
	if (kind == LEARNED_KEY_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learned index does not support type %s",
						format_type_be(typid)),
				 errdetail("Supported types: %s.", learned_supported_types())));
	return kind;
}

/* ambuild: scan the heap, sort, write leaves and model, measure, WAL */
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
	LearnedRunResult res;
	BlockNumber model_head;
	BlockNumber *model_blocks;
	uint32		model_bytes;
	int			leaf_fill;
	TupleTableSlot *outslot;
	bool		shouldfree;
	int64		ndone = 0;
	uint64		prev_key = 0;
	uint64		prev_raw = 0;
	bool		prev_alive = false;
	BuildRun   *run;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data",
			 RelationGetRelationName(index));
	/* a rebuild in the same file: our models of the old build must not match */
	learned_cache_forget(RelationGetRelid(index));

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.heap = heap;
	bs.kind = learned_check_build(index);
	bs.unique = indexInfo->ii_Unique;
	bs.nulls_conflict = indexInfo->ii_Unique && indexInfo->ii_NullsNotDistinct;
	leaf_fill = learned_leaf_fill(index);

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
	bs.writer = learned_writer_begin(index, 1, learned_get_epsilon(index),
									 leaf_fill, 0, 0, build_sink, index);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE,
								 LEARNED_PHASE_TABLESCAN);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   build_callback, &bs, NULL);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LEARNED_PHASE_SORT);
	tuplesort_performsort(bs.sort);
	{
		const int	idx[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_CREATEIDX_TUPLES_TOTAL,
		PROGRESS_CREATEIDX_TUPLES_DONE};
		const int64 val[] = {LEARNED_PHASE_WRITE, (int64) bs.indtuples, 0};

		pgstat_progress_update_multi_param(3, idx, val);
	}
	run = palloc(sizeof(BuildRun));
	run->n = 0;
	while (tuplesort_gettupleslot(bs.sort, true, false, outslot, NULL))
	{
		bool		isnull;
		uint64		key = (uint64) DatumGetInt64(slot_getattr(outslot, 1, &isnull)) ^ SIGN_BIT;
		int64		packed = DatumGetInt64(slot_getattr(outslot, 2, &isnull));

		uint64		ukey = key;
		uint64		ulo;

		CHECK_FOR_INTERRUPTS();
		/*
		 * live tuples of one key: more than one is a duplicate (equal keys
		 * with two codes -- floats' -0.0 and +0.0 -- sort next to each other)
		 */
		if (bs.unique)
			learned_unique_range(bs.kind, key, &ulo, &ukey);
		if (bs.unique && (packed & BUILD_ALIVE_BIT))
		{
			if (ndone > 0 && ukey == prev_key && prev_alive)
				build_duplicate(&bs, false, prev_raw);
			prev_alive = true;
		}
		else if (ndone == 0 || ukey != prev_key)
			prev_alive = false;
		prev_key = ukey;
		prev_raw = key;
		if (run->n > 0 && (key != run->key || run->n == LI_CLEAF_MAX))
			build_flush_run(run, bs.writer);
		run->key = key;
		run->packed[run->n++] = packed;
		if ((++ndone & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ndone);
	}
	build_flush_run(run, bs.writer);
	pfree(run);
	tuplesort_end(bs.sort);
	(void) shouldfree;

	learned_writer_finish(bs.writer, true, &res);
	model_blocks = palloc(sizeof(BlockNumber) *
						  LEARNED_MODEL_PAGES(LEARNED_BLOB_BYTES(res.model.nseg, res.model.nleaf)));
	model_head = learned_write_model(&res.model, 1, build_sink, index,
									 &model_bytes, model_blocks);
	build_meta(&meta, index, bs.kind, 1, learned_get_epsilon(index), leaf_fill,
			   &res, model_head, model_bytes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ndone);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LEARNED_PHASE_VERIFY);
	meta.max_error = learned_measure_error(index, 1, &res.model, res.nkeys,
										   0, res.model.nleaf);
	meta.radius = Max(meta.epsilon, (uint32) ceil(meta.max_error));
	meta.last_retrain = GetCurrentTimestamp();

	/* fill the metapage */
	metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	learned_init_page(BufferGetPage(metabuf), LEARNED_PAGE_META, meta.generation);
	memcpy(LearnedPageGetMeta(BufferGetPage(metabuf)), &meta, sizeof(meta));
	learned_meta_set_dir(BufferGetPage(metabuf), model_blocks, LEARNED_MODEL_PAGES(model_bytes),
						 res.model.segs, res.model.nseg);
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

/* buildempty: write a page to the init fork */
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

/* ambuildempty: the empty index of an unlogged table (init fork) */
void
learned_buildempty(Relation index)
{
	EmptySink  *es = palloc0(sizeof(EmptySink));
	LearnedWriter *w;
	LearnedMetaPageData meta;
	LearnedRunResult res;
	BlockNumber model_head;
	uint32		model_bytes;
	LearnedKeyKind kind = learned_check_build(index);
	int			leaf_fill = learned_leaf_fill(index);

	w = learned_writer_begin(index, 1, learned_get_epsilon(index), leaf_fill,
							 0, 0, empty_sink, es);
	learned_writer_finish(w, true, &res);
	model_head = learned_write_model(&res.model, 1, empty_sink, es,
									 &model_bytes, NULL);
	build_meta(&meta, index, kind, 1, learned_get_epsilon(index), leaf_fill,
			   &res, model_head, model_bytes);
	learned_init_page(es->pages[0].data, LEARNED_PAGE_META, meta.generation);
	memcpy(LearnedPageGetMeta(es->pages[0].data), &meta, sizeof(meta));

	for (int i = 0; i <= es->npages; i++)
	{
		PageSetChecksumInplace(es->pages[i].data, i);
		smgrextend(RelationGetSmgr(index), INIT_FORKNUM, i, es->pages[i].data, true);
		log_newpage(LearnedSmgrRelFile(RelationGetSmgr(index)), INIT_FORKNUM, i,
					es->pages[i].data, true);
	}
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

/* names of the build phases shown in pg_stat_progress_create_index */
char *
learned_buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case LEARNED_PHASE_TABLESCAN:
			return "scanning table";
		case LEARNED_PHASE_SORT:
			return "sorting keys";
		case LEARNED_PHASE_WRITE:
			return "writing leaves and fitting model";
		case LEARNED_PHASE_VERIFY:
			return "measuring model error";
		default:
			return NULL;
	}
}
