/*
 * learned_retrain.c -- the retrain: merge pending entries (leaf tails,
 * delta pages) and drop tombstones by rewriting runs of dirty leaves into
 * new dense leaves, refit the model on those runs only, keep the other
 * leaves and the segments of their key ranges (shifted to their new
 * positions), and switch the metapage to the new model in one WAL record.
 * When most leaves are dirty (or the mode is LEARNED_RETRAIN_FULL, or
 * epsilon/fillfactor changed) the run is the whole index.
 *
 * Concurrent scans are not blocked: they keep reading the pages of the
 * model they started with, which are recycled (learned_recycle.c) only
 * once no scan of it is left.  Insert batches wait (docs/design.md,
 * "Retrain" and "Locking").
 *
 * The steps, over one RetrainState:
 *   retrain_choose_leaves   which leaves are dirty; whole rewrite or local
 *   retrain_begin_generation  consume a generation, stop insert batches
 *   retrain_keep_leaf / retrain_run_bounds / retrain_rewrite_run
 *                           walk the leaves: keep clean ones, rewrite runs
 *   retrain_measure         exact error of the rewritten leaves
 *   retrain_switch          new model pages and the metapage, one record
 *   retrain_recycle         old pages to the free space map when unread
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "learned.h"

/* GUC learned_index.retrain_slice_leaves (0: a retrain switches once) */
int			learned_retrain_slice_leaves = LEARNED_DEFAULT_SLICE_LEAVES;

/* GUC learned_index.retrain_neighbours (short runs take a clean neighbour) */
bool		learned_retrain_neighbours = true;

/* what a retrain learns about one leaf before deciding */
typedef struct LeafInfo
{
	uint16		nitems;
	uint16		ndead;
	BlockNumber delta;			/* head of its delta chain */
	uint64		last_sorted;	/* last key of its sorted part */
	bool		has_sorted;
} LeafInfo;

/* a range [from, to) of leaves of the new structure written by this retrain */
typedef struct NewRange
{
	int			from;
	int			to;
} NewRange;

/*
 * A retrain call may switch the structure several times, each switch (a
 * *slice*) rewriting a bounded number of dirty leaves in key order, so
 * that the room a rewrite needs beside the pages it replaces, and the time
 * insert batches wait for it, are bounded by a slice (docs/design.md,
 * "Retrain").  The first slice decides whether the call is a whole
 * rewrite; the others go on from where the previous one stopped.
 */
typedef struct RetrainSlices
{
	int			slice;			/* dirty leaves per slice */
	int			budget;			/* dirty leaves this call still rewrites */
	bool		decided;		/* `full` is set (by the first slice) */
	bool		full;			/* every leaf is rewritten (at the fillfactor) */
	bool		has_resume;		/* the next slice starts at resume_key */
	uint64		resume_key;
	bool		from_start;		/* the first slice started at leaf 0 */
	bool		has_start;		/* the first slice starts at start_key's leaf */
	uint64		start_key;		/* (a long delta chain's leaf) */
	double		maxerr;			/* error measured over the call's slices */
	int			nslices;
} RetrainSlices;

/* the state of one retrain, shared by its steps */
typedef struct RetrainState
{
	Relation	index;
	LearnedRetrainMode mode;
	const li_item *extra;		/* sorted non-null entries merged in */
	int			nextra;
	int			xi;				/* next extra entry to merge */

	/* the structure being replaced */
	LearnedMetaPageData meta;
	LearnedCache *c;
	bool		freeze;			/* insert batches go on: leaves are frozen */
	int			L;				/* its leaves */
	LeafInfo   *info;
	bool	   *dirty;
	bool		full;			/* every leaf is rewritten */

	/* the new structure */
	int			epsilon;
	int			P;				/* leaf fill (percent) of a whole rewrite */
	uint32		newgen;
	LearnedModelArrays out;		/* its segments and leaves */
	uint64		npos;			/* its positions so far */
	NewRange   *ranges;			/* leaves it wrote */
	int			nranges;
	int			rangecap;

	/* the clean region after the last run: its segments are kept */
	bool		region_open;
	uint64		region_x0;		/* first key */
	uint64		region_lb;		/* its old first position */
	int64		region_shift;	/* new position - old position */

	/* pages the new structure no longer references */
	LearnedBlockList old;
	li_item    *items;			/* a leaf group, read */
	int			itemcap;

	/* slicing: this switch rewrites a bounded share of the dirty leaves */
	RetrainSlices *sl;
	bool	   *have;			/* info[g] was read */
	int			nread;			/* leaf states read */
	int			g0;				/* first leaf this slice looks at */
	bool		wrap;			/* ... then on from the first leaf up to g0 */
	bool		scanned_all;	/* every leaf was looked at */
	bool		cut;			/* dirty leaves may be left for the next slice */
	bool		found_known;	/* cut: every overflowed leaf the metapage counts was found */
	int			last_b;			/* last old leaf of the last run rewritten */
	int			scan_end;		/* first leaf not looked at (if cut) */
	int		   *newnum;			/* each old leaf's number in the new structure */
	int			nrewritten;		/* old leaves rewritten */
	int			nrew_overflowed;	/* ... of them with delta pages */
} RetrainState;

