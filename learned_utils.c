/*
 * learned_utils.c -- key encoding, page helpers, the metapage, the
 * backend-local model cache, page allocation and the group reader shared
 * by scans, vacuum and retrain.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/rmgr.h"
#include "access/xloginsert.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "learned.h"

/* ------------------------------------------------------------------
 * Key encoding
 * ------------------------------------------------------------------ */

LearnedKeyKind
learned_keykind_for_type(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return LI_KEY_INT2;
		case INT4OID:
			return LI_KEY_INT4;
		case INT8OID:
			return LI_KEY_INT8;
		case FLOAT4OID:
			return LI_KEY_FLOAT4;
		case FLOAT8OID:
			return LI_KEY_FLOAT8;
		case DATEOID:
			return LI_KEY_DATE;
		case TIMESTAMPOID:
			return LI_KEY_TIMESTAMP;
		case TIMESTAMPTZOID:
			return LI_KEY_TIMESTAMPTZ;
		default:
			return LI_KEY_INVALID;
	}
}

const char *
learned_supported_types(void)
{
	return "smallint, integer, bigint, real, double precision, date, "
		"timestamp without time zone, timestamp with time zone";
}

uint64
learned_encode(LearnedKeyKind kind, Datum value)
{
	switch (kind)
	{
		case LI_KEY_INT2:
			return li_encode_int64((int64) DatumGetInt16(value));
		case LI_KEY_INT4:
			return li_encode_int64((int64) DatumGetInt32(value));
		case LI_KEY_INT8:
			return li_encode_int64(DatumGetInt64(value));
		case LI_KEY_FLOAT4:
			return li_encode_float8((double) DatumGetFloat4(value));
		case LI_KEY_FLOAT8:
			return li_encode_float8(DatumGetFloat8(value));
		case LI_KEY_DATE:
			return li_encode_int64((int64) DatumGetDateADT(value));
		case LI_KEY_TIMESTAMP:
			return li_encode_int64((int64) DatumGetTimestamp(value));
		case LI_KEY_TIMESTAMPTZ:
			return li_encode_int64((int64) DatumGetTimestampTz(value));
		default:
			elog(ERROR, "learned index: invalid key kind %d", (int) kind);
	}
	return 0;					/* keep compiler quiet */
}

/*
 * Encoded range of every value comparing equal to a scan-key argument of
 * type typid (an argument of another type of the same operator family).
 */
void
learned_encode_bounds(Oid typid, Datum value, uint64 *lo, uint64 *hi)
{
	LearnedKeyKind kind = learned_keykind_for_type(typid);

	if (kind == LI_KEY_FLOAT4 || kind == LI_KEY_FLOAT8)
	{
		double		v = (kind == LI_KEY_FLOAT4) ? (double) DatumGetFloat4(value)
			: DatumGetFloat8(value);

		*lo = li_float8_bound_lo(v);
		*hi = li_float8_bound_hi(v);
		return;
	}
	if (kind == LI_KEY_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learned index cannot compare with values of type %s",
						format_type_be(typid))));
	*lo = *hi = learned_encode(kind, value);
}

Datum
learned_decode(LearnedKeyKind kind, uint64 key)
{
	switch (kind)
	{
		case LI_KEY_INT2:
			return Int16GetDatum((int16) li_decode_int64(key));
		case LI_KEY_INT4:
			return Int32GetDatum((int32) li_decode_int64(key));
		case LI_KEY_INT8:
			return Int64GetDatum(li_decode_int64(key));
		case LI_KEY_FLOAT4:
			return Float4GetDatum((float4) li_decode_float8(key));
		case LI_KEY_FLOAT8:
			return Float8GetDatum(li_decode_float8(key));
		case LI_KEY_DATE:
			return DateADTGetDatum((DateADT) li_decode_int64(key));
		case LI_KEY_TIMESTAMP:
			return TimestampGetDatum((Timestamp) li_decode_int64(key));
		case LI_KEY_TIMESTAMPTZ:
			return TimestampTzGetDatum((TimestampTz) li_decode_int64(key));
		default:
			elog(ERROR, "learned index: invalid key kind %d", (int) kind);
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------------
 * Pages
 * ------------------------------------------------------------------ */

void
learned_init_page(Page page, uint16 type, uint32 generation)
{
	LearnedPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(LearnedPageOpaqueData));
	opaque = LearnedPageGetOpaque(page);
	opaque->generation = generation;
	opaque->next = InvalidBlockNumber;
	opaque->nitems = 0;
	opaque->ndead = 0;
	opaque->page_type = type;
	opaque->page_id = LEARNED_PAGE_ID;
	if (type == LI_PAGE_LEAF || type == LI_PAGE_DELTA)
		((PageHeader) page)->pd_lower = LI_ENTRY_OFF + LI_LEAF_CAP * (8 + 6);
	else if (type == LI_PAGE_NULL)
		((PageHeader) page)->pd_lower = LI_ENTRY_OFF + LI_NULL_CAP * 6;
	else if (type == LI_PAGE_META)
		((PageHeader) page)->pd_lower =
			((char *) LearnedPageGetMeta(page) + sizeof(LearnedMetaPageData)) - (char *) page;
	/* model pages set pd_lower when they are filled */
}

static bool
learned_page_is_ours(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(LearnedPageOpaqueData)) &&
		LearnedPageGetOpaque(page)->page_id == LEARNED_PAGE_ID;
}

