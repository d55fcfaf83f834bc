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

struct LearnedWriter
{
	Relation	index;
	uint32		generation;
	int			epsilon;
	int			per_page;
	uint64		base_pos;
	uint64		first_sep;
	learned_sink_fn sink;
	void	   *arg;

	PGAlignedBlock leaf;		/* leaf being filled */
	int			leaf_n;
	PGAlignedBlock prev;		/* a full leaf not yet written: the last two
								 * leaves are balanced at the end */
	bool		have_prev;
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
	uint16	   *nsorted;
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

/*
 * A writer turns a sorted stream of entries into leaf pages written through
 * `sink`, fitting the model in the same pass.  Its positions start at
 * base_pos and its first leaf gets the separator first_sep (a retrain that
 * rewrites a run of leaves inside the index uses both).
 */
LearnedWriter *
learned_writer_begin(Relation index, uint32 generation, int epsilon,
					 int per_page, uint64 base_pos, uint64 first_sep,
					 learned_sink_fn sink, void *arg)
{
	LearnedWriter *w = palloc0(sizeof(LearnedWriter));

	w->index = index;
	w->generation = generation;
	w->epsilon = epsilon;
	w->per_page = per_page;
	w->base_pos = base_pos;
	w->first_sep = first_sep;
	w->sink = sink;
	w->arg = arg;
	w->null_head = InvalidBlockNumber;
	w->fitter = palloc(li_fitter_size());
	writer_check(li_fitter_init(w->fitter, (uint32) epsilon));
	li_keystream_init(&w->ks);
	w->ks.pos = base_pos;
	w->segcap = 64;
	w->segs = palloc(sizeof(li_segment) * w->segcap);
	w->leafcap = 64;
	w->seps = palloc(sizeof(uint64) * w->leafcap);
	w->blknos = palloc(sizeof(BlockNumber) * w->leafcap);
	w->nsorted = palloc(sizeof(uint16) * w->leafcap);
	return w;
}

static void
writer_emit_leaf(LearnedWriter *w, Page page, int n)
{
	BlockNumber blk;

	LearnedPageGetOpaque(page)->nitems = n;
	blk = w->sink(w->arg, page);
	if (w->nleaf >= w->leafcap)
	{
		w->leafcap *= 2;
		w->seps = repalloc_huge(w->seps, sizeof(uint64) * w->leafcap);
		w->blknos = repalloc_huge(w->blknos, sizeof(BlockNumber) * w->leafcap);
		w->nsorted = repalloc_huge(w->nsorted, sizeof(uint16) * w->leafcap);
	}
	w->seps[w->nleaf] = (w->nleaf == 0) ? w->first_sep : LearnedPageKeys(page)[0];
	w->blknos[w->nleaf] = blk;
	w->nsorted[w->nleaf] = (uint16) n;
	w->nleaf++;
}

/* the current leaf is full: write the previous one, keep this one back */
static void
writer_flush_leaf(LearnedWriter *w)
{
	if (w->have_prev)
		writer_emit_leaf(w, w->prev.data, LearnedPageGetOpaque(w->prev.data)->nitems);
	memcpy(w->prev.data, w->leaf.data, BLCKSZ);
	LearnedPageGetOpaque(w->prev.data)->nitems = w->leaf_n;
	w->have_prev = true;
	w->leaf_n = 0;
}

/*
 * Write the last leaves: a short last leaf is merged into the previous one
 * when both fit in one page, else the two share the entries evenly, so a
 * run never ends with a nearly empty leaf.
 */
static void
writer_flush_last(LearnedWriter *w)
{
	int			np = w->have_prev ? LearnedPageGetOpaque(w->prev.data)->nitems : 0;
	int			nc = w->leaf_n;
	int			total = np + nc;

	if (!w->have_prev)
	{
		if (nc == 0)
			learned_init_page(w->leaf.data, LI_PAGE_LEAF, w->generation);
		writer_emit_leaf(w, w->leaf.data, nc);
		return;
	}
	if (nc == 0 || nc >= w->per_page / 2)
	{
		writer_emit_leaf(w, w->prev.data, np);
		if (nc > 0)
			writer_emit_leaf(w, w->leaf.data, nc);
	}
	else
	{
		/* gather both (sorted) into prev, then split */
		Page		a = w->prev.data;
		Page		b = w->leaf.data;
		uint64		keys[1200];
		ItemPointerData tids[1200];
		int			first;

		StaticAssertStmt(2 * LI_LEAF_CAP <= 1200, "scratch too small");
		memcpy(keys, LearnedPageKeys(a), np * sizeof(uint64));
		memcpy(keys + np, LearnedPageKeys(b), nc * sizeof(uint64));
		memcpy(tids, LearnedPageTids(a), np * sizeof(ItemPointerData));
		memcpy(tids + np, LearnedPageTids(b), nc * sizeof(ItemPointerData));
		first = (total <= LI_LEAF_CAP) ? total : (total + 1) / 2;
		learned_init_page(a, LI_PAGE_LEAF, w->generation);
		memcpy(LearnedPageKeys(a), keys, first * sizeof(uint64));
		memcpy(LearnedPageTids(a), tids, first * sizeof(ItemPointerData));
		writer_emit_leaf(w, a, first);
		if (total > first)
		{
			learned_init_page(b, LI_PAGE_LEAF, w->generation);
			memcpy(LearnedPageKeys(b), keys + first, (total - first) * sizeof(uint64));
			memcpy(LearnedPageTids(b), tids + first, (total - first) * sizeof(ItemPointerData));
			writer_emit_leaf(w, b, total - first);
		}
	}
	w->have_prev = false;
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

	/* the separator is the lower bound of this run: fit it too */
	if (w->nkeys == 0 && key > w->first_sep && w->first_sep > 0)
	{
		writer_check(li_fitter_add(w->fitter, w->first_sep, w->base_pos,
								   closed, &nclosed));
		writer_add_segments(w, closed, nclosed);
	}
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
 * Flush the last pages and close the fit.
 */
void
learned_writer_finish(LearnedWriter *w, bool at_end, LearnedRunResult *res)
{
	li_segment	closed[2];
	int			nclosed;
	if (w->leaf_n > 0 || w->have_prev || w->nleaf == 0)
		writer_flush_last(w);
	if (w->null_n > 0)
		writer_flush_null(w);

	/* positions are contiguous: keys after the run start right after it */
	(void) at_end;
	writer_check(li_keystream_finish_at(&w->ks, w->fitter, w->base_pos + w->nkeys,
										closed, &nclosed));
	writer_add_segments(w, closed, nclosed);
	/* the fitter's hull arrays are large (li_fitter_size()): a retrain
	 * writes one run after another, so give the memory back now */
	pfree(w->fitter);
	w->fitter = NULL;

	res->segs = w->segs;
	res->nseg = w->nseg;
	res->seps = w->seps;
	res->blknos = w->blknos;
	res->nsorted = w->nsorted;
	res->nleaf = w->nleaf;
	res->nkeys = w->nkeys;
	res->null_head = w->null_head;
	res->nnulls = w->nnulls;
	/* the results live on; the writer (three page buffers) does not */
	pfree(w);
}

/*
 * Write the model blob (segments, separators, leaf blocks, sorted counts)
 * as a chain of model pages, back to front so that each page knows its
 * successor.  Returns the head block.
 */
BlockNumber
learned_write_model(const li_segment *segs, int nseg, const uint64 *seps,
					const BlockNumber *blknos, const uint16 *nsorted, int nleaf,
					uint32 generation, learned_sink_fn sink, void *arg,
					uint32 *nbytes_out)
{
	Size		nbytes = LEARNED_BLOB_BYTES(nseg, nleaf);
	char	   *blob;
	char	   *p;
	int			npages;
	BlockNumber prev = InvalidBlockNumber;

	if (nbytes > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("learned index model too large (%zu bytes)", nbytes)));
	blob = palloc_extended(nbytes, MCXT_ALLOC_HUGE);
	p = blob;
	memcpy(p, segs, nseg * sizeof(li_segment));
	p += nseg * sizeof(li_segment);
	memcpy(p, seps, nleaf * sizeof(uint64));
	p += nleaf * sizeof(uint64);
	memcpy(p, blknos, nleaf * sizeof(BlockNumber));
	p += nleaf * sizeof(BlockNumber);
	memcpy(p, nsorted, nleaf * sizeof(uint16));

	npages = (int) ((nbytes + LI_ENTRY_AVAIL - 1) / LI_ENTRY_AVAIL);
	for (int i = npages - 1; i >= 0; i--)
	{
		PGAlignedBlock pg;
		Size		off = (Size) i * LI_ENTRY_AVAIL;
		Size		len = Min((Size) LI_ENTRY_AVAIL, nbytes - off);

		learned_init_page(pg.data, LI_PAGE_MODEL, generation);
		memcpy(LearnedModelData(pg.data), blob + off, len);
		LearnedPageGetOpaque(pg.data)->nitems = (uint16) len;
		LearnedPageGetOpaque(pg.data)->next = prev;
		((PageHeader) pg.data)->pd_lower = LI_ENTRY_OFF + len;
		prev = sink(arg, pg.data);
	}
	pfree(blob);
	*nbytes_out = (uint32) nbytes;
	return prev;
}

/*
 * Maximum |prediction - true position| over every distinct key of leaves
 * [from, to) (leaf g's entries are at positions start(g) + i), reading the
 * pages just written: every key checked, no sampling.
 */
double
learned_measure_error(Relation index, uint32 generation,
					  const li_segment *segs, int nseg, uint64 nkeys,
					  const BlockNumber *blknos, const uint16 *nsorted,
					  int from, int to)
{
	double		maxerr = 0.0;
	bool		have_prev = false;
	uint64		prev = 0;
	uint64		start = 0;

	for (int g = 0; g < from; g++)
		start += nsorted[g];

	for (int g = from; g < to; g++)
	{
		Buffer		buf = ReadBuffer(index, blknos[g]);
		Page		page;
		uint64	   *keys;
		int			n;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, blknos[g], LI_PAGE_LEAF, generation);
		keys = LearnedPageKeys(page);
		n = LearnedPageGetOpaque(page)->nitems;
		for (int i = 0; i < n; i++)
		{
			double		e;

			if (have_prev && keys[i] == prev)
				continue;
			have_prev = true;
			prev = keys[i];
			e = fabs(li_predict(segs, nseg, nkeys, keys[i]) - (double) (start + i));
			if (e > maxerr)
				maxerr = e;
		}
		start += nsorted[g];
		UnlockReleaseBuffer(buf);
	}
	return maxerr;
}