/* write a page of the new structure to a fresh buffer, WAL-logged */
static BlockNumber
retrain_sink(void *arg, Page page)
{
	Relation	index = (Relation) arg;
	Buffer		buf = learned_new_buffer(index);
	GenericXLogState *state = GenericXLogStart(index);
	Page		p = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	BlockNumber blk = BufferGetBlockNumber(buf);

	memcpy(p, page, BLCKSZ);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return blk;
}

/* read leaf g's special space and the last key of its sorted part */
static void
read_leaf_info(Relation index, LearnedCache *c, int g, LeafInfo *li)
{
	Buffer		buf = ReadBuffer(index, c->blknos[g]);
	Page		page;
	LearnedPageOpaque op;
	li_cleaf_view v;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, c->blknos[g], LEARNED_PAGE_LEAF, c->meta.generation);
	op = LearnedPageGetOpaque(page);
	learned_leaf_view(page, &v);
	li->nitems = op->nitems;
	li->ndead = op->ndead;
	li->delta = op->next;
	li->has_sorted = (v.n > 0);
	li->last_sorted = li->has_sorted ? li_cleaf_key_at(&v, v.n - 1) : 0;
	UnlockReleaseBuffer(buf);
}

/* append old segments covering keys [x0, x1) shifted by `shift` positions */
static void
emit_region(LearnedCache *c, uint64 x0, bool has_x1, uint64 x1, uint64 lb_x0,
			int64 shift, LearnedModelArrays *out)
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
		learned_model_add_segment(out, &s);
	}
}

/* leaf g's state, read on first use */
static LeafInfo *
leaf_info(RetrainState *rt, int g)
{
	if (!rt->have[g])
	{
		read_leaf_info(rt->index, rt->c, g, &rt->info[g]);
		rt->have[g] = true;
		rt->nread++;
	}
	return &rt->info[g];
}

/* whether leaf g needs a rewrite in this mode (its state read on demand) */
static bool
leaf_needs_rewrite(RetrainState *rt, int g)
{
	int			ns = learned_leaf_sorted(rt->c, g);
	LeafInfo   *li;

	if (rt->mode == LEARNED_RETRAIN_FULL)
		return true;
	li = leaf_info(rt, g);
	if (rt->mode == LEARNED_RETRAIN_OVERFLOW)
		return li->delta != InvalidBlockNumber || (ns > 0 && li->ndead * 4 > ns);
	return li->delta != InvalidBlockNumber || li->ndead > 0 || li->nitems > ns;
}

/* the first leaf with a separator >= the slice's resume key */
static int
retrain_first_leaf(RetrainState *rt)
{
	int			g = 0;

	while (g < rt->L && rt->c->seps[g] < rt->sl->resume_key)
		g++;
	return g;
}

/*
 * Where this slice starts looking for dirty leaves, and whether it may
 * wrap around to the first leaf.  A slice after another of the same call
 * resumes where that one stopped.  The first slice of a threshold retrain
 * (no extra entries) starts at the metapage's slice hint -- the leaf after
 * the last slice's runs -- and wraps: so consecutive threshold retrains
 * sweep the index round-robin instead of each reading every leaf from the
 * first one.  A retrain for a long delta chain starts at that chain's leaf
 * (ascending keys: the last one) and wraps.  A merge of extra entries starts at the first leaf and never
 * wraps: the slices must merge a prefix of the batch each.
 */
static void
retrain_scan_start(RetrainState *rt)
{
	rt->wrap = false;
	if (rt->sl->has_resume)
		rt->g0 = retrain_first_leaf(rt);
	else if (rt->mode == LEARNED_RETRAIN_OVERFLOW && rt->nextra == 0)
	{
		if (rt->sl->has_start)
			rt->g0 = learned_leaf_for_insert(rt->index, rt->c, rt->sl->start_key);
		else
			rt->g0 = rt->meta.slice_hint < rt->meta.nleaf ? (int) rt->meta.slice_hint : 0;
		rt->wrap = rt->g0 > 0;
	}
	else
		rt->g0 = 0;
}

/*
 * The first slice decides for the whole call whether it is a whole rewrite
 * (every leaf, packed at the fillfactor): when most leaves are dirty, from
 * an exact count when every leaf is read anyway (VACUUM's retrain, a bulk
 * merge) or from the metapage's count of overflowed leaves (a threshold
 * retrain, which reads only what its slice needs).  A new epsilon or
 * fillfactor rewrites every leaf in one switch.
 */