void
learned_check_page(Relation index, Page page, BlockNumber blkno,
				   uint16 type, uint32 generation)
{
	LearnedPageOpaque opaque;

	/*
	 * On a hot standby, readers do not hold the primary's locks, so a page
	 * may be recycled (and rewritten) under a query that started before a
	 * replayed retrain: a page of the wrong type, or newer than the query's
	 * model, cancels the query like any recovery conflict.
	 */
	if (generation != 0 && RecoveryInProgress() &&
		(!learned_page_is_ours(page) ||
		 LearnedPageGetOpaque(page)->page_type != type ||
		 LearnedPageGetOpaque(page)->generation > generation))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("canceling statement due to conflict with recovery"),
				 errdetail("Index \"%s\" was retrained on the primary while the statement was reading it.",
						   RelationGetRelationName(index))));
	if (!learned_page_is_ours(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains an invalid page at block %u",
						RelationGetRelationName(index), blkno)));
	opaque = LearnedPageGetOpaque(page);
	if (opaque->page_type != type)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u has page type %u, expected %u",
						RelationGetRelationName(index), blkno,
						opaque->page_type, type)));
	/*
	 * On the primary, pages are recycled only after every reader of an
	 * older model has ended, so a leaf or model page newer than the
	 * reader's model is corruption.  Delta and NULL pages are different:
	 * inserts link new ones to leaves a retrain kept (and to the NULL chain)
	 * after a retrain, and readers of the older model legitimately meet them.
	 */
	if (generation != 0 && opaque->generation > generation &&
		(type == LI_PAGE_LEAF || type == LI_PAGE_MODEL))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u belongs to generation %u, expected %u",
						RelationGetRelationName(index), blkno,
						opaque->generation, generation)));
	if ((type == LI_PAGE_LEAF || type == LI_PAGE_DELTA) &&
		opaque->nitems > LI_LEAF_CAP)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u has %u entries, more than %d",
						RelationGetRelationName(index), blkno,
						opaque->nitems, LI_LEAF_CAP)));
	if (type == LI_PAGE_NULL && opaque->nitems > LI_NULL_CAP)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u has %u entries, more than %d",
						RelationGetRelationName(index), blkno,
						opaque->nitems, LI_NULL_CAP)));
}

void
learned_read_meta(Relation index, LearnedMetaPageData *meta)
{
	Buffer		buf = learned_read_meta_pinned(index, meta);

	ReleaseBuffer(buf);
}

/*
 * Read and check the metapage into *meta; the metapage stays pinned (not
 * locked) and its buffer is returned.  Insert batches keep this pin while
 * they write: a retrain waits for it (see learned_insert.c).
 */
Buffer
learned_read_meta_pinned(Relation index, LearnedMetaPageData *meta)
{
	Buffer		buf;
	Page		page;
	LearnedMetaPage m;

	/*
	 * (No RelationGetNumberOfBlocks() check first: it costs a system call
	 * per read, and every read of an index with no block 0 fails anyway.)
	 */
	buf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!learned_page_is_ours(page) ||
		LearnedPageGetOpaque(page)->page_type != LI_PAGE_META ||
		LearnedPageGetMeta(page)->magic != LEARNED_MAGIC)
	{
		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a learned index: bad metapage magic number",
						RelationGetRelationName(index))));
	}
	m = LearnedPageGetMeta(page);
	if (m->version != LEARNED_VERSION)
	{
		uint32		v = m->version;

		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has on-disk format version %u, but this build of learned_index reads version %d",
						RelationGetRelationName(index), v, LEARNED_VERSION),
				 errhint("REINDEX the index.")));
	}
	memcpy(meta, m, sizeof(LearnedMetaPageData));
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);

	if (meta->nleaf < 1 || meta->leaf_cap != LI_LEAF_CAP ||
		meta->per_page < 1 || meta->per_page > LI_LEAF_CAP ||
		meta->model_bytes != LEARNED_BLOB_BYTES(meta->nsegments, meta->nleaf))
	{
		ReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an inconsistent metapage",
						RelationGetRelationName(index))));
	}
	return buf;
}

