/*
 * learned_cache.c -- the backend-local model cache and the locks that
 * order readers, inserts, bulk deletes and retrains (structure lock and
 * generation locks; see docs/design.md, "Locking" and "Backend-local
 * cache").
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/sinval.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "learned.h"

/* backend-local model cache entries (see below) */
static LearnedCache *cache_list = NULL;

/*
 * Bumped by every relcache invalidation this backend processes that may
 * concern a cached model (see learned_relcache_callback): a model is
 * trusted only if no such invalidation arrived while its generation was
 * being confirmed on the metapage.
 */
static uint64 inval_seq = 0;

/* ------------------------------------------------------------------
 * Locks
 * ------------------------------------------------------------------ */

/* take the structure lock in `mode` (waits) */
void
learned_lock_structure(Relation index, LOCKMODE mode)
{
	LockPage(index, LEARNED_STRUCTURE_LOCK, mode);
}

/* try the structure lock in `mode`; false if busy */
bool
learned_conditional_lock_structure(Relation index, LOCKMODE mode)
{
	return ConditionalLockPage(index, LEARNED_STRUCTURE_LOCK, mode);
}

/* release the structure lock */
void
learned_unlock_structure(Relation index, LOCKMODE mode)
{
	UnlockPage(index, LEARNED_STRUCTURE_LOCK, mode);
}

/*
 * Start reading the index: lock the current generation, then make sure it
 * is still current (a retrain may have switched in between; its recycle
 * test may then have run before our lock, so retry with the new one).
 */
void
learned_reader_begin(Relation index, LearnedMetaPageData *meta)
{
	uint32		gen = 0;
	bool		have_guess = false;

	/* guess the generation from our cached model: one metapage read then */
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == RelationGetRelid(index) && !c->stale &&
			LearnedRelFileEquals(c->node, LearnedRelFileOf(index)))
		{
			gen = c->meta.generation;
			have_guess = true;
			break;
		}

	/*
	 * The guess may be an old generation that a VACUUM is waiting to lock
	 * exclusively (for that generation's last readers): never queue behind
	 * it, read the metapage instead.
	 */
	if (have_guess &&
		!ConditionalLockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock))
		have_guess = false;
	if (!have_guess)
	{
		learned_read_meta(index, meta);
		gen = meta->generation;
		LockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock);
	}
	for (;;)
	{
		learned_read_meta(index, meta);
		if (meta->generation == gen)
			return;
		UnlockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock);
		gen = meta->generation;
		CHECK_FOR_INTERRUPTS();
		LockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock);
	}
}

/* stop reading: release the generation lock taken by learned_reader_begin */
void
learned_reader_end(Relation index, uint32 generation)
{
	UnlockPage(index, LEARNED_GEN_LOCK(generation), AccessShareLock);
}

/* this backend's trusted model of index (current relfilenode), or NULL */
static LearnedCache *
cache_trusted(Relation index)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == RelationGetRelid(index) && c->trusted && !c->stale &&
			LearnedRelFileEquals(c->node, LearnedRelFileOf(index)))
			return c;
	return NULL;
}

static LearnedCache *cache_ref(LearnedCache *c);

/*
 * The model a scan uses, with its generation lock held (released by
 * learned_reader_end) and a reference (learned_cache_release).  A trusted
 * model -- one whose generation was confirmed on the metapage after the
 * last invalidation that could concern it, outside recovery -- is used
 * without reading the metapage: lock its generation, then process the
 * pending invalidations; if none concerned the index, no generation switch
 * away from it can have been seen by anyone before our lock (a switch
 * sends its invalidation before it lets go of the metapage: see
 * learned_cache_send_switch and docs/design.md, "Locking").  Otherwise
 * (or on a hot standby, where replayed switches send nothing) the
 * generation is read from the metapage, as learned_reader_begin does.
 */