static void
retrain_decide(RetrainState *rt)
{
	RetrainSlices *sl = rt->sl;
	int			ndirty = 0;

	if (sl->decided)
		return;
	sl->decided = true;
	if (rt->epsilon != (int) rt->meta.epsilon ||
		learned_leaf_fill(rt->index) != (int) rt->meta.leaf_fill)
	{
		sl->full = true;
		sl->slice = INT_MAX;
		sl->budget = INT_MAX;
		return;
	}
	if (rt->mode == LEARNED_RETRAIN_FULL)
	{
		sl->full = true;
		return;
	}
	if (rt->wrap || (rt->mode == LEARNED_RETRAIN_OVERFLOW && rt->nextra == 0))
	{
		sl->full = (int64) rt->meta.ndirty * 2 > rt->L;
		return;
	}
	for (int g = rt->g0; g < rt->L; g++)
	{
		CHECK_FOR_INTERRUPTS();
		ndirty += (rt->dirty[g] || leaf_needs_rewrite(rt, g)) ? 1 : 0;
	}
	sl->full = ndirty * 2 > rt->L;
}

/*
 * Step 1: mark the dirty leaves this slice rewrites: those `extra` falls
 * into, and from g0 on (wrapping if allowed) every leaf with delta pages or
 * many tombstones (LEARNED_RETRAIN_OVERFLOW), or any pending or dead entry
 * (LEARNED_RETRAIN_PENDING), or all (a whole rewrite), until the slice has
 * min(slice, budget) of them; later ones are kept as they are (with their
 * delta pages) for the next slice or retrain.  Leaf states are read only
 * as far as the slice needs.  Returns false if there is nothing to do.
 */
static bool
retrain_choose_leaves(RetrainState *rt)
{
	LearnedCache *c = rt->c;
	int			allow;
	int			known;
	int			seen = 0;
	int			n;

	rt->info = palloc0(sizeof(LeafInfo) * rt->L);
	rt->have = palloc0(sizeof(bool) * rt->L);
	rt->dirty = palloc0(sizeof(bool) * rt->L);
	retrain_scan_start(rt);

	/*
	 * Leaves that receive extra entries are rewritten too (the merge
	 * happens while a run is rewritten): an ascending batch touches only
	 * the last leaf and stays a segment-local retrain.
	 */
	for (int i = 0, g = 0; i < rt->nextra; i++)
	{
		while (g + 1 < rt->L && c->seps[g + 1] <= rt->extra[i].key)
			g++;
		Assert(g >= rt->g0);
		rt->dirty[g] = true;
	}
	retrain_decide(rt);
	rt->full = rt->sl->full;
	if (rt->full)
		rt->P = learned_leaf_fill(rt->index);

	allow = Min(rt->sl->slice, rt->sl->budget);
	/*
	 * A segment-local threshold retrain stops reading leaf states once it
	 * has found as many dirty leaves as the metapage counts overflowed
	 * (ascending keys: one, the last leaf): reading the rest would find
	 * none, or only ones the count missed, which a later retrain finds.
	 */
	known = (rt->mode == LEARNED_RETRAIN_OVERFLOW && rt->nextra == 0 && !rt->full) ?
		Max(1, (int) Min(rt->meta.ndirty, (uint32) INT_MAX)) : INT_MAX;
	n = rt->wrap ? rt->L : rt->L - rt->g0;
	rt->scanned_all = (rt->g0 == 0 || rt->wrap);
	for (int k = 0; k < n; k++)
	{
		int			g = (rt->g0 + k) % rt->L;

		if (seen >= allow || seen >= known)
		{
			/* the rest waits for the next slice, or the next retrain */
			rt->found_known = seen >= known;
			rt->scan_end = g;
			for (; k < n; k++)
				rt->dirty[(rt->g0 + k) % rt->L] = false;
			rt->cut = true;
			rt->scanned_all = false;
			break;
		}
		CHECK_FOR_INTERRUPTS();
		if (rt->dirty[g] || rt->full || leaf_needs_rewrite(rt, g))
		{
			rt->dirty[g] = true;
			seen++;
		}
	}
	return seen > 0;
}

/*
 * The generation number the new structure gets: the next one whose
 * generation-lock tag (number mod LEARNED_GEN_TAGS) no reader holds and
 * that is not the current generation's tag.  Readers of older generations
 * lock the tag of theirs, and VACUUM waits for old readers by tag, skipping
 * the current generation's: so a tag must never be shared by the current
 * generation and a generation someone still reads (after 4096 retrains
 * with one cursor open, it would be, and VACUUM would not wait for that
 * cursor).  No new reader of an old generation can appear (readers only
 * begin on the current one), so a free tag stays free for old readers.
 */
static uint32
retrain_choose_generation(RetrainState *rt)
{
	uint32		gen = rt->meta.next_generation;

	for (int tries = 0; tries < LEARNED_GEN_TAGS; tries++, gen++)
	{
		if (LEARNED_GEN_LOCK(gen) == LEARNED_GEN_LOCK(rt->meta.generation) ||
			learned_cache_gen_tag_in_use(RelationGetRelid(rt->index), gen))
			continue;
		if (ConditionalLockPage(rt->index, LEARNED_GEN_LOCK(gen), AccessExclusiveLock))
		{
			UnlockPage(rt->index, LEARNED_GEN_LOCK(gen), AccessExclusiveLock);
			return gen;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("cannot retrain index \"%s\": every generation lock is held by a reader",
					RelationGetRelationName(rt->index)),
			 errhint("Close long-running cursors on the index and retry.")));
	return 0;					/* keep the compiler quiet */
}