/* fill a metapage image's contents for a freshly written structure */
static void
build_meta(LearnedMetaPageData *meta, Relation index, LearnedKeyKind kind,
		   uint32 generation, int epsilon, int per_page, LearnedRunResult *res,
		   BlockNumber model_head, uint32 model_bytes)
{
	memset(meta, 0, sizeof(LearnedMetaPageData));
	meta->magic = LEARNED_MAGIC;
	meta->version = LEARNED_VERSION;
	meta->build_id = learned_new_build_id();
	meta->generation = generation;
	meta->next_generation = generation + 1;
	meta->keykind = kind;
	meta->leaf_cap = LI_LEAF_CAP;
	meta->per_page = per_page;
	meta->null_cap = LI_NULL_CAP;
	meta->epsilon = epsilon;
	meta->nleaf = res->nleaf;
	meta->nsegments = res->nseg;
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

	if (kind != LI_KEY_INVALID && index->rd_opcintype[0] == ANYELEMENTOID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("operator class \"unsupported_type_ops\" cannot be used for an index"),
				 errhint("Use the default operator class of type %s.",
						 format_type_be(typid))));
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
	LearnedRunResult res;
	BlockNumber model_head;
	uint32		model_bytes;
	int			per_page;
	TupleTableSlot *outslot;
	bool		shouldfree;
	int64		ndone = 0;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data",
			 RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.kind = learned_check_build(index);
	per_page = learned_per_page(index);

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
									 per_page, 0, 0, build_sink, index);

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
	while (tuplesort_gettupleslot(bs.sort, true, false, outslot, NULL))
	{
		bool		isnull;
		uint64		key = (uint64) DatumGetInt64(slot_getattr(outslot, 1, &isnull)) ^ SIGN_BIT;
		int64		packed = DatumGetInt64(slot_getattr(outslot, 2, &isnull));
		ItemPointerData tid;

		CHECK_FOR_INTERRUPTS();
		ItemPointerSet(&tid, (BlockNumber) (packed >> 16), (OffsetNumber) (packed & 0xFFFF));
		learned_writer_add(bs.writer, key, &tid);
		if ((++ndone & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ndone);
	}
	tuplesort_end(bs.sort);
	(void) shouldfree;

	learned_writer_finish(bs.writer, true, &res);
	model_head = learned_write_model(res.segs, res.nseg, res.seps, res.blknos,
									 res.nsorted, res.nleaf, 1, build_sink, index,
									 &model_bytes);
	build_meta(&meta, index, bs.kind, 1, learned_get_epsilon(index), per_page,
			   &res, model_head, model_bytes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ndone);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LEARNED_PHASE_VERIFY);
	meta.max_error = learned_measure_error(index, 1, res.segs, res.nseg, res.nkeys,
										   res.blknos, res.nsorted, 0, res.nleaf);
	meta.radius = Max(meta.epsilon, (uint32) ceil(meta.max_error));
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
	LearnedRunResult res;
	BlockNumber model_head;
	uint32		model_bytes;
	LearnedKeyKind kind = learned_check_build(index);
	int			per_page = learned_per_page(index);

	w = learned_writer_begin(index, 1, learned_get_epsilon(index), per_page,
							 0, 0, empty_sink, es);
	learned_writer_finish(w, true, &res);
	model_head = learned_write_model(res.segs, res.nseg, res.seps, res.blknos,
									 res.nsorted, res.nleaf, 1, empty_sink, es,
									 &model_bytes);
	build_meta(&meta, index, kind, 1, learned_get_epsilon(index), per_page,
			   &res, model_head, model_bytes);
	learned_init_page(es->pages[0].data, LI_PAGE_META, meta.generation);
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