LearnedCache *
learned_scan_model(Relation index)
{
	LearnedCache *c = cache_trusted(index);
	LearnedMetaPageData meta;
	uint64		seq;
	bool		recovery;

	if (c != NULL)
	{
		uint32		gen = c->meta.generation;

		/* never queue behind a VACUUM waiting for this generation's readers */
		if (ConditionalLockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock))
		{
			AcceptInvalidationMessages();
			if (c->trusted)
				return cache_ref(c);
			UnlockPage(index, LEARNED_GEN_LOCK(gen), AccessShareLock);
		}
	}

	/* RecoveryInProgress() first: then the metapage shows every replayed switch */
	seq = inval_seq;
	recovery = RecoveryInProgress();
	learned_reader_begin(index, &meta);
	c = learned_cache_acquire(index, &meta);
	if (!recovery && seq == inval_seq)
		c->trusted = true;
	return c;
}

/* no cached model of index relid (InvalidOid: of any index) is trusted any more */
static void
cache_distrust(Oid relid)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (relid == InvalidOid || c->relid == relid)
			c->trusted = false;
	inval_seq++;
}

/* relcache invalidation callback: distrust the models of that relation */
static void
learned_relcache_callback(Datum arg, Oid relid)
{
	cache_distrust(relid);
}

/*
 * A generation switch of index is under way: the caller holds the
 * metapage's exclusive content lock and has not released it yet.  Send
 * every backend of the database a relcache invalidation of the index now,
 * not at commit (the switch is not transactional: it stays even if the
 * transaction aborts), so that it is in the queue before anyone can read
 * the new metapage; and distrust our own models at once.
 */
void
learned_cache_send_switch(Relation index)
{
	SharedInvalidationMessage msg;

	memset(&msg, 0, sizeof(msg));
	msg.rc.id = SHAREDINVALRELCACHE_ID;
	msg.rc.dbId = index->rd_rel->relisshared ? InvalidOid : MyDatabaseId;
	msg.rc.relId = RelationGetRelid(index);
	SendSharedInvalidMessages(&msg, 1);
	cache_distrust(RelationGetRelid(index));
}

/*
 * A build (re)wrote index from scratch, possibly in the same file (a
 * TRUNCATE of a table created in this transaction): forget our models of
 * it.  (Other backends cannot have one: the file is new to them.)
 */
void
learned_cache_forget(Oid relid)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == relid)
		{
			c->stale = true;
			c->trusted = false;
		}
	inval_seq++;
}


/* ------------------------------------------------------------------
 * Model cache
 * ------------------------------------------------------------------ */

static MemoryContext cache_cxt = NULL;

/*
 * Every reference to a cache entry is recorded with the resource owner that
 * was current when it was taken (a scan's is its portal's), so that an
 * error that ends the owner -- a subtransaction abort, a failed cursor --
 * drops the references its scans never released, exactly as it drops
 * their buffer pins and generation locks.  A leaked reference would make
 * this backend look like a reader forever and stop page recycling.
 */
typedef struct CacheRef
{
	struct CacheRef *next;
	LearnedCache *cache;
	ResourceOwner owner;
} CacheRef;

static CacheRef *cache_refs = NULL;

/* free the stale entries nobody references */
static void
cache_free_unused(void)
{
	LearnedCache **prev = &cache_list;

	while (*prev)
	{
		LearnedCache *c = *prev;

		if (c->stale && c->refcount <= 0)
		{
			*prev = c->next;
			MemoryContextDelete(c->cxt);
		}
		else
			prev = &c->next;
	}
}

/* drop the references held through `owner` (NULL: every reference) */
static void
cache_drop_refs(ResourceOwner owner, bool all)
{
	CacheRef  **prev = &cache_refs;
	bool		dropped = false;

	while (*prev)
	{
		CacheRef   *r = *prev;

		if (all || r->owner == owner)
		{
			*prev = r->next;
			r->cache->refcount--;
			pfree(r);
			dropped = true;
		}
		else
			prev = &r->next;
	}
	if (dropped)
		cache_free_unused();
}

/* resource owner release: references of the owner being released go */
static void
learned_resource_release(ResourceReleasePhase phase, bool isCommit,
						 bool isTopLevel, void *arg)
{
	if (phase == RESOURCE_RELEASE_BEFORE_LOCKS && cache_refs != NULL)
		cache_drop_refs(CurrentResourceOwner, false);
}

/* at transaction end no scan is left: drop whatever is still referenced */
static void
learned_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		cache_drop_refs(NULL, true);
}