/*
 * Step 2: consume a generation number (WAL-logged first: never reused even
 * after a crash).  Unless the slice freezes leaves (below),
 * set `retraining` so that new insert batches wait, then wait for the
 * batches that started before the flag (they keep the metapage pinned
 * while they write).  A freezing slice lets insert batches go on: it stops
 * them leaf by leaf (retrain_freeze_leaf), and waits for them only after
 * its switch, before recycling (retrain_after_switch).
 */
static void
retrain_begin_generation(RetrainState *rt)
{
	LearnedMetaUpdate u;
	LearnedMetaPage m;

	rt->newgen = retrain_choose_generation(rt);
	m = learned_meta_update_begin(rt->index, &u);
	m->next_generation = rt->newgen + 1;
	m->sweep_needed = 1;		/* until the old pages are recycled */
	if (!rt->freeze)
		m->retraining = 1;		/* new insert batches wait for us */
	learned_meta_update_finish(&u, !rt->freeze);
	if (rt->freeze)
		return;
	/* ... and batches that started before the flag finish first */
	LockBufferForCleanup(u.buf);
	UnlockReleaseBuffer(u.buf);
}

/*
 * Freeze leaf x before its entries are read: mark it (WAL-logged) as being
 * rewritten by generation newgen, under its exclusive lock.  Every entry
 * appended before is in the leaf or its delta chain when the rewrite reads
 * them; an insert batch that locks the leaf after sees the mark and waits
 * for this retrain (the structure lock), then goes on with the structure
 * it switched to.
 */
static void
retrain_freeze_leaf(RetrainState *rt, int x)
{
	Buffer		buf = ReadBuffer(rt->index, rt->c->blknos[x]);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	learned_check_page(rt->index, BufferGetPage(buf), rt->c->blknos[x], LEARNED_PAGE_LEAF,
					   rt->c->meta.generation);
	learned_leaf_set_mark(rt->index, buf, rt->newgen);
	UnlockReleaseBuffer(buf);
}

/* Step 3a: a clean leaf is kept as it is (same block, same separator) */
static void
retrain_keep_leaf(RetrainState *rt, int g)
{
	rt->newnum[g] = rt->out.nleaf;
	learned_model_add_leaf(&rt->out, rt->c->seps[g], rt->c->blknos[g],
						   rt->c->nsorted[g]);
	rt->npos += rt->c->nsorted[g];
}

/* extend the run's end over dirty leaves and key values spanning its border */
static void
run_extend_right(RetrainState *rt, int *b)
{
	for (;;)
	{
		while (*b + 1 < rt->L && rt->dirty[*b + 1])
			(*b)++;
		if (*b + 1 < rt->L && leaf_info(rt, *b)->has_sorted &&
			leaf_info(rt, *b)->last_sorted >= rt->c->seps[*b + 1])
		{
			(*b)++;
			rt->dirty[*b] = true;
			continue;
		}
		break;
	}
}

/* take the clean leaf before the run back from the new structure into it */
static void
run_take_back(RetrainState *rt, int *a)
{
	Assert(rt->newnum[*a - 1] == rt->out.nleaf - 1);
	(*a)--;
	rt->dirty[*a] = true;
	rt->out.nleaf--;
	rt->npos -= rt->out.nsorted[rt->out.nleaf];
}

/* extend the run's start over key values spanning its border */
static void
run_extend_left(RetrainState *rt, int *a)
{
	while (*a > 0 && leaf_info(rt, *a - 1)->has_sorted &&
		   leaf_info(rt, *a - 1)->last_sorted >= rt->c->seps[*a])
		run_take_back(rt, a);
}

/*
 * Step 3b: the run of dirty leaves [*a, *b] starting at g, extended until
 * no key value spans its borders (a clean leaf before it that shares a key
 * with it is taken back from the new structure).  A short run of a
 * segment-local retrain also takes its smaller clean neighbour along: one
 * overflowed leaf alone would become two half-full leaves (a btree split),
 * with a neighbour the entries of two leaves go into two or three fuller
 * ones (a B*-tree's redistribution), which keeps the index near a
 * REINDEX's size under random inserts.  Not at the last leaf (ascending
 * keys only append there) nor in a whole rewrite.
 */
static void
retrain_run_bounds(RetrainState *rt, int g, int *a, int *b)
{
	*a = *b = g;
	run_extend_right(rt, b);
	run_extend_left(rt, a);
	if (learned_retrain_neighbours && !rt->full && *b - *a < 2 && *b < rt->L - 1)
	{
		bool		left_ok = (*a > 0 && !rt->dirty[*a - 1]);
		bool		right_ok = !rt->dirty[*b + 1];

		if (right_ok && (!left_ok ||
						 leaf_info(rt, *b + 1)->nitems <= leaf_info(rt, *a - 1)->nitems))
		{
			(*b)++;
			rt->dirty[*b] = true;
			run_extend_right(rt, b);
		}
		else if (left_ok)
		{
			run_take_back(rt, a);
			run_extend_left(rt, a);
		}
	}
}