/* backend-local model cache entries (see below) */
static LearnedCache *cache_list = NULL;

/* ------------------------------------------------------------------
 * Locks
 * ------------------------------------------------------------------ */

void
learned_lock_structure(Relation index, LOCKMODE mode)
{
	LockPage(index, LEARNED_STRUCTURE_LOCK, mode);
}

bool
learned_conditional_lock_structure(Relation index, LOCKMODE mode)
{
	return ConditionalLockPage(index, LEARNED_STRUCTURE_LOCK, mode);
}

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

void
learned_reader_end(Relation index, uint32 generation)
{
	UnlockPage(index, LEARNED_GEN_LOCK(generation), AccessShareLock);
}

int
learned_get_epsilon(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->epsilon : LEARNED_DEFAULT_EPSILON;
}

double
learned_get_retrain_threshold(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->retrain_threshold : LEARNED_DEFAULT_RETRAIN_THRESHOLD;
}

/* entries per leaf written by build and retrain */
int
learned_per_page(Relation index)
{
	return Max(1, LI_LEAF_CAP * learned_get_fillfactor(index) / 100);
}

int
learned_get_fillfactor(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->fillfactor : LEARNED_DEFAULT_FILLFACTOR;
}

void
learned_check_index_rel(Relation index)
{
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL ||
		index->rd_indam->ambuild != learned_build)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a learned index",
						RelationGetRelationName(index))));
	if (RELATION_IS_OTHER_TEMP(index))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot access temporary indexes of other sessions")));
	if (!index->rd_index->indisvalid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is not valid",
						RelationGetRelationName(index))));
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
		learned_check_page(index, page, blk, LI_PAGE_MODEL, meta->generation);
		opaque = LearnedPageGetOpaque(page);
		if (opaque->nitems > LI_ENTRY_AVAIL ||
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

/* does this backend hold a reference to a model of index relid? */
bool
learned_cache_in_use(Oid relid)
{
	for (LearnedCache *c = cache_list; c; c = c->next)
		if (c->relid == relid && c->refcount > 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------
 * Page allocation
 * ------------------------------------------------------------------ */

/*
 * Append entries[0..k) (keys and TIDs, NULL pages: TIDs only) to the page
 * in `buf` (exclusively locked) at its current nitems, WAL-logged.
 *
 * The record is an ordinary generic WAL record (resource manager
 * "Generic", replayed by core's generic_redo): per block, a list of
 * fragments (uint16 offset, uint16 length, bytes).  It is the record
 * GenericXLogFinish would write for this change, built directly from the
 * three byte ranges we know we changed, instead of copying the 8 kB page
 * twice and diffing it byte by byte (the dominant cost of a single-row
 * insert).  Redo zeroes the page's hole (pd_lower..pd_upper), which our
 * entry pages never write (it stays zero); test/t/001_wal.pl replays these
 * records with wal_consistency_checking = generic.
 */
void
learned_append_logged(Relation index, Buffer buf, const uint64 *keys,
					  const ItemPointerData *tids, int k)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	bool		isnull = (op->page_type == LI_PAGE_NULL);
	int			n0 = op->nitems;
	char		delta[3 * 2 * sizeof(uint16) + LI_LEAF_CAP * 14 + sizeof(uint16) + 16];
	int			dlen = 0;
	char	   *ranges[3];
	uint16		lens[3];
	int			nr = 0;

	Assert(k > 0 && n0 + k <= (isnull ? LI_NULL_CAP : LI_LEAF_CAP));
	Assert(op->page_type == LI_PAGE_LEAF || op->page_type == LI_PAGE_DELTA || isnull);
	if (isnull)
	{
		ranges[nr] = (char *) &LearnedNullTids(page)[n0];
		lens[nr++] = (uint16) (k * sizeof(ItemPointerData));
	}
	else
	{
		ranges[nr] = (char *) &LearnedPageKeys(page)[n0];
		lens[nr++] = (uint16) (k * sizeof(uint64));
		ranges[nr] = (char *) &LearnedPageTids(page)[n0];
		lens[nr++] = (uint16) (k * sizeof(ItemPointerData));
	}
	ranges[nr] = (char *) &op->nitems;
	lens[nr++] = (uint16) sizeof(op->nitems);

	START_CRIT_SECTION();
	if (!isnull)
		memcpy(&LearnedPageKeys(page)[n0], keys, k * sizeof(uint64));
	memcpy(isnull ? &LearnedNullTids(page)[n0] : &LearnedPageTids(page)[n0],
		   tids, k * sizeof(ItemPointerData));
	op->nitems = (uint16) (n0 + k);
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(index))
	{
		XLogRecPtr	lsn;

		for (int i = 0; i < nr; i++)
		{
			uint16		off = (uint16) (ranges[i] - (char *) page);

			memcpy(delta + dlen, &off, sizeof(uint16));
			memcpy(delta + dlen + sizeof(uint16), &lens[i], sizeof(uint16));
			memcpy(delta + dlen + 2 * sizeof(uint16), ranges[i], lens[i]);
			dlen += 2 * sizeof(uint16) + lens[i];
		}
		XLogBeginInsert();
		XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
		XLogRegisterBufData(0, delta, dlen);
		lsn = XLogInsert(RM_GENERIC_ID, 0);
		PageSetLSN(page, lsn);
	}
	END_CRIT_SECTION();
}

/*
 * Returns an exclusively locked buffer that is free for use: a recycled
 * page (from the FSM, checked to be really marked free: the FSM is only a
 * hint) or a new page at the end of the relation.  The caller initialises
 * it completely.
 */
Buffer
learned_new_buffer(Relation index)
{
	Buffer		buf;

	for (;;)
	{
		BlockNumber blkno = GetFreeIndexPage(index);

		if (blkno == InvalidBlockNumber)
			break;
		if (blkno == LEARNED_METAPAGE_BLKNO)
			continue;
		buf = ReadBuffer(index, blkno);
		if (ConditionalLockBuffer(buf))
		{
			Page		page = BufferGetPage(buf);

			if (PageIsNew(page))
				return buf;
			if (learned_page_is_ours(page) &&
				LearnedPageGetOpaque(page)->page_type == LI_PAGE_FREE)
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/* ------------------------------------------------------------------
 * Finding leaf groups
 * ------------------------------------------------------------------ */

static int
predicted_leaf(LearnedCache *c, uint64 key)
{
	double		pred = li_predict(c->segs, c->meta.nsegments, c->meta.nkeys, key);
	uint64		pos = (pred <= 0) ? 0 : (uint64) pred;
	int			lo = 0,
				hi = c->meta.nleaf;

	/* last leaf whose first position is <= pos */
	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->starts[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* last leaf p with seps[p] <= key (seps[0] is 0, so there is one) */
static int
last_leaf_le(LearnedCache *c, uint64 key, int hint)
{
	int			n = c->meta.nleaf;
	int			p = hint;
	int			steps;
	int			lo,
				hi;

	for (steps = 0; steps < 4; steps++)
	{
		if (p > 0 && c->seps[p] > key)
			p--;
		else if (p + 1 < n && c->seps[p + 1] <= key)
			p++;
		else
			return p;
	}
	/* model far off (heavy duplicates across pages): binary search */
	lo = 0;
	hi = n;						/* answer in [lo, hi) */
	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->seps[mid] <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* first leaf p that can hold a key >= lo: p == last or seps[p+1] >= lo */
static int
first_leaf_ge(LearnedCache *c, uint64 key, int hint)
{
	int			n = c->meta.nleaf;
	int			p = hint;
	int			steps;
	int			lo,
				hi;

	for (steps = 0; steps < 4; steps++)
	{
		if (p + 1 < n && c->seps[p + 1] < key)
			p++;
		else if (p > 0 && c->seps[p] >= key)
			p--;
		else
			return p;
	}
	lo = 0;
	hi = n - 1;					/* smallest p in [lo, hi] with the property */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (c->seps[mid + 1] >= key)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int
learned_leaf_for_insert(LearnedCache *c, uint64 key)
{
	return last_leaf_le(c, key, predicted_leaf(c, key));
}

int
learned_leaf_first(LearnedCache *c, uint64 lo)
{
	return first_leaf_ge(c, lo, predicted_leaf(c, lo));
}

int
learned_leaf_last(LearnedCache *c, uint64 hi)
{
	return last_leaf_le(c, hi, predicted_leaf(c, hi));
}

void
learned_model_window(LearnedCache *c, int group, uint64 key,
					 int64 *wlo, int64 *whi)
{
	double		pred = li_predict(c->segs, c->meta.nsegments, c->meta.nkeys, key);
	double		off = pred - (double) c->starts[group];

	*wlo = (int64) floor(off - c->meta.radius);
	*whi = (int64) ceil(off + c->meta.radius) + 1;
}

/* ------------------------------------------------------------------
 * Reading a leaf group: the leaf page and its delta chain
 * ------------------------------------------------------------------ */

static inline void
items_reserve(li_item **items, int *cap, int need)
{
	if (need <= *cap)
		return;
	if (*cap == 0 || *items == NULL)
	{
		*cap = Max(need, 64);
		*items = palloc(sizeof(li_item) * *cap);
	}
	else
	{
		while (*cap < need)
			*cap *= 2;
		*items = repalloc(*items, sizeof(li_item) * *cap);
	}
}

static inline void
item_set(li_item *it, uint64 key, const ItemPointerData *tid)
{
	it->key = key;
	it->tid[0] = tid->ip_blkid.bi_hi;
	it->tid[1] = tid->ip_blkid.bi_lo;
	it->tid[2] = tid->ip_posid;
	it->pad = 0;
}

/*
 * Collect the live entries of leaf group `group` with lo <= key <= hi, in
 * key order, into *items (allocated in the current memory context).
 * Returns the count.  With keep_pin, the leaf page stays pinned and its
 * buffer is returned there (the caller releases it); this is what makes
 * VACUUM's cleanup lock wait for scans still returning these entries.
 */
int
learned_collect_group(Relation index, LearnedCache *c, int group,
					  uint64 lo, uint64 hi, bool use_model,
					  li_item **items, int *itemcap,
					  Buffer *keep_pin, BufferAccessStrategy strategy)
{
	Buffer		buf;
	Page		page;
	LearnedPageOpaque opaque;
	uint64	   *keys;
	ItemPointerData *tids;
	int			n,
				i,
				count = 0,
				nbase;
	BlockNumber next;
	BlockNumber blkno = c->blknos[group];

	buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	learned_check_page(index, page, blkno, LI_PAGE_LEAF, c->meta.generation);
	opaque = LearnedPageGetOpaque(page);
	keys = LearnedPageKeys(page);
	tids = LearnedPageTids(page);
	n = Min((int) opaque->nitems, learned_leaf_sorted(c, group));

	/* sorted entries from the build: windowed search from the model */
	if (lo == 0 || n == 0)
		i = 0;
	else if (use_model)
	{
		int64		wlo,
					whi;

		learned_model_window(c, group, lo, &wlo, &whi);
		i = li_lower_bound_window(keys, n, lo, wlo, whi, NULL);
	}
	else
		i = li_lower_bound(keys, n, lo);

	for (; i < n && keys[i] <= hi; i++)
	{
		if (!ItemPointerIsValid(&tids[i]))
			continue;
		items_reserve(items, itemcap, count + 1);
		item_set(&(*items)[count++], keys[i], &tids[i]);
	}
	nbase = count;

	/* the unsorted tail of entries appended since */
	items_reserve(items, itemcap, count + (opaque->nitems - n));
	for (i = n; i < opaque->nitems; i++)
	{
		if (keys[i] < lo || keys[i] > hi || !ItemPointerIsValid(&tids[i]))
			continue;
		item_set(&(*items)[count++], keys[i], &tids[i]);
	}

	next = opaque->next;
	while (next != InvalidBlockNumber)
	{
		Buffer		dbuf = ReadBufferExtended(index, MAIN_FORKNUM, next,
											  RBM_NORMAL, strategy);
		Page		dpage;
		LearnedPageOpaque dop;
		uint64	   *dkeys;
		ItemPointerData *dtids;

		LockBuffer(dbuf, BUFFER_LOCK_SHARE);
		dpage = BufferGetPage(dbuf);
		learned_check_page(index, dpage, next, LI_PAGE_DELTA, c->meta.generation);
		dop = LearnedPageGetOpaque(dpage);
		dkeys = LearnedPageKeys(dpage);
		dtids = LearnedPageTids(dpage);
		items_reserve(items, itemcap, count + dop->nitems);
		for (i = 0; i < dop->nitems; i++)
		{
			if (dkeys[i] < lo || dkeys[i] > hi || !ItemPointerIsValid(&dtids[i]))
				continue;
			item_set(&(*items)[count++], dkeys[i], &dtids[i]);
		}
		next = dop->next;
		UnlockReleaseBuffer(dbuf);
	}

	if (count > nbase)
		li_sort_items(*items, count);

	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (keep_pin)
		*keep_pin = buf;
	else
		ReleaseBuffer(buf);
	return count;
}