/* register the callbacks that release cache references (from _PG_init) */
void
learned_cache_init(void)
{
	RegisterXactCallback(learned_xact_callback, NULL);
	RegisterResourceReleaseCallback(learned_resource_release, NULL);
	CacheRegisterRelcacheCallback(learned_relcache_callback, (Datum) 0);
}

/* a fresh random build id for a new metapage */
uint64
learned_new_build_id(void)
{
	uint64		id = 0;

	if (!pg_strong_random(&id, sizeof(id)))
		id = ((uint64) GetCurrentTimestamp() << 20) ^ (uint64) MyProcPid;
	return id;
}

/* record one more reference to c, owned by the current resource owner */
static LearnedCache *
cache_ref(LearnedCache *c)
{
	CacheRef   *r = MemoryContextAlloc(cache_cxt, sizeof(CacheRef));

	r->cache = c;
	r->owner = CurrentResourceOwner;
	r->next = cache_refs;
	cache_refs = r;
	c->refcount++;
	return c;
}

/*
 * Model loading.  The blob (segments, then the per-leaf arrays) is split
 * over a chain of model pages.  A new model walks the chain once, reading
 * each page in place: it records each page's block and byte offset and the
 * first key of the first segment that starts in it (a directory) -- or
 * takes all that from the model directory on the metapage -- and copies
 * only the pages that hold the per-leaf arrays (all pages when the
 * segments fit in a few), straight to their place in the entry.  The
 * other pages' segments are copied into the blob, at their place, the
 * first time a lookup needs them (learned_cache_predict), so a new
 * connection's first point query copies one or two pages instead of the
 * whole model; users of the whole segment array call
 * learned_cache_load_all() first.
 */

/* the segment arrays of at most this many pages are copied at once */
#define LEARNED_EAGER_SEG_PAGES 4

/* error: the model chain of index is inconsistent */
static void
model_corrupted(Relation index, const char *what, BlockNumber blk)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" has a model page with a bad %s at block %u",
					RelationGetRelationName(index), what, blk)));
}

/*
 * Model page p of c, read at block c->mblk[p] and share-locked: check it
 * (type, generation, length: every page but the last is full) and its
 * successor (`next`, InvalidBlockNumber: not known yet); note the first
 * segment starting on it in the directory (if `note`); copy it into the
 * blob if it holds bytes from copy_limit on.
 */
static void
entry_take_page(Relation index, LearnedCache *c, int p, Page page, BlockNumber next,
				bool note, uint32 copy_limit)
{
	uint32		off = c->moff[p];
	uint32		n = c->moff[p + 1] - off;
	uint64		j0 = ((uint64) off + sizeof(li_segment) - 1) / sizeof(li_segment);

	learned_check_page(index, page, c->mblk[p], LEARNED_PAGE_MODEL, c->meta.generation);
	if (LearnedPageGetOpaque(page)->nitems != n)
		model_corrupted(index, "length", c->mblk[p]);
	if (next != InvalidBlockNumber && LearnedPageGetOpaque(page)->next != next)
		model_corrupted(index, "successor", c->mblk[p]);
	if (note && j0 < c->meta.nsegments)
	{
		memcpy(&c->dkey[c->ndir], LearnedModelData(page) + (j0 * sizeof(li_segment) - off),
			   sizeof(uint64));
		c->dseg[c->ndir++] = (uint32) j0;
	}
	if (off + n > copy_limit)
	{
		memcpy((char *) c->segs + off, LearnedModelData(page), n);
		c->mloaded[p] = true;
		c->nloaded++;
	}
}

/*
 * Fill c's page list and directory by walking its model chain: every page
 * is read in place (and copied only from copy_limit on).
 */
static void
entry_walk(Relation index, LearnedCache *c, uint32 copy_limit)
{
	BlockNumber blk = c->meta.model_head;

	for (int p = 0; p < c->npages; p++)
	{
		Buffer		buf;

		if (blk == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a truncated model (%u of %u bytes)",
							RelationGetRelationName(index), c->moff[p],
							c->meta.model_bytes)));
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		c->mblk[p] = blk;
		entry_take_page(index, c, p, BufferGetPage(buf), InvalidBlockNumber, true, copy_limit);
		blk = LearnedPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	if (blk != InvalidBlockNumber)
		model_corrupted(index, "successor", c->mblk[c->npages - 1]);
}