/*
 * Feed leaf x's live entries (sorted part, tail and delta pages, merged)
 * and the extra entries of its key range to the writer, in key order, and
 * list its pages (the chain as it is now: inserts may have linked pages
 * since the leaf's state was read) as old.
 */
static void
retrain_feed_leaf(RetrainState *rt, LearnedWriter *w, int x)
{
	LearnedCache *c = rt->c;
	int			n;
	int			xe = rt->xi;
	int			i = 0;
	BlockNumber blk;

	if (rt->freeze)
		retrain_freeze_leaf(rt, x);
	n = learned_collect_group(rt->index, c, x, 0, PG_UINT64_MAX, false,
							  &rt->items, &rt->itemcap, NULL, NULL);

	while (xe < rt->nextra &&
		   (x + 1 >= rt->L || rt->extra[xe].key < c->seps[x + 1]))
		xe++;
	while (i < n || rt->xi < xe)
	{
		const li_item *it;
		ItemPointerData tid;

		if (rt->xi < xe && (i >= n || rt->extra[rt->xi].key < rt->items[i].key))
			it = &rt->extra[rt->xi++];
		else
			it = &rt->items[i++];
		learned_item_tid(it, &tid);
		learned_writer_add(w, it->key, &tid);
	}

	learned_blocklist_add(&rt->old, c->blknos[x]);
	blk = learned_leaf_next(rt->index, c->blknos[x]);
	if (blk != InvalidBlockNumber)
		rt->nrew_overflowed++;
	while (blk != InvalidBlockNumber)
	{
		learned_blocklist_add(&rt->old, blk);
		blk = learned_chain_next(rt->index, blk, LEARNED_PAGE_DELTA, 0, NULL);
	}
}

/*
 * Step 3c: rewrite the run [a, b] into new dense leaves at the current
 * position, fitted in the same pass; keep the segments of the clean region
 * before it, and open the region after it.
 */
static void
retrain_rewrite_run(RetrainState *rt, int a, int b)
{
	LearnedCache *c = rt->c;
	LearnedWriter *w;
	LearnedRunResult res;
	int			first_new = rt->out.nleaf;

	for (int x = a; x <= b; x++)
		rt->newnum[x] = first_new;	/* (a leaf taken back is renumbered) */

	/* the clean region before this run keeps its segments */
	if (rt->region_open && a > 0)
		emit_region(c, rt->region_x0, true, c->seps[a], rt->region_lb,
					rt->region_shift, &rt->out);
	rt->region_open = false;

	/*
	 * Leaves rewritten by a local retrain received inserts before and will
	 * again: leave them more room (as a btree split does), so a leaf
	 * overflows after many more inserts and is rewritten that much less
	 * often.  A whole rewrite packs at the fillfactor, and so does a run
	 * that ends with the last leaf (ascending keys only ever append: the
	 * leaves they left behind stay as written).
	 */
	w = learned_writer_begin(rt->index, rt->newgen, rt->epsilon,
							 (rt->full || b == rt->L - 1) ? rt->P :
							 Max(1, rt->P * LEARNED_LOCAL_FILL / 100),
							 rt->npos, c->seps[a], retrain_sink, rt->index);
	for (int x = a; x <= b; x++)
	{
		CHECK_FOR_INTERRUPTS();
		retrain_feed_leaf(rt, w, x);
	}
	learned_writer_finish(w, b == rt->L - 1, &res);
	rt->last_b = b;
	rt->nrewritten += b - a + 1;

	for (int i = 0; i < res.model.nleaf; i++)
	{
		learned_model_add_leaf(&rt->out, res.model.seps[i], res.model.blknos[i],
							   res.model.nsorted[i]);
		rt->npos += res.model.nsorted[i];
	}
	for (int i = 0; i < res.model.nseg; i++)
	{
		/* a gap point past the run belongs to the next region */
		if (b + 1 < rt->L && res.model.segs[i].first_key >= c->seps[b + 1])
			break;
		learned_model_add_segment(&rt->out, &res.model.segs[i]);
	}
	if (rt->nranges >= rt->rangecap)
	{
		rt->rangecap *= 2;
		rt->ranges = repalloc(rt->ranges, sizeof(NewRange) * rt->rangecap);
	}
	rt->ranges[rt->nranges].from = first_new;
	rt->ranges[rt->nranges].to = rt->out.nleaf;
	rt->nranges++;

	/* the next clean region starts at old leaf b + 1 */
	if (b + 1 < rt->L)
	{
		rt->region_open = true;
		rt->region_x0 = c->seps[b + 1];
		rt->region_lb = c->starts[b + 1];
		rt->region_shift = (int64) rt->npos - (int64) c->starts[b + 1];
	}
}

/* Step 3: walk the leaves, keeping clean ones and rewriting dirty runs */
static void
retrain_walk(RetrainState *rt)
{
	for (int g = 0; g < rt->L;)
	{
		int			a,
					b;

		if (!rt->dirty[g])
		{
			retrain_keep_leaf(rt, g);
			g++;
			continue;
		}
		retrain_run_bounds(rt, g, &a, &b);
		retrain_rewrite_run(rt, a, b);
		g = b + 1;
	}
	if (rt->region_open)
		emit_region(rt->c, rt->region_x0, false, 0, rt->region_lb,
					rt->region_shift, &rt->out);
}

