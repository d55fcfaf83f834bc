/*
 * learned_writer.c -- the page writer shared by build, retrain and
 * buildempty: a sorted stream of (key, TID) becomes dense leaf pages, the
 * model is fitted in the same pass, and the model blob (segments,
 * separators, leaf block numbers, sorted counts) is written to a chain of
 * model pages; then the error of what was written is measured exactly.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "learned.h"

/* entries a writer keeps before cutting leaves: the last two leaves are
 * balanced at the end, so at least one full leaf's worth stays pending */
#define WRITER_PENDING (2 * LEARNED_LEAF_MAX)

struct LearnedWriter
{
	Relation	index;
	uint32		generation;
	int			epsilon;
	int			fill;			/* percent of a leaf's bytes its compressed
								 * block may take (the rest is the tail's) */
	uint64		base_pos;
	uint64		first_sep;
	learned_sink_fn sink;
	void	   *arg;

	uint64	   *pkeys;			/* pending entries, not yet in a leaf */
	ItemPointerData *ptids;
	int			npend;
	int			last_m;			/* entries of the last leaf cut (a hint) */
	void	   *plan_fit;		/* li_cleaf_plan_keep of pending entries [plan_from,
								 * plan_from + plan_m), which fit (plan_m 0: none) */
	void	   *plan_try;		/* the plan being tried */
	int			plan_from;
	int			plan_m;
	PGAlignedBlock leaf;		/* page being written */
	PGAlignedBlock nullpg;
	int			null_n;
	BlockNumber null_head;

	li_fitter  *fitter;
	li_keystream ks;
	LearnedModelArrays model;	/* segments fitted, leaves written */

	uint64		nkeys;
	uint64		nnulls;
};

/* a status of the core's fitter that is not LI_OK is an internal error */
static void
writer_check(li_status st)
{
	if (st != LI_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("learned index model fitting failed with status %d", (int) st)));
}

/* keep the segments the fitter closed */
static void
writer_add_segments(LearnedWriter *w, li_segment *closed, int nclosed)
{
	for (int i = 0; i < nclosed; i++)
		learned_model_add_segment(&w->model, &closed[i]);
}

/*
 * A writer turns a sorted stream of entries into leaf pages written through
 * `sink`, fitting the model in the same pass.  Its positions start at
 * base_pos and its first leaf gets the separator first_sep (a retrain that
 * rewrites a run of leaves inside the index uses both).  Each leaf holds
 * as many entries as compress into fill percent of the page (fill:
 * learned_leaf_fill, the fillfactor), the rest left for its tail.
 */
LearnedWriter *
learned_writer_begin(Relation index, uint32 generation, int epsilon,
					 int fill, uint64 base_pos, uint64 first_sep,
					 learned_sink_fn sink, void *arg)
{
	LearnedWriter *w = palloc0(sizeof(LearnedWriter));

	w->index = index;
	w->generation = generation;
	w->epsilon = epsilon;
	w->fill = Min(Max(fill, 1), 100);
	w->base_pos = base_pos;
	w->first_sep = first_sep;
	w->sink = sink;
	w->arg = arg;
	w->pkeys = palloc(sizeof(uint64) * WRITER_PENDING);
	w->ptids = palloc(sizeof(ItemPointerData) * WRITER_PENDING);
	w->null_head = InvalidBlockNumber;
	w->plan_fit = palloc(li_cleaf_plan_size());
	w->plan_try = palloc(li_cleaf_plan_size());
	w->fitter = palloc(li_fitter_size());
	writer_check(li_fitter_init(w->fitter, (uint32) epsilon));
	li_keystream_init(&w->ks);
	w->ks.pos = base_pos;
	learned_model_init(&w->model, 64, 64);
	return w;
}