/*
 * Fill c's page list and directory from the model directory on the
 * metapage, if there is one and it describes c's model (the metapage may
 * have moved on since the caller read it: then it does not), and read only
 * the pages that hold bytes from copy_limit on.  False if there is none.
 */
static bool
entry_from_dir(Relation index, LearnedCache *c, uint32 copy_limit)
{
	const LearnedMetaPageData *meta = &c->meta;
	int			n = c->npages;
	Buffer		buf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	Page		page;
	LearnedMetaPage m;
	bool		ok;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	m = LearnedPageGetMeta(page);
	ok = (m->magic == LEARNED_MAGIC && m->generation == meta->generation &&
		  m->build_id == meta->build_id && m->model_head == meta->model_head &&
		  m->model_bytes == meta->model_bytes && m->model_dir_pages == n &&
		  n <= LEARNED_META_DIR_MAX &&
		  ((PageHeader) page)->pd_lower >=
		  (char *) (LearnedMetaDirKeys(page, n) + n) - (char *) page);
	if (ok)
	{
		const uint64 *keys = LearnedMetaDirKeys(page, n);

		memcpy(c->mblk, LearnedMetaDirBlocks(page), n * sizeof(BlockNumber));
		for (int p = 0; p < n; p++)
		{
			uint64		j0 = ((uint64) c->moff[p] + sizeof(li_segment) - 1) / sizeof(li_segment);

			if (j0 < meta->nsegments)
			{
				c->dkey[c->ndir] = keys[p];
				c->dseg[c->ndir++] = (uint32) j0;
			}
		}
	}
	UnlockReleaseBuffer(buf);
	if (!ok)
		return false;
	if (c->mblk[0] != meta->model_head)
		model_corrupted(index, "directory", LEARNED_METAPAGE_BLKNO);
	for (int p = 0; p < n; p++)
		if (c->moff[p + 1] > copy_limit)
		{
			buf = ReadBuffer(index, c->mblk[p]);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			entry_take_page(index, c, p, BufferGetPage(buf),
							p + 1 < n ? c->mblk[p + 1] : InvalidBlockNumber, false,
							copy_limit);
			if (p + 1 == n && LearnedPageGetOpaque(BufferGetPage(buf))->next != InvalidBlockNumber)
				model_corrupted(index, "successor", c->mblk[p]);
			UnlockReleaseBuffer(buf);
		}
	return true;
}

/* copy model page p of c into its blob (c's generation is locked or current) */
static void
cache_load_page(Relation index, LearnedCache *c, int p)
{
	Buffer		buf = ReadBuffer(index, c->mblk[p]);
	Page		page;
	uint32		n = c->moff[p + 1] - c->moff[p];

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, c->mblk[p], LEARNED_PAGE_MODEL, c->meta.generation);
	if (LearnedPageGetOpaque(page)->nitems != n)
		model_corrupted(index, "length", c->mblk[p]);
	if (LearnedPageGetOpaque(page)->next !=
		(p + 1 < c->npages ? c->mblk[p + 1] : InvalidBlockNumber))
		model_corrupted(index, "successor", c->mblk[p]);
	memcpy((char *) c->segs + c->moff[p], LearnedModelData(page), n);
	UnlockReleaseBuffer(buf);
	c->mloaded[p] = true;
	if (++c->nloaded == c->npages)
		c->segs_ready = true;
}

/* make segments [a, b] of c readable */
static void
cache_load_segments(Relation index, LearnedCache *c, uint32 a, uint32 b)
{
	uint64		from = (uint64) a * sizeof(li_segment);
	uint64		to = ((uint64) b + 1) * sizeof(li_segment);
	int			lo = 0,
				hi = c->npages - 1;

	/* the page holding byte `from`: last p with moff[p] <= from */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (c->moff[mid] <= from)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (int p = lo; p < c->npages && c->moff[p] < to; p++)
		if (!c->mloaded[p])
			cache_load_page(index, c, p);
}