/*
 * Step 4: the new metapage: the exact error over the rewritten leaves
 * (kept leaves keep their bound; a whole rewrite measures everything).
 */
static void
retrain_measure(RetrainState *rt, LearnedMetaPageData *newmeta)
{
	/* only a whole rewrite in one switch measures every leaf */
	bool		all = rt->full && rt->sl->nslices == 0 && !rt->cut;
	double		maxerr = all ? 0.0 : rt->meta.max_error;

	*newmeta = rt->meta;
	newmeta->generation = rt->newgen;
	newmeta->next_generation = rt->newgen + 1;
	newmeta->epsilon = rt->epsilon;
	newmeta->leaf_fill = rt->P;
	newmeta->nleaf = rt->out.nleaf;
	newmeta->nsegments = rt->out.nseg;
	newmeta->nkeys = rt->npos;
	/* a freezing slice stops new batches at its switch (until it recycled) */
	newmeta->retraining = rt->freeze ? 1 : 0;
	newmeta->sweep_needed = 1;
	/* the next threshold retrain goes on where this slice stopped */
	newmeta->slice_hint = rt->cut ? (uint32) rt->newnum[rt->scan_end] : 0;
	newmeta->last_retrain = GetCurrentTimestamp();
	newmeta->nretrains = rt->meta.nretrains + 1;
	if (!rt->full)
		newmeta->nlocal = rt->meta.nlocal + 1;

	for (int r = 0; r < rt->nranges; r++)
	{
		double		e = learned_measure_error(rt->index, rt->newgen, &rt->out,
											  newmeta->nkeys, rt->ranges[r].from,
											  rt->ranges[r].to);

		maxerr = Max(maxerr, e);
		rt->sl->maxerr = Max(rt->sl->maxerr, e);
	}

	/*
	 * The last slice of a whole rewrite that started at the first leaf:
	 * every leaf was rewritten and measured by this call.
	 */
	if (rt->full && !rt->cut && rt->sl->from_start)
	{
		all = true;
		maxerr = rt->sl->maxerr;
	}
	newmeta->max_error = maxerr;
	newmeta->radius = Max((uint32) rt->epsilon, (uint32) ceil(maxerr));
	if (!all)
		newmeta->radius = Max(newmeta->radius, rt->meta.radius);
}

/*
 * Overflowed leaves this slice kept (a later slice or retrain rewrites
 * them): counted exactly when every leaf's state was read, else estimated
 * from the metapage's count (an overestimate at worst, as that count is).
 */
static uint32
retrain_overflowed_kept(RetrainState *rt)
{
	uint32		n = 0;

	if (rt->nread == rt->L)
	{
		for (int g = 0; g < rt->L; g++)
			if (!rt->dirty[g] && rt->info[g].delta != InvalidBlockNumber)
				n++;
		return n;
	}
	if (rt->scanned_all && !rt->cut)
		return 0;				/* every dirty leaf was rewritten */
	return rt->meta.ndirty > (uint32) rt->nrew_overflowed ?
		rt->meta.ndirty - rt->nrew_overflowed : 0;
}

/*
 * Step 5: write the model pages and switch the metapage to the new
 * structure in one WAL record.
 */
static void
retrain_switch(RetrainState *rt, LearnedMetaPageData *newmeta)
{
	LearnedMetaUpdate u;
	LearnedMetaPage m;
	BlockNumber *blocks = palloc(sizeof(BlockNumber) *
								 LEARNED_MODEL_PAGES(LEARNED_BLOB_BYTES(rt->out.nseg,
																		rt->out.nleaf)));

	newmeta->model_head = learned_write_model(&rt->out, rt->newgen, retrain_sink,
											  rt->index, &newmeta->model_bytes, blocks);
	m = learned_meta_update_begin(rt->index, &u);
	newmeta->null_head = m->null_head;

	/*
	 * Leaves that overflowed while we read the leaves' state, before our
	 * flag stopped new batches, may be ones we kept: keep their count (an
	 * overestimate at worst: the next retrain re-reads every leaf), or the
	 * threshold would not see them again.
	 */
	newmeta->ndirty = m->ndirty > rt->meta.ndirty ? m->ndirty - rt->meta.ndirty : 0;
	/* overflowed leaves this slice left for the next (kept with their pages) */
	newmeta->ndirty += retrain_overflowed_kept(rt);
	memcpy(m, newmeta, sizeof(LearnedMetaPageData));
	learned_meta_set_dir(u.page, blocks, LEARNED_MODEL_PAGES(newmeta->model_bytes),
						 rt->out.segs, rt->out.nseg);
	LearnedPageGetOpaque(u.page)->generation = rt->newgen;

	/*
	 * Tell every backend before anyone can see the new generation (we hold
	 * the metapage's exclusive lock until the record is written): a
	 * scan that trusts its cached model of the old generation must hear of
	 * the switch before an insert lands in the new pages, a VACUUM
	 * tombstones them, or the old pages are recycled (docs/design.md,
	 * "Locking").  An error here leaves the metapage unchanged.
	 */
	learned_cache_send_switch(rt->index);
	learned_meta_update_finish(&u, false);
}