/* compress pending entries [from, from + m) into a leaf, write and record it */
static void
writer_emit_leaf(LearnedWriter *w, int from, int m)
{
	Page		page = w->leaf.data;
	size_t		bytes;
	BlockNumber blk;

	learned_init_page(page, LEARNED_PAGE_LEAF, w->generation);
	/* the plan of the leaf's last try, if it was for these entries */
	if ((w->plan_m > 0 && w->plan_m == m && w->plan_from == from ?
		 li_cleaf_encode_plan(w->pkeys + from, (const uint16 *) (w->ptids + from),
							  (uint32) m, w->plan_fit, LearnedLeafBlock(page),
							  LEARNED_ENTRY_AVAIL, &bytes) :
		 li_cleaf_encode(w->pkeys + from, (const uint16 *) (w->ptids + from),
						 (uint32) m, LearnedLeafBlock(page), LEARNED_ENTRY_AVAIL,
						 &bytes)) != LI_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compress a learned index leaf of %d entries", m)));
	w->plan_m = 0;				/* (writer_cut moves the pending entries) */
	LearnedPageGetOpaque(page)->nitems = m;
	blk = w->sink(w->arg, page);
	learned_model_add_leaf(&w->model,
						   (w->model.nleaf == 0) ? w->first_sep : w->pkeys[from],
						   blk, (uint16) m);
	w->last_m = m;
}

/*
 * The bytes a leaf's compressed block may take: the fill's share of the
 * page (btree's meaning of a fillfactor), the rest left for the tail.
 */
static size_t
writer_budget(LearnedWriter *w)
{
	return (size_t) LEARNED_ENTRY_AVAIL * (size_t) w->fill / 100;
}

/*
 * The bytes of a leaf's compressed block for pending entries [from,
 * from + m), or SIZE_MAX if m entries cannot make one
 */
static size_t
writer_bytes(LearnedWriter *w, int from, int m)
{
	li_cleaf_hdr h;

	if (m > LEARNED_LEAF_MAX ||
		li_cleaf_plan_keep(w->pkeys + from, (const uint16 *) (w->ptids + from),
						   (uint32) m, &h, w->plan_try) != LI_OK)
		return SIZE_MAX;
	if (h.bytes <= writer_budget(w))
	{
		/* it fits: keep its plan for writer_emit_leaf */
		void	   *t = w->plan_fit;

		w->plan_fit = w->plan_try;
		w->plan_try = t;
		w->plan_from = from;
		w->plan_m = m;
	}
	return h.bytes;
}

/* does a leaf of pending entries [from, from + m) fit the budget? */
static bool
writer_fits(LearnedWriter *w, int from, int m)
{
	return writer_bytes(w, from, m) <= writer_budget(w);
}

/* li_cleaf_fit over n pending entries from `from`, within the budget */
static int
writer_fit(LearnedWriter *w, int from, int n)
{
	return (int) li_cleaf_fit(w->pkeys + from, (const uint16 *) (w->ptids + from),
							  (uint32) n, writer_budget(w));
}

/*
 * How many of the n pending entries from `from` the next leaf takes: a
 * count lo that fits the budget while lo + Max(1, lo / 256) or more does
 * not (a leaf may stay that much short of full), or the cap.  Leaves of
 * one run compress alike, so the first try is the last leaf's count; a
 * block's bytes grow nearly in line with its entries, so the next two
 * tries aim where the line through the last try meets the budget, or
 * just past the near end of the bracket when that is closer (then one
 * try usually closes it: 2-3 plans a leaf where galloping and bisecting
 * took 4-5); bisection after that.  The first leaf of a run is an exact
 * search (li_cleaf_fit).
 */
static int
writer_leaf_count(LearnedWriter *w, int from, int n)
{
	int			cap = Min(n, LEARNED_LEAF_MAX);
	int			p = Min(w->last_m, cap);
	size_t		budget = writer_budget(w);
	int			lo = 0,			/* fits (0: none known yet) */
				hi = cap + 1;	/* does not fit (cap + 1: none known yet) */

	if (p <= 0)
		return Max(writer_fit(w, from, n), 1);
	for (int k = 0;; k++)
	{
		size_t		bytes = writer_bytes(w, from, p);
		bool		fits = bytes <= budget;
		int			tol;

		if (fits)
			lo = p;
		else
			hi = p;
		tol = Max(1, lo / 256);
		if (lo == cap || (hi <= cap && hi - lo <= tol))
			break;
		if (k < 2 && bytes > 0 && bytes != SIZE_MAX)
		{
			int64		est = (int64) ((uint64) p * budget / bytes);

			p = fits ? (int) Min(Max(est, lo + tol), (int64) cap) :
				(int) Max(Min(est, (int64) (hi - tol)), 1);
		}
		else
			p = lo + (hi - lo) / 2;
		p = Min(Max(p, lo + 1), hi - 1);
	}
	return Max(lo, 1);
}

/*
 * Cut leaves from the pending entries.  Unless `last`, stop while at least
 * a full leaf's worth (LEARNED_LEAF_MAX) remains, so the last two leaves
 * can be balanced at the end: a short last leaf is merged into the
 * previous one when both fit one leaf, else the two share the entries
 * evenly, so a run never ends with a nearly empty leaf.
 */
static void
writer_cut(LearnedWriter *w, bool last)
{
	int			from = 0;

	while (w->npend - from > (last ? 0 : LEARNED_LEAF_MAX))
	{
		int			rest = w->npend - from;
		int			m = writer_leaf_count(w, from, rest);

		if (last && m < rest && rest - m < m / 2)
		{
			int			half = (rest + 1) / 2;

			if (writer_fits(w, from, half) && writer_fits(w, from + half, rest - half))
				m = half;
		}
		writer_emit_leaf(w, from, m);
		from += m;
		CHECK_FOR_INTERRUPTS();
	}
	if (from > 0)
	{
		memmove(w->pkeys, w->pkeys + from, sizeof(uint64) * (w->npend - from));
		memmove(w->ptids, w->ptids + from, sizeof(ItemPointerData) * (w->npend - from));
		w->npend -= from;
	}
}

/* add the next entry (keys in order) to the leaves and to the fit */
void
learned_writer_add(LearnedWriter *w, uint64 key, ItemPointer tid)
{
	li_segment	closed[2];
	int			nclosed;

	if (w->npend == WRITER_PENDING)
		writer_cut(w, false);
	w->pkeys[w->npend] = key;
	w->ptids[w->npend] = *tid;
	w->npend++;

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

/* write the NULL page being filled at the head of the NULL chain */
static void
writer_flush_null(LearnedWriter *w)
{
	Page		page = w->nullpg.data;

	LearnedPageGetOpaque(page)->nitems = w->null_n;
	LearnedPageGetOpaque(page)->next = w->null_head;
	w->null_head = w->sink(w->arg, page);
	w->null_n = 0;
}

/* add a NULL entry (NULL pages, chained) */
void
learned_writer_add_null(LearnedWriter *w, ItemPointer tid)
{
	Page		page = w->nullpg.data;

	if (w->null_n == LEARNED_NULL_CAP)
		writer_flush_null(w);
	if (w->null_n == 0)
		learned_init_page(page, LEARNED_PAGE_NULL, w->generation);
	LearnedNullTids(page)[w->null_n++] = *tid;
	w->nnulls++;
}

/* Flush the last pages and close the fit; the result owns the model arrays. */
void
learned_writer_finish(LearnedWriter *w, bool at_end, LearnedRunResult *res)
{
	li_segment	closed[2];
	int			nclosed;
	writer_cut(w, true);
	if (w->model.nleaf == 0)
		writer_emit_leaf(w, 0, 0);	/* an empty index has one empty leaf */
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

	res->model = w->model;
	res->nkeys = w->nkeys;
	res->null_head = w->null_head;
	res->nnulls = w->nnulls;
	/* the results live on; the writer (page buffers, pending arrays) does not */
	pfree(w->pkeys);
	pfree(w->ptids);
	pfree(w->plan_fit);
	pfree(w->plan_try);
	pfree(w);
}

/*
 * Write the model blob (segments, separators, leaf blocks, sorted counts)
 * as a chain of model pages, back to front so that each page knows its
 * successor.  Returns the head block; blocks (if given, room for
 * LEARNED_MODEL_PAGES(bytes)) gets the block of every page.
 */
BlockNumber
learned_write_model(const LearnedModelArrays *m, uint32 generation,
					learned_sink_fn sink, void *arg, uint32 *nbytes_out,
					BlockNumber *blocks)
{
	Size		nbytes = LEARNED_BLOB_BYTES(m->nseg, m->nleaf);
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
	memcpy(p, m->segs, m->nseg * sizeof(li_segment));
	p += m->nseg * sizeof(li_segment);
	memcpy(p, m->seps, m->nleaf * sizeof(uint64));
	p += m->nleaf * sizeof(uint64);
	memcpy(p, m->blknos, m->nleaf * sizeof(BlockNumber));
	p += m->nleaf * sizeof(BlockNumber);
	memcpy(p, m->nsorted, m->nleaf * sizeof(uint16));

	npages = (int) ((nbytes + LEARNED_ENTRY_AVAIL - 1) / LEARNED_ENTRY_AVAIL);
	for (int i = npages - 1; i >= 0; i--)
	{
		PGAlignedBlock pg;
		Size		off = (Size) i * LEARNED_ENTRY_AVAIL;
		Size		len = Min((Size) LEARNED_ENTRY_AVAIL, nbytes - off);

		learned_init_page(pg.data, LEARNED_PAGE_MODEL, generation);
		memcpy(LearnedModelData(pg.data), blob + off, len);
		LearnedPageGetOpaque(pg.data)->nitems = (uint16) len;
		LearnedPageGetOpaque(pg.data)->next = prev;
		((PageHeader) pg.data)->pd_lower = LEARNED_ENTRY_OFF + len;
		prev = sink(arg, pg.data);
		if (blocks)
			blocks[i] = prev;
	}
	pfree(blob);
	*nbytes_out = (uint32) nbytes;
	return prev;
}

/*
 * Maximum |prediction - true position| over every distinct key of leaves
 * [from, to) of m (leaf g's entries are at positions start(g) + i), reading
 * the pages just written: every key checked, no sampling (the core's
 * li_max_error_at, leaf by leaf; a run of equal keys counts at its first
 * position, also across leaves).
 */
double
learned_measure_error(Relation index, uint32 generation,
					  const LearnedModelArrays *m, uint64 nkeys, int from, int to)
{
	double		maxerr = 0.0;
	li_run		run = {0, 0};
	uint64		start = 0;
	uint64	   *keys = palloc(sizeof(uint64) * LEARNED_LEAF_MAX);
	li_cleaf_view v;

	for (int g = 0; g < from; g++)
		start += m->nsorted[g];

	for (int g = from; g < to; g++)
	{
		Buffer		buf = ReadBuffer(index, m->blknos[g]);
		Page		page;
		double		e;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, m->blknos[g], LEARNED_PAGE_LEAF, generation);
		learned_leaf_view(page, &v);
		li_cleaf_decode_keys(&v, keys);
		e = li_max_error_at(m->segs, m->nseg, nkeys, keys, v.n, start, &run);
		maxerr = Max(maxerr, e);
		start += m->nsorted[g];
		UnlockReleaseBuffer(buf);
	}
	pfree(keys);
	return maxerr;
}

/* an empty model with room for nseg segments and nleaf leaves */
void
learned_model_init(LearnedModelArrays *m, int nseg, int nleaf)
{
	m->segcap = Max(nseg, 16);
	m->leafcap = Max(nleaf, 16);
	m->nseg = 0;
	m->nleaf = 0;
	m->segs = palloc(sizeof(li_segment) * m->segcap);
	m->seps = palloc(sizeof(uint64) * m->leafcap);
	m->blknos = palloc(sizeof(BlockNumber) * m->leafcap);
	m->nsorted = palloc(sizeof(uint16) * m->leafcap);
}

/* append a segment, growing the array by doubling */
void
learned_model_add_segment(LearnedModelArrays *m, const li_segment *s)
{
	if (m->nseg >= m->segcap)
	{
		m->segcap *= 2;
		m->segs = repalloc_huge(m->segs, sizeof(li_segment) * m->segcap);
	}
	m->segs[m->nseg++] = *s;
}

/* append a leaf (separator, block, sorted entries), growing by doubling */
void
learned_model_add_leaf(LearnedModelArrays *m, uint64 sep, BlockNumber blk,
					   uint16 nsorted)
{
	if (m->nleaf >= m->leafcap)
	{
		m->leafcap *= 2;
		m->seps = repalloc_huge(m->seps, sizeof(uint64) * m->leafcap);
		m->blknos = repalloc_huge(m->blknos, sizeof(BlockNumber) * m->leafcap);
		m->nsorted = repalloc_huge(m->nsorted, sizeof(uint16) * m->leafcap);
	}
	m->seps[m->nleaf] = sep;
	m->blknos[m->nleaf] = blk;
	m->nsorted[m->nleaf] = nsorted;
	m->nleaf++;
}