/* copy every model page not loaded yet: c->segs becomes the whole array */
void
learned_cache_load_all(Relation index, LearnedCache *c)
{
	for (int p = 0; p < c->npages && !c->segs_ready; p++)
		if (!c->mloaded[p])
			cache_load_page(index, c, p);
}

/*
 * learned_cache_predict() while some segments are not loaded: the
 * directory narrows the segment of key to those starting between two
 * directory entries, which (and the next one, whose first position bounds
 * the prediction) are loaded; then the same search and arithmetic as
 * li_predict.
 */
double
learned_cache_predict_lazy(Relation index, LearnedCache *c, uint64 key)
{
	uint32		nseg = c->meta.nsegments;
	int			lo = 0,
				hi = c->ndir - 1;
	uint32		a,
				b;

	if (nseg == 0 || key < c->dkey[0])
		return 0.0;
	/* last directory entry d with dkey[d] <= key */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (c->dkey[mid] <= key)
			lo = mid;
		else
			hi = mid - 1;
	}
	a = c->dseg[lo];
	b = (lo + 1 < c->ndir) ? c->dseg[lo + 1] : nseg;
	cache_load_segments(index, c, a, Min(b, nseg - 1));
	/* the directory must agree with the pages: key's segment is in [a, b) */
	if (c->segs[a].first_key != c->dkey[lo] ||
		(b < nseg && c->segs[b].first_key != c->dkey[lo + 1]))
		model_corrupted(index, "directory key", c->mblk[0]);
	return li_segment_predict(c->segs, nseg, a + li_find_segment(c->segs + a, b - a, key),
							  c->meta.nkeys, key);
}

/* the prefix sums of the leaves' sizes; false if they disagree with nkeys */
static bool
cache_fill_starts(LearnedCache *c)
{
	uint64		pos = 0;

	for (uint32 g = 0; g < c->meta.nleaf; g++)
	{
		c->starts[g] = pos;
		pos += c->nsorted[g];
	}
	return pos == c->meta.nkeys;
}

/*
 * A new, empty cache entry for meta's model, in its own memory context
 * `cxt`: the blob (not touched: its pages are copied at their place), the
 * leaves' first positions, the model pages (blocks, offsets, copied?) and
 * the directory.
 */
static LearnedCache *
entry_alloc(MemoryContext cxt, Relation index, const LearnedMetaPageData *meta)
{
	int			n = LEARNED_MODEL_PAGES(meta->model_bytes);
	Size		hdr = MAXALIGN(sizeof(LearnedCache));
	Size		blobsz = MAXALIGN(meta->model_bytes);
	Size		startsz = MAXALIGN((Size) meta->nleaf * sizeof(uint64) + 8);
	Size		pagesz = MAXALIGN((Size) n * sizeof(uint64)) +
		MAXALIGN((Size) n * sizeof(uint32)) +
		MAXALIGN((Size) n * sizeof(BlockNumber)) +
		MAXALIGN((Size) (n + 1) * sizeof(uint32)) + MAXALIGN((Size) n);
	char	   *p;
	LearnedCache *c;

	c = (LearnedCache *) MemoryContextAllocExtended(cxt, hdr + blobsz + startsz + pagesz,
													MCXT_ALLOC_HUGE);
	memset(c, 0, sizeof(LearnedCache));
	c->cxt = cxt;
	c->relid = RelationGetRelid(index);
	c->node = LearnedRelFileOf(index);
	c->build_id = meta->build_id;
	c->meta = *meta;
	p = (char *) c + hdr;
	c->segs = (li_segment *) p;
	c->seps = (uint64 *) (p + meta->nsegments * sizeof(li_segment));
	c->blknos = (BlockNumber *) (p + meta->nsegments * sizeof(li_segment) +
								 meta->nleaf * sizeof(uint64));
	c->nsorted = (uint16 *) (p + meta->nsegments * sizeof(li_segment) +
							 meta->nleaf * (sizeof(uint64) + sizeof(BlockNumber)));
	p += blobsz;
	c->starts = (uint64 *) p;
	p += startsz;
	c->dkey = (uint64 *) p;
	p += MAXALIGN((Size) n * sizeof(uint64));
	c->dseg = (uint32 *) p;
	p += MAXALIGN((Size) n * sizeof(uint32));
	c->mblk = (BlockNumber *) p;
	p += MAXALIGN((Size) n * sizeof(BlockNumber));
	c->moff = (uint32 *) p;
	p += MAXALIGN((Size) (n + 1) * sizeof(uint32));
	c->mloaded = (bool *) p;
	memset(c->mloaded, 0, n);
	c->npages = n;
	for (int i = 0; i <= n; i++)
		c->moff[i] = (i < n) ? (uint32) i * LEARNED_ENTRY_AVAIL : meta->model_bytes;
	return c;
}