/*
 * Step 5b, a freezing slice: its switch set `retraining`; wait for the
 * insert batches that started before it (they may still route with the old
 * model, load its pages, or lock a leaf of it) before its pages are
 * recycled.  New batches see the flag and wait for the structure lock,
 * which this call holds until it has recycled and cleared the flag.
 */
static void
retrain_after_switch(Relation index)
{
	Buffer		metabuf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);

	learned_fault("retrain_after_switch_barrier");
	LockBufferForCleanup(metabuf);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Step 6: the old model pages are garbage too; recycle every old page now
 * if no scan can still read them, else a later sweep does.
 */
static void
retrain_recycle(RetrainState *rt)
{
	BlockNumber blk = rt->meta.model_head;

	while (blk != InvalidBlockNumber)
	{
		learned_blocklist_add(&rt->old, blk);
		blk = learned_chain_next(rt->index, blk, LEARNED_PAGE_MODEL, 0, NULL);
	}
	learned_recycle(rt->index, &rt->old, rt->newgen);
}

static bool retrain_slices_locked(Relation index, LearnedRetrainMode mode,
								  const li_item *extra, int nextra,
								  int *extra_written, int budget,
								  const uint64 *start_key);

/*
 * Retrain, without extra entries, in slices until every dirty leaf is
 * rewritten.  Returns false if nothing was to be done (or, with wait =
 * false, the index was busy).
 */
bool
learned_retrain(Relation index, LearnedRetrainMode mode, bool wait)
{
	return learned_retrain_merge(index, mode, wait, NULL, 0, NULL, INT_MAX);
}

/*
 * The retrain an insert batch triggers (dirty threshold crossed, or a long
 * delta chain seen in generation `seen_gen`).  It never waits: if a retrain,
 * sweep or bulk delete holds the structure lock, that one (or a later batch)
 * takes care of it, and the inserting transaction commits at once instead
 * of queueing.  With the lock, the need is checked again, since a retrain
 * that just finished has usually absorbed the dirty leaves already.  It
 * rewrites at most `budget` dirty leaves (more than a slice: several
 * slices); the rest stay counted and the next batches go on with them.
 */
bool
learned_retrain_if_needed(Relation index, double threshold, bool long_chain,
						  uint64 chain_key, uint32 seen_gen, int budget)
{
	LearnedMetaPageData meta;
	bool		done = false;

	if (!learned_conditional_lock_structure(index, LEARNED_LOCK_RETRAIN))
		return false;
	learned_read_meta(index, &meta);
	if (learned_over_threshold(meta.ndirty, meta.nleaf, threshold) ||
		(long_chain && meta.generation == seen_gen))
		done = retrain_slices_locked(index, LEARNED_RETRAIN_OVERFLOW, NULL, 0, NULL,
									 budget, long_chain ? &chain_key : NULL);
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
	return done;
}

/* dirty leaves per slice for an index of nleaf leaves (GUC; INT_MAX: none) */
static int
retrain_slice_size(uint32 nleaf)
{
	if (learned_retrain_slice_leaves <= 0)
		return INT_MAX;
	return Max(learned_retrain_slice_leaves,
			   (int) ((nleaf + LEARNED_MAX_SLICES - 1) / LEARNED_MAX_SLICES));
}

/*
 * One slice: choose the dirty leaves from the resume point on (at most a
 * slice of them), rewrite them, switch, recycle.  `extra` (sorted) is the
 * part of the batch not merged yet; *extra_written (if given) becomes
 * `base` + what this slice merged, right at its switch.  Returns false if
 * there was nothing to do.
 */
