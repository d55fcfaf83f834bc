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
			pfree(c);
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

/* read the model blob of `meta` from its chain of pages into tmp */
static void
cache_read_blob(Relation index, const LearnedMetaPageData *meta, char *tmp)
{
	BlockNumber blk = meta->model_head;
	uint32		copied = 0;

	while (copied < meta->model_bytes)
	{
		Buffer		buf;
		Page		page;
		LearnedPageOpaque opaque;

		if (blk == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a truncated model (%u of %u bytes)",
							RelationGetRelationName(index), copied,
							meta->model_bytes)));
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, blk, LEARNED_PAGE_MODEL, meta->generation);
		opaque = LearnedPageGetOpaque(page);
		if (opaque->nitems > LEARNED_ENTRY_AVAIL ||
			copied + opaque->nitems > meta->model_bytes)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a model page with a bad length at block %u",
							RelationGetRelationName(index), blk)));
		memcpy(tmp + copied, LearnedModelData(page), opaque->nitems);
		copied += opaque->nitems;
		blk = opaque->next;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * The model of the generation `meta` describes, from this backend's cache
 * or read from the model pages; the caller holds a reference until
 * learned_cache_release().  Entries are keyed by (index, relfilenode,
 * build id, generation): a rebuild in the same file starts again at
 * generation 1 but gets a new build id.
 */
LearnedCache *
learned_cache_acquire(Relation index, const LearnedMetaPageData *meta)
{
	LearnedCache *c;
	Size		hdr = MAXALIGN(sizeof(LearnedCache));
	char	   *blob;
	char	   *tmp;

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

	/* read into transaction memory first: an error then leaks nothing */
	tmp = palloc_extended(meta->model_bytes + 8, MCXT_ALLOC_HUGE);
	cache_read_blob(index, meta, tmp);

	c = (LearnedCache *) MemoryContextAllocExtended(cache_cxt,
													hdr + MAXALIGN(meta->model_bytes) +
													(Size) meta->nleaf * sizeof(uint64) + 8,
													MCXT_ALLOC_HUGE);
	memset(c, 0, sizeof(LearnedCache));
	c->relid = RelationGetRelid(index);
	c->node = LearnedRelFileOf(index);
	c->build_id = meta->build_id;
	c->meta = *meta;
	blob = (char *) c + hdr;
	memcpy(blob, tmp, meta->model_bytes);
	pfree(tmp);

	c->segs = (li_segment *) blob;
	c->seps = (uint64 *) (blob + meta->nsegments * sizeof(li_segment));
	c->blknos = (BlockNumber *) (blob + meta->nsegments * sizeof(li_segment) +
								 meta->nleaf * sizeof(uint64));
	c->nsorted = (uint16 *) (blob + meta->nsegments * sizeof(li_segment) +
							 meta->nleaf * (sizeof(uint64) + sizeof(BlockNumber)));
	c->starts = (uint64 *) (blob + MAXALIGN(meta->model_bytes));
	{
		uint64		pos = 0;

		for (uint32 g = 0; g < meta->nleaf; g++)
		{
			c->starts[g] = pos;
			pos += c->nsorted[g];
		}
		if (pos != meta->nkeys)
		{
			pfree(c);
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a model whose leaves hold %llu positions, the metapage says %llu",
							RelationGetRelationName(index), (unsigned long long) pos,
							(unsigned long long) meta->nkeys)));
		}
	}
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