/*
 * The model of the generation `meta` describes, from this backend's cache
 * or read from the model pages (segments loaded on demand, see above); the
 * caller holds a reference until learned_cache_release().  Entries are
 * keyed by (index, relfilenode, build id, generation): a rebuild in the
 * same file starts again at generation 1 but gets a new build id.
 */
LearnedCache *
learned_cache_acquire(Relation index, const LearnedMetaPageData *meta)
{
	LearnedCache *c;
	MemoryContext cxt;
	uint32		segbytes = meta->nsegments * sizeof(li_segment);
	uint32		copy_limit = segbytes > LEARNED_EAGER_SEG_PAGES * LEARNED_ENTRY_AVAIL ?
		segbytes : 0;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext,
										  "learned_index model cache",
										  ALLOCSET_DEFAULT_SIZES);

	for (c = cache_list; c; c = c->next)
	{
		if (c->relid != RelationGetRelid(index))
			continue;
		if (!c->stale && LearnedRelFileEquals(c->node, LearnedRelFileOf(index)) &&
			c->build_id == meta->build_id &&
			c->meta.generation == meta->generation)
			return cache_ref(c);
		c->stale = true;
	}
	cache_free_unused();

	/*
	 * The entry is built in a context under the current (transaction)
	 * one, so an error frees it; it moves under the cache once complete.
	 */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "learned_index model",
								ALLOCSET_SMALL_SIZES);
	c = entry_alloc(cxt, index, meta);
	if (!entry_from_dir(index, c, copy_limit))
		entry_walk(index, c, copy_limit);
	if (meta->nsegments > 0 && (c->ndir == 0 || c->dseg[0] != 0))
		model_corrupted(index, "first segment", meta->model_head);
	c->segs_ready = (c->nloaded == c->npages);
	if (!cache_fill_starts(c))
	{
		uint64		pos = c->starts[meta->nleaf - 1] + c->nsorted[meta->nleaf - 1];

		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a model whose leaves hold %llu positions, the metapage says %llu",
						RelationGetRelationName(index), (unsigned long long) pos,
						(unsigned long long) meta->nkeys)));
	}
	MemoryContextSetParent(cxt, cache_cxt);
	c->next = cache_list;
	cache_list = c;
	return cache_ref(c);
}

/* give back one reference taken by learned_cache_acquire */
void
learned_cache_release(LearnedCache *c)
{
	CacheRef  **prev;
	CacheRef  **found = NULL;

	if (c == NULL)
		return;
	/* prefer a reference of the current owner; any of c's will do */
	for (prev = &cache_refs; *prev; prev = &(*prev)->next)
		if ((*prev)->cache == c)
		{
			if (found == NULL || (*prev)->owner == CurrentResourceOwner)
				found = prev;
			if ((*prev)->owner == CurrentResourceOwner)
				break;
		}
	if (found == NULL)
		return;					/* dropped already by an owner's release */
	{
		CacheRef   *r = *found;

		*found = r->next;
		pfree(r);
	}
	c->refcount--;
	if (c->stale && c->refcount == 0)
		cache_free_unused();
}

/*
 * Does this backend read (hold a model reference of) a generation of index
 * relid whose generation-lock tag is the one of generation gen?  (Our own
 * locks never conflict with our own requests, so a retrain checks these.)
 */
bool
learned_cache_gen_tag_in_use(Oid relid, uint32 gen)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == relid && c->refcount > 0 &&
			LEARNED_GEN_LOCK(c->meta.generation) == LEARNED_GEN_LOCK(gen))
			return true;
	return false;
}

/* does this backend hold a reference to a model of index relid? */
bool
learned_cache_in_use(Oid relid)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == relid && c->refcount > 0)
			return true;
	return false;
}