static bool
retrain_slice(Relation index, LearnedRetrainMode mode, RetrainSlices *sl,
			  const li_item *extra, int nextra, int base, int *extra_written)
{
	RetrainState rt;
	LearnedMetaPageData newmeta;
	MemoryContext cxt,
				oldcxt;
	bool		todo;
	TimestampTz t0 = GetCurrentTimestamp();

	cxt = AllocSetContextCreate(CurrentMemoryContext, "learned_index retrain",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	memset(&rt, 0, sizeof(rt));
	rt.index = index;
	rt.mode = mode;
	rt.extra = extra;
	rt.nextra = nextra;
	rt.sl = sl;
	rt.epsilon = learned_get_epsilon(index);
	learned_read_meta(index, &rt.meta);
	if (rt.meta.sweep_needed)
	{
		/*
		 * Recycle what earlier retrains could not, so that this one can
		 * reuse those pages (before this slice holds a model: a sweep
		 * needs this session to have none in use; and before the switch
		 * record sets sweep_needed for this slice's own pages).
		 */
		learned_sweep_barrier(index);
		learned_read_meta(index, &rt.meta);
	}
	rt.c = learned_cache_acquire(index, &rt.meta);
	learned_cache_load_all(index, rt.c);
	rt.L = rt.meta.nleaf;
	rt.P = rt.meta.leaf_fill;
	if (sl->slice == 0)
		sl->slice = retrain_slice_size(rt.L);

	todo = retrain_choose_leaves(&rt);
	if (sl->nslices == 0)
		sl->from_start = (rt.g0 == 0);
	/* a segment-local slice without a batch to merge lets inserts go on */
	rt.freeze = !rt.full && rt.nextra == 0;
	if (todo)
	{
		retrain_begin_generation(&rt);
		learned_model_init(&rt.out, 64, rt.L + 16);
		rt.newnum = palloc(sizeof(int) * rt.L);
		rt.rangecap = 16;
		rt.ranges = palloc(sizeof(NewRange) * rt.rangecap);
		rt.region_open = true;
		retrain_walk(&rt);
		Assert(rt.cut || rt.xi == rt.nextra);
		retrain_measure(&rt, &newmeta);
		learned_fault("retrain_before_switch");
		retrain_switch(&rt, &newmeta);
		/* from here on, what the slice merged is in the index */
		if (extra_written)
			*extra_written = base + rt.xi;
		learned_fault("retrain_after_switch");
		sl->nslices++;
		sl->budget -= Min(sl->budget, rt.nrewritten);
		/*
		 * The next slice of this call starts after what this one looked
		 * at and rewrote.  A slice that wrapped around, or found every
		 * overflowed leaf the metapage counts, ends the call (the next
		 * threshold retrain goes on from the slice hint).
		 */
		sl->has_resume = false;
		if (rt.cut && !rt.wrap && !rt.found_known)
		{
			int			next = Max(rt.scan_end, rt.last_b + 1);

			if (next < rt.L)
			{
				sl->has_resume = true;
				sl->resume_key = rt.c->seps[next];
			}
		}
	}
	else
		sl->has_resume = false;
	learned_cache_release(rt.c);
	if (todo && rt.freeze)
		retrain_after_switch(index);
	if (todo)
		retrain_recycle(&rt);
	if (todo && rt.freeze)
		learned_set_retraining(index, 0);
	elog(DEBUG1, "learned_index: retrain slice of \"%s\": %d of %d leaves rewritten (%s), %d leaf states read, %.1f ms",
		 RelationGetRelationName(index), rt.nrewritten, rt.L, rt.full ? "whole" : "local",
		 rt.nread, (double) (GetCurrentTimestamp() - t0) / 1000.0);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return todo;
}

/*
 * Slices until the dirty leaves are rewritten or `budget` of them are, the
 * structure lock held; a threshold retrain's first slice starts at
 * *start_key's leaf if given.  Returns whether anything was done.
 */
static bool
retrain_slices_locked(Relation index, LearnedRetrainMode mode,
					  const li_item *extra, int nextra, int *extra_written,
					  int budget, const uint64 *start_key)
{
	RetrainSlices sl;
	int			done = 0;
	bool		any = false;

	memset(&sl, 0, sizeof(sl));
	sl.budget = Max(budget, 1);
	if (start_key)
	{
		sl.has_start = true;
		sl.start_key = *start_key;
	}
	if (mode == LEARNED_RETRAIN_FULL)
		sl.slice = INT_MAX;		/* one switch, every leaf measured */
	for (;;)
	{
		/* the caller's counter, not a local: an error must not lose it */
		if (!retrain_slice(index, mode, &sl, extra ? extra + done : NULL,
						   nextra - done, done, extra_written))
			break;
		any = true;
		if (extra_written)
			done = *extra_written;
		if (!sl.has_resume || sl.budget <= 0)
			break;
		CHECK_FOR_INTERRUPTS();
		learned_fault("retrain_between_slices");
	}
	return any;
}

/*
 * The retrain, optionally merging `extra` (sorted by key, non-null) into
 * the rewritten leaves: the bulk path of a large insert batch, which then
 * writes each page once instead of once as delta and once more at the
 * retrain that would follow.  *extra_written (if given) counts the prefix
 * of `extra` in the index, updated at each slice's metapage switch: an
 * error after one (recycling, the next slice) must not make the caller
 * think those entries are not in.  (It points to memory that survives the
 * error, not to a local.)  At most `budget` dirty leaves are rewritten;
 * with `extra`, pass INT_MAX (every entry must go in).
 */
bool
learned_retrain_merge(Relation index, LearnedRetrainMode mode, bool wait,
					  const li_item *extra, int nextra, int *extra_written,
					  int budget)
{
	bool		any;

	Assert(extra == NULL || budget == INT_MAX);
	if (wait)
		learned_lock_structure(index, LEARNED_LOCK_RETRAIN);
	else if (!learned_conditional_lock_structure(index, LEARNED_LOCK_RETRAIN))
		return false;
	any = retrain_slices_locked(index, mode, extra, nextra, extra_written, budget, NULL);
	learned_unlock_structure(index, LEARNED_LOCK_RETRAIN);
	return any;
}
