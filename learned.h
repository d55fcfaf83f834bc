/*
 * learned.h -- private header of the learned index access method (C shim).
 *
 * Page formats, metapage, backend-local model cache and the functions shared
 * between the callback files.  See docs/design.md for every byte.
 */
#ifndef LEARNED_H
#define LEARNED_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#include "li_leaf.h"

/* PostgreSQL 16 renamed RelFileNode to RelFileLocator */
#if PG_VERSION_NUM >= 160000
typedef RelFileLocator LearnedRelFile;
#define LearnedRelFileOf(rel)		((rel)->rd_locator)
#define LearnedRelFileEquals(a, b)	RelFileLocatorEquals(a, b)
#define LearnedSmgrRelFile(smgr)	(&(smgr)->smgr_rlocator.locator)
#else
typedef RelFileNode LearnedRelFile;
#define LearnedRelFileOf(rel)		((rel)->rd_node)
#define LearnedRelFileEquals(a, b)	RelFileNodeEquals(a, b)
#define LearnedSmgrRelFile(smgr)	(&(smgr)->smgr_rnode.node)
#endif

/* PostgreSQL 16 replaced pg_class_ownercheck by object_ownercheck */
#if PG_VERSION_NUM >= 160000
#define learned_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define learned_class_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#endif

/* PostgreSQL 17 renamed IsAutoVacuumWorkerProcess (miscadmin.h) */
#if PG_VERSION_NUM >= 170000
#define LearnedIsAutoVacuumWorker()	AmAutoVacuumWorkerProcess()
#else
#define LearnedIsAutoVacuumWorker()	IsAutoVacuumWorkerProcess()
#endif

/* PostgreSQL 18's vacuum_delay_point tells VACUUM from ANALYZE */
#if PG_VERSION_NUM >= 180000
#define learned_vacuum_delay_point()	vacuum_delay_point(false)
#else
#define learned_vacuum_delay_point()	vacuum_delay_point()
#endif

#define LEARNED_MAGIC			0x4C524E44	/* "LRND" */
#define LEARNED_VERSION			2	/* 2: compressed leaves */
#define LEARNED_METAPAGE_BLKNO	0
#define LEARNED_PAGE_ID			0xFF8C	/* last 2 bytes of special space */

/*
 * Heavyweight page lock tag (not a real page) that orders structural
 * changes: bulk deletes (and insert batches on their slow path) take it in
 * RowExclusive mode, retrains and sweeps in ShareRowExclusive mode; scans
 * never take it (they hold a generation lock, below).
 */
#define LEARNED_STRUCTURE_LOCK	((BlockNumber) 0xFFFFFFF0)

/* modes of the structure lock (see docs/design.md, "Locking") */
#define LEARNED_LOCK_INSERT		RowExclusiveLock	/* inserts, bulk delete */
#define LEARNED_LOCK_RETRAIN	ShareRowExclusiveLock	/* retrain, sweep */

/*
 * Readers (scans, stats, check) hold the "generation lock" of the model
 * generation they use, in AccessShare mode: a heavyweight page lock on a
 * fake block number.  Pages a retrain unlinked are recycled only when the
 * generation locks of every older generation can be taken (conditionally,
 * never waited for) in AccessExclusive mode.
 */
#define LEARNED_GEN_TAGS		4096
#define LEARNED_GEN_LOCK(gen)	((BlockNumber) (0xFFFF0000 + ((gen) % LEARNED_GEN_TAGS)))

/* page types */
#define LEARNED_PAGE_META	1
#define LEARNED_PAGE_LEAF	2
#define LEARNED_PAGE_DELTA	3
#define LEARNED_PAGE_NULL	4
#define LEARNED_PAGE_MODEL	5
#define LEARNED_PAGE_FREE	6		/* recyclable */

/* key kinds: how a SQL value is encoded into the model's uint64 */
typedef enum LearnedKeyKind
{
	LEARNED_KEY_INVALID = 0,
	LEARNED_KEY_INT2,
	LEARNED_KEY_INT4,
	LEARNED_KEY_INT8,
	LEARNED_KEY_FLOAT4,
	LEARNED_KEY_FLOAT8,
	LEARNED_KEY_DATE,
	LEARNED_KEY_TIMESTAMP,
	LEARNED_KEY_TIMESTAMPTZ
} LearnedKeyKind;

/* special space of every page (16 bytes) */
typedef struct LearnedPageOpaqueData
{
	uint32		generation;		/* structure generation the page belongs to */
	BlockNumber next;			/* leaf: head of its delta chain; delta,
								 * null, model: next page of the chain */
	uint16		nitems;			/* entries (or blob bytes on model pages) */
	union
	{
		uint16		ndead;		/* leaf: tombstoned entries */
		uint16		chainlen;	/* delta: pages in the chain from this one */
	};
	uint16		page_type;		/* LEARNED_PAGE_* */
	uint16		page_id;		/* LEARNED_PAGE_ID */
} LearnedPageOpaqueData;

typedef LearnedPageOpaqueData *LearnedPageOpaque;

/*
 * A leaf that a retrain is rewriting (docs/design.md, "Retrain", "Frozen
 * leaves"): the generation that retrain will switch to, kept in the page
 * header's pd_prune_xid, which index pages do not use otherwise; 0: none.
 * Inserters do not append to a frozen leaf unless they hold the structure
 * lock (then no retrain runs and the mark is stale: they clear it).
 */
#define LearnedLeafFrozenBy(page)	(((PageHeader) (page))->pd_prune_xid)

#define LearnedPageGetOpaque(page) \
	((LearnedPageOpaque) PageGetSpecialPointer(page))

/* entry area: keys[cap] (uint64) then tids[cap] (6 bytes each) */
#define LEARNED_ENTRY_OFF		MAXALIGN(SizeOfPageHeaderData)
#define LEARNED_ENTRY_AVAIL	\
	(BLCKSZ - LEARNED_ENTRY_OFF - MAXALIGN(sizeof(LearnedPageOpaqueData)))
#define LEARNED_LEAF_CAP		((int) (LEARNED_ENTRY_AVAIL / (8 + 6)))
#define LEARNED_NULL_CAP		((int) (LEARNED_ENTRY_AVAIL / 6))
/* pd_lower of a delta page with entries: the end of its TID array */
#define LEARNED_DELTA_LOWER		(LEARNED_ENTRY_OFF + LEARNED_LEAF_CAP * (8 + 6))

#define LearnedPageKeys(page)	((uint64 *) ((char *) (page) + LEARNED_ENTRY_OFF))
#define LearnedPageTids(page)	\
	((ItemPointerData *) ((char *) (page) + LEARNED_ENTRY_OFF + LEARNED_LEAF_CAP * 8))
#define LearnedNullTids(page)	((ItemPointerData *) ((char *) (page) + LEARNED_ENTRY_OFF))

/*
 * Leaf pages (format 2): the sorted entries as a compressed block
 * (src/li_leaf.h) at the start of the entry area, then the *tail*: room
 * for entries appended unsorted, keys[cap] then TIDs[cap] (14 bytes each),
 * cap = (LEARNED_ENTRY_AVAIL - block bytes) / 14.  nitems = sorted + tail.
 */
#define LearnedLeafBlock(page)	((uint8 *) (page) + LEARNED_ENTRY_OFF)
#define LEARNED_LEAF_MAX		LI_CLEAF_MAX	/* sorted entries per leaf */
#define LEARNED_TAIL_CAP(bytes)	((int) ((LEARNED_ENTRY_AVAIL - (bytes)) / (8 + 6)))

/*
 * The unsorted entries of a leaf (its tail) or of a delta page (all of
 * them): entry i of the page (base <= i < base + cap) is keys[i - base],
 * tids[i - base].
 */
typedef struct LearnedEntries
{
	uint64	   *keys;
	ItemPointerData *tids;
	int			base;			/* sorted entries before them (leaf) or 0 */
	int			cap;			/* room */
} LearnedEntries;

/* sorted entries of a (checked) leaf page, from its block header */
static inline int
learned_leaf_nsorted(Page page)
{
	uint16		n;

	memcpy(&n, LearnedLeafBlock(page) + offsetof(li_cleaf_hdr, n), sizeof(n));
	return n;
}

/* bytes of the compressed block of a (checked) leaf page */
static inline uint32
learned_leaf_block_bytes(Page page)
{
	uint32		b;

	memcpy(&b, LearnedLeafBlock(page) + offsetof(li_cleaf_hdr, bytes), sizeof(b));
	return b;
}

/* the unsorted entries of a checked leaf or delta page */
static inline void
learned_page_entries(Page page, LearnedEntries *e)
{
	if (LearnedPageGetOpaque(page)->page_type == LEARNED_PAGE_LEAF)
	{
		uint32		bytes = learned_leaf_block_bytes(page);
		char	   *t = (char *) page + LEARNED_ENTRY_OFF + bytes;

		e->cap = LEARNED_TAIL_CAP(bytes);
		e->keys = (uint64 *) t;
		e->tids = (ItemPointerData *) (t + 8 * e->cap);
		e->base = learned_leaf_nsorted(page);
	}
	else
	{
		e->keys = LearnedPageKeys(page);
		e->tids = LearnedPageTids(page);
		e->base = 0;
		e->cap = LEARNED_LEAF_CAP;
	}
}

/* a view on the compressed block of a checked leaf page */
static inline void
learned_leaf_view(Page page, li_cleaf_view *v)
{
	li_cleaf_open(LearnedLeafBlock(page), v);
}

/* the TID of sorted entry i of a leaf view; false for a tombstone */
static inline bool
learned_leaf_tid(const li_cleaf_view *v, int i, ItemPointerData *tid)
{
	StaticAssertStmt(sizeof(ItemPointerData) == 3 * sizeof(uint16),
					 "ItemPointerData is three uint16");
	return li_cleaf_tid_at(v, (uint32) i, (uint16 *) tid) != 0;
}

/* entry i of a leaf (sorted part, then tail); false for a tombstone */
static inline bool
learned_leaf_entry(const li_cleaf_view *v, const LearnedEntries *tail, int i,
				   uint64 *key, ItemPointerData *tid)
{
	if (i < (int) v->n)
	{
		*key = li_cleaf_key_at(v, (uint32) i);
		return learned_leaf_tid(v, i, tid);
	}
	*key = tail->keys[i - tail->base];
	*tid = tail->tids[i - tail->base];
	return ItemPointerIsValid(tid);
}
#define LearnedModelData(page)	((char *) (page) + LEARNED_ENTRY_OFF)

/* metapage contents (after the page header) */
typedef struct LearnedMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		generation;		/* current structure */
	uint32		next_generation;	/* never reused, even after a crash */
	uint16		keykind;		/* LearnedKeyKind */
	uint16		leaf_cap;		/* most sorted entries per leaf (LEARNED_LEAF_MAX) */
	uint16		leaf_fill;		/* percent a build packs a leaf to (fillfactor) */
	uint16		null_cap;
	uint32		epsilon;		/* epsilon the model was fitted with */
	uint32		radius;			/* search radius = max(eps, ceil(max err)) */
	uint32		nleaf;			/* leaf pages (>= 1) */
	uint32		nsegments;
	BlockNumber model_head;		/* first page of the model blob */
	uint32		model_bytes;
	BlockNumber null_head;		/* first page of the NULL chain */
	uint32		ndirty;			/* leaves that overflowed into delta pages */
	uint64		nkeys;			/* non-null entries at build/retrain */
	uint64		nnulls;			/* NULL entries at build/retrain */
	double		max_error;		/* measured over every key */
	int64		last_retrain;	/* TimestampTz, 0 = never */
	uint64		nretrains;
	uint32		sweep_needed;	/* pages may await recycling */
	uint32		nlocal;			/* segment-local retrains */
	uint32		recycle_horizon;	/* no reader of a generation <= this */
	uint32		retraining;		/* a retrain is (or was, if it failed) running */
	uint64		build_id;		/* random, new at every build: a rebuild in the
								 * same file (TRUNCATE) restarts generations */
	uint32		model_dir_pages;	/* model pages listed after this struct, or 0 */
	uint32		slice_hint;		/* leaf where the next threshold retrain looks
								 * for dirty leaves first (0 in older indexes) */
} LearnedMetaPageData;

typedef LearnedMetaPageData *LearnedMetaPage;

#define LearnedPageGetMeta(page) \
	((LearnedMetaPage) PageGetContents(page))

/* model pages of a blob of `bytes` (every page but the last is full) */
#define LEARNED_MODEL_PAGES(bytes) \
	((int) (((Size) (bytes) + LEARNED_ENTRY_AVAIL - 1) / LEARNED_ENTRY_AVAIL))

/*
 * The model directory on the metapage, after the struct: the block of
 * each model page (BlockNumber[n]), then for each page the first key of
 * the first segment that starts on it (uint64[n], 0 if none does), so that
 * loading a model reads only the pages it needs.  Written when it fits
 * (n <= LEARNED_META_DIR_MAX: about 165k segments); 0 pages otherwise,
 * and in indexes written before it.
 */
#define LEARNED_META_DIR_OFF	MAXALIGN(sizeof(LearnedMetaPageData))
#define LEARNED_META_DIR_MAX \
	((int) ((LEARNED_ENTRY_AVAIL - LEARNED_META_DIR_OFF - 8) / \
			(sizeof(BlockNumber) + sizeof(uint64))))
#define LearnedMetaDirBlocks(page) \
	((BlockNumber *) ((char *) LearnedPageGetMeta(page) + LEARNED_META_DIR_OFF))
#define LearnedMetaDirKeys(page, n) \
	((uint64 *) ((char *) LearnedMetaDirBlocks(page) + MAXALIGN((n) * sizeof(BlockNumber))))

/*
 * Backend-local model cache.  One palloc chunk per (index, generation):
 * header, then segments, separators and leaf block numbers.  Scans hold a
 * reference for their whole life; stale entries are freed when unreferenced.
 */
typedef struct LearnedCache
{
	struct LearnedCache *next;
	MemoryContext cxt;			/* holds this entry (one chunk) */
	Oid			relid;
	LearnedRelFile node;
	uint64		build_id;		/* with node and generation: the key */
	int			refcount;		/* = references in the owner-tracked list */
	bool		stale;
	bool		trusted;		/* generation confirmed current since the last
								 * invalidation of the index (scans then skip
								 * the metapage) */
	LearnedMetaPageData meta;
	li_segment *segs;
	uint64	   *seps;			/* separator (lowest key) of each leaf */
	BlockNumber *blknos;		/* block of each leaf */
	uint16	   *nsorted;		/* sorted entries of each leaf at its build */
	uint64	   *starts;			/* first position of each leaf (prefix sums) */
	/* segments are copied from their model pages on demand (learned_cache.c) */
	bool		segs_ready;		/* every model page copied: segs[] complete */
	int			npages;			/* model pages */
	int			nloaded;		/* ... copied into the blob */
	BlockNumber *mblk;			/* block of each model page */
	uint32	   *moff;			/* its first byte in the blob (npages + 1) */
	bool	   *mloaded;		/* copied? */
	int			ndir;			/* directory: for pages where a segment starts, */
	uint64	   *dkey;			/* the first such segment's first key */
	uint32	   *dseg;			/* and its number */
	/* segment index, built once enough lookups pay for it (learned_group.c) */
	li_segidx	segidx;
	char	   *segidx_buf;		/* palloc'd in the cache's context, or NULL */
	uint64		lookups;		/* predictions made through this entry */
	bool		segidx_failed;	/* the first keys refused an index: no retry */
	/* the last prediction: the leaf choice and the window predict one key */
	uint64		last_key;
	double		last_pred;
	bool		has_last;
} LearnedCache;

/* bytes of the model blob */
#define LEARNED_BLOB_BYTES(nseg, nleaf) \
	((Size) (nseg) * sizeof(li_segment) + \
	 (Size) (nleaf) * (sizeof(uint64) + sizeof(BlockNumber) + sizeof(uint16)))

/* reloptions */
typedef struct LearnedOptions
{
	int32		vl_len_;
	int			epsilon;
	int			fillfactor;
	double		retrain_threshold;
} LearnedOptions;

#define LEARNED_DEFAULT_EPSILON		32
#define LEARNED_MIN_EPSILON			1
#define LEARNED_MAX_EPSILON			65536
#define LEARNED_DEFAULT_FILLFACTOR	95
#define LEARNED_DEFAULT_RETRAIN_THRESHOLD 0.1
/* fill (percent of the fillfactor's leaf) of leaves a local retrain rewrites */
#define LEARNED_LOCAL_FILL 95
#define LEARNED_MAX_DELTA_CHAIN		4	/* delta pages of one leaf that trigger a retrain */

/* have enough leaves overflowed to retrain (retrain_threshold; 0 = never)? */
static inline bool
learned_over_threshold(uint32 ndirty, uint32 nleaf, double threshold)
{
	return threshold > 0 && ndirty > 0 && ndirty >= threshold * nleaf;
}

/*
 * A leaf group read lazily, a chunk at a time, from its pinned page: a leaf
 * without tail entries or delta pages when the scan reached it (sorted
 * positions of its compressed block, learned_group.c).
 */
typedef struct LearnedLazyLeaf
{
	int			first;			/* first position with key >= the range's lo */
	int			end;			/* first position with key > hi; -1: not known yet */
	int			wlo;			/* items[] hold the live entries of [wlo, whi) */
	int			whi;
	int			n;				/* sorted entries of the block when opened */
	bool		itups;			/* chunks decoded as li_itup (index tuples of
								 * 8-byte integer keys), not li_item */
	XLogRecPtr	lsn;			/* the page's LSN when last checked (0: check
								 * again) */
	li_cleaf_view view;			/* its block's view then */
} LearnedLazyLeaf;

/* scan state */
typedef struct LearnedScanPos
{
	int			range;			/* -1: none; [0,nranges): a key range; nranges: NULLs */
	int			group;			/* -1: none; [0,nleaf): leaf; nleaf+i: null page i */
	int			cur;			/* current item in items[] */
	int			nitems;
	li_item    *items;
	int			itemcap;
	Buffer		buf;			/* pinned page of the group (or Invalid) */
	bool		lazy;			/* items[] are one chunk of a lazy leaf: lz */
	bool		itups;			/* ... decoded as li_itup records (lz.itups) */
	LearnedLazyLeaf lz;
} LearnedScanPos;

typedef struct LearnedScanOpaqueData
{
	LearnedCache *cache;
	bool		qual_ok;
	bool		want_nonnull;
	bool		want_null;
	/*
	 * The non-null key ranges to visit, in key order: one [lo, hi] from the
	 * scan keys, or one per element of `k = ANY(array)` keys (sorted,
	 * merged); with the leaf groups that can hold each.
	 */
	int			nranges;
	uint64	   *rlo;			/* inclusive encoded bounds */
	uint64	   *rhi;
	int		   *rgs;			/* first leaf group of each range */
	int		   *rge;			/* last leaf group of each range */
	int			rangecap;
	uint64		one_lo;			/* the single range of scans without array keys */
	uint64		one_hi;			/* (no allocation per rescan: nested loops) */
	int			one_gs;
	int			one_ge;
	bool		keys_in_cxt;	/* keycxt holds ranges (reset it next rescan) */
	int			nnullpages;		/* -1 until listed */
	BlockNumber *nullpages;
	LearnedScanPos pos;
	LearnedScanPos mark;
	bool		have_mark;
	MemoryContext tmpcxt;		/* index tuples returned by index-only scans */
	MemoryContext keycxt;		/* the key ranges, reset at every rescan */
	IndexTuple	itup;			/* reused for every non-null entry */
	IndexTuple	itup_null;		/* reused for every NULL entry */
	char	   *itup_data;		/* itup's datum */
	int16		itup_attlen;	/* its length */
	bool		itup_int64;		/* itup formed, its datum an int8, timestamp or
								 * timestamptz (li_decode_int64) */
	bool		itup_fast;		/* an index-only scan of 8-byte integer keys
								 * without recheck: lazy leaves are decoded
								 * into the index tuples it returns */
	/* cross-type datetime keys rewritten by learned_dt_rescan */
	ScanKey		dt_keys;
	uint64	   *dt_ranges;		/* [lo, hi] code pair per key */
	int			dt_nkeys;
	bool		dt_recheck;		/* some key's range is a hull: recheck */
	/*
	 * The index's declared order (indoption): a DESC index returns keys
	 * descending in a forward scan, so amgettuple steps through the keys
	 * the other way; NULLs come after the keys in key order (the highest
	 * codes) unless the order puts them at the low end (see next_group).
	 */
	bool		desc;
	bool		nulls_high;
} LearnedScanOpaqueData;

typedef LearnedScanOpaqueData *LearnedScanOpaque;

/*
 * Fault injection for the tests (assert-enabled builds only): when the GUC
 * learned_index.debug_fault names the point, learned_fault() raises a
 * query_canceled error there, once (setting the GUC arms it again).  When
 * learned_index.debug_pause names it, the backend waits there for the
 * session advisory lock LEARNED_PAUSE_LOCK (an isolation spec holds it to
 * stop a retrain half-way, visibly to the isolation tester).
 */
#define LEARNED_PAUSE_LOCK	INT64CONST(7564834)
#ifdef USE_ASSERT_CHECKING
extern void learned_fault(const char *point);
#else
#define learned_fault(point) ((void) 0)
#endif

/* learned_am.c */
extern bytea *learned_options(Datum reloptions, bool validate);
extern void _PG_init(void);

/* learned_encode.c, learned_cache.c, learned_xlog.c, learned_group.c, learned_am.c */
extern LearnedKeyKind learned_keykind_for_type(Oid typid);
extern const char *learned_supported_types(void);
extern uint64 learned_encode(LearnedKeyKind kind, Datum value);
extern void learned_encode_bounds(Oid typid, Datum value, uint64 *lo, uint64 *hi);
extern void learned_unique_range(LearnedKeyKind kind, uint64 key, uint64 *lo, uint64 *hi);
extern Datum learned_decode(LearnedKeyKind kind, uint64 key);

/* learned_datetime.c: cross-type keys of the datetime family */
extern bool learned_is_datetime_type(Oid typid);
extern bool learned_dt_key_range(Oid coltype, Oid argtype, Datum arg,
								 StrategyNumber strategy, uint64 *lo, uint64 *hi);
extern void learned_dt_rescan(IndexScanDesc scan, ScanKey scankey, int nscankeys,
							  ScanKey orderbys, int norderbys);
/* a change of the metapage under way (learned_meta_update_begin) */
typedef struct LearnedMetaUpdate
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;			/* the registered image to change */
} LearnedMetaUpdate;

/* a growable list of block numbers */
typedef struct LearnedBlockList
{
	BlockNumber *blocks;
	int			n;
	int			cap;
} LearnedBlockList;

/* heap TID of an item (li_item keeps it as three uint16) */
static inline void
learned_item_tid(const li_item *it, ItemPointer tid)
{
	/* bi_hi, bi_lo, posid: the same three uint16 in the same order */
	StaticAssertStmt(sizeof(ItemPointerData) == 3 * sizeof(uint16),
					 "ItemPointerData is bi_hi, bi_lo, posid");
	memcpy(tid, it->tid, sizeof(ItemPointerData));
}

/* set an item's key and heap TID (not NULL) */
static inline void
learned_item_set(li_item *it, uint64 key, const ItemPointerData *tid)
{
	it->key = key;
	it->tid[0] = tid->ip_blkid.bi_hi;
	it->tid[1] = tid->ip_blkid.bi_lo;
	it->tid[2] = tid->ip_posid;
	it->isnull = 0;
}

/* learned_page.c */
extern void learned_init_page(Page page, uint16 type, uint32 generation);
extern char *learned_page_problem(Page page, uint16 type, uint32 generation);
extern LearnedMetaPage learned_meta_update_begin(Relation index, LearnedMetaUpdate *u);
extern void learned_meta_update_finish(LearnedMetaUpdate *u, bool keep_pin);
extern BlockNumber learned_chain_next(Relation index, BlockNumber blk, uint16 type,
									  uint32 generation, int *nitems);
extern BlockNumber learned_leaf_next(Relation index, BlockNumber blk);
extern void learned_check_page(Relation index, Page page, BlockNumber blkno,
							   uint16 type, uint32 generation);
extern void learned_read_meta(Relation index, LearnedMetaPageData *meta);
extern Buffer learned_read_meta_pinned(Relation index, LearnedMetaPageData *meta);
extern void learned_reader_begin(Relation index, LearnedMetaPageData *meta);
extern void learned_reader_end(Relation index, uint32 generation);
extern LearnedCache *learned_scan_model(Relation index);
extern void learned_cache_send_switch(Relation index);
extern void learned_cache_forget(Oid relid);
extern void learned_cache_init(void);
extern uint64 learned_new_build_id(void);
extern LearnedCache *learned_cache_acquire(Relation index, const LearnedMetaPageData *meta);
extern void learned_cache_load_all(Relation index, LearnedCache *c);
extern double learned_cache_predict_lazy(Relation index, LearnedCache *c, uint64 key);

/* the model's predicted position of key (segments loaded on demand) */
static inline double
learned_cache_predict(Relation index, LearnedCache *c, uint64 key)
{
	if (likely(c->segs_ready))
		return li_predict(c->segs, c->meta.nsegments, c->meta.nkeys, key);
	return learned_cache_predict_lazy(index, c, key);
}
extern void learned_cache_release(LearnedCache *cache);
extern bool learned_cache_in_use(Oid relid);
extern bool learned_cache_gen_tag_in_use(Oid relid, uint32 gen);
extern Buffer learned_new_buffer(Relation index);
extern void learned_append_logged(Relation index, Buffer buf, const uint64 *keys,
								  const ItemPointerData *tids, int k);
extern int	learned_leaf_for_insert(Relation index, LearnedCache *c, uint64 key);
#define learned_leaf_sorted(c, g) ((int) (c)->nsorted[(g)])
extern int	learned_leaf_first(Relation index, LearnedCache *c, uint64 lo);
extern int	learned_leaf_last(Relation index, LearnedCache *c, uint64 hi);
extern void learned_model_window(Relation index, LearnedCache *c, int group, uint64 key,
								 int64 *wlo, int64 *whi);
extern int	learned_collect_group(Relation index, LearnedCache *c, int group,
								  uint64 lo, uint64 hi, bool use_model,
								  li_item **items, int *itemcap,
								  Buffer *keep_pin, BufferAccessStrategy strategy);
extern int	learned_scan_group(Relation index, LearnedCache *c, int group,
							   uint64 lo, uint64 hi, bool forward,
							   li_item **items, int *itemcap, Buffer *pin,
							   LearnedLazyLeaf *lz, bool *lazy);
extern int	learned_lazy_chunk(Relation index, LearnedCache *c, int group,
							   Buffer buf, uint64 hi, bool forward,
							   LearnedLazyLeaf *lz, li_item **items,
							   int *itemcap);
extern void learned_lock_structure(Relation index, LOCKMODE mode);
extern bool learned_conditional_lock_structure(Relation index, LOCKMODE mode);
extern void learned_unlock_structure(Relation index, LOCKMODE mode);
extern void learned_check_index_rel(Relation index);
extern int	learned_get_epsilon(Relation index);
extern int	learned_get_fillfactor(Relation index);
extern double learned_get_retrain_threshold(Relation index);
extern int	learned_leaf_fill(Relation index);

/* learned_writer.c: page writer shared by build, retrain and buildempty */
typedef struct LearnedWriter LearnedWriter;
typedef BlockNumber (*learned_sink_fn) (void *arg, Page page);

/*
 * A model under construction (or read back): segments, and per leaf its
 * separator, block and number of sorted entries; grown by doubling through
 * learned_model_add_segment / learned_model_add_leaf.
 */
typedef struct LearnedModelArrays
{
	li_segment *segs;
	int			nseg;
	int			segcap;
	uint64	   *seps;
	BlockNumber *blknos;
	uint16	   *nsorted;
	int			nleaf;
	int			leafcap;
} LearnedModelArrays;

/* what a writer produced: leaves and segments of one run */
typedef struct LearnedRunResult
{
	LearnedModelArrays model;
	uint64		nkeys;			/* entries written */
	BlockNumber null_head;
	uint64		nnulls;
} LearnedRunResult;

extern LearnedWriter *learned_writer_begin(Relation index, uint32 generation,
										   int epsilon, int leaf_fill,
										   uint64 base_pos, uint64 first_sep,
										   learned_sink_fn sink, void *arg);
extern void learned_writer_add(LearnedWriter *w, uint64 key, ItemPointer tid);
extern void learned_writer_add_null(LearnedWriter *w, ItemPointer tid);
extern void learned_writer_finish(LearnedWriter *w, bool at_end, LearnedRunResult *res);
extern BlockNumber learned_write_model(const LearnedModelArrays *m,
									   uint32 generation, learned_sink_fn sink,
									   void *arg, uint32 *nbytes, BlockNumber *blocks);
extern void learned_meta_set_dir(Page page, const BlockNumber *blocks, int npages,
								 const li_segment *segs, uint32 nseg);
extern double learned_measure_error(Relation index, uint32 generation,
									const LearnedModelArrays *m, uint64 nkeys,
									int from, int to);
extern void learned_model_init(LearnedModelArrays *m, int nseg, int nleaf);
extern void learned_model_add_segment(LearnedModelArrays *m, const li_segment *s);
extern void learned_model_add_leaf(LearnedModelArrays *m, uint64 sep,
								   BlockNumber blk, uint16 nsorted);
#define LEARNED_PHASE_TABLESCAN	2
#define LEARNED_PHASE_SORT		3
#define LEARNED_PHASE_WRITE		4
#define LEARNED_PHASE_VERIFY	5
extern char *learned_buildphasename(int64 phasenum);
extern IndexBuildResult *learned_build(Relation heap, Relation index,
									   IndexInfo *indexInfo);
extern void learned_buildempty(Relation index);

/* learned_insert.c */
extern int	learned_insert_buffer_kb;
extern void learned_insert_init(void);
extern void learned_flush_pending(Relation index);
extern Buffer learned_wait_for_retrain(Relation index, LearnedMetaPageData *meta, bool *heavy);
extern bool learned_leaf_frozen(Relation index, Buffer buf, uint32 generation, bool heavy,
								bool exclusive);
extern void learned_leaf_set_mark(Relation index, Buffer buf, uint32 mark);
extern Buffer learned_pin_meta_for_batch(Relation index, LearnedMetaPageData *meta,
										 bool *heavy);
extern bool learned_insert_group_locked(Relation index, uint32 generation, Buffer buf,
										li_item *items, int k, int *chainlen,
										int *written);
extern void learned_insert_nulls_locked(Relation index, Buffer metabuf,
										uint32 generation, li_item *items, int k,
										int *written);
extern uint32 learned_add_dirty_leaves(Relation index, int newdirty);
extern void learned_after_append(Relation index, const LearnedMetaPageData *meta,
								 int newdirty, int maxchain, uint64 chain_key);

/* learned_unique.c */
extern bool learned_unique_insert(Relation index, Relation heap, li_item *it,
								  ItemPointer tid, IndexUniqueCheck mode,
								  Datum *values, bool *isnull);
extern bool learned_insert(Relation index, Datum *values, bool *isnull,
						   ItemPointer ht_ctid, Relation heapRel,
						   IndexUniqueCheck checkUnique,
						   bool indexUnchanged,
						   struct IndexInfo *indexInfo);

/* learned_scan.c */
extern IndexScanDesc learned_beginscan(Relation r, int nkeys, int norderbys);
extern void learned_rescan(IndexScanDesc scan, ScanKey scankey, int nscankeys,
						   ScanKey orderbys, int norderbys);
extern bool learned_gettuple(IndexScanDesc scan, ScanDirection dir);
extern int64 learned_getbitmap(IndexScanDesc scan, TIDBitmap *tbm);
extern void learned_endscan(IndexScanDesc scan);
extern void learned_markpos(IndexScanDesc scan);
extern void learned_restrpos(IndexScanDesc scan);
extern bool learned_canreturn(Relation index, int attno);

/* learned_vacuum.c */
extern IndexBulkDeleteResult *learned_bulkdelete(IndexVacuumInfo *info,
												 IndexBulkDeleteResult *stats,
												 IndexBulkDeleteCallback callback,
												 void *callback_state);
extern IndexBulkDeleteResult *learned_vacuumcleanup(IndexVacuumInfo *info,
													IndexBulkDeleteResult *stats);
typedef enum LearnedRetrainMode
{
	LEARNED_RETRAIN_OVERFLOW,		/* leaves with delta pages or many tombstones */
	LEARNED_RETRAIN_PENDING,			/* every leaf with pending or dead entries */
	LEARNED_RETRAIN_FULL				/* rewrite everything */
} LearnedRetrainMode;

extern bool learned_retrain(Relation index, LearnedRetrainMode mode, bool wait);
extern bool learned_retrain_if_needed(Relation index, double threshold,
									  bool long_chain, uint64 chain_key,
									  uint32 seen_gen, int budget);
extern bool learned_retrain_merge(Relation index, LearnedRetrainMode mode, bool wait,
								  const li_item *extra, int nextra,
								  int *extra_written, int budget);
extern int	learned_retrain_slice_leaves;
extern bool learned_retrain_neighbours;
#define LEARNED_DEFAULT_SLICE_LEAVES 128	/* retrain_slice_leaves' default */
#define LEARNED_MAX_SLICES 8	/* a retrain of every leaf: at most this many slices */
#define LEARNED_BULK_MERGE_FRACTION 0.1	/* batch / index size that merges */
/* learned_recycle.c */
extern void learned_sweep(Relation index);
extern void learned_sweep_locked(Relation index);
extern void learned_sweep_barrier(Relation index);
extern void learned_set_retraining(Relation index, uint32 value);
extern void learned_blocklist_add(LearnedBlockList *list, BlockNumber blk);
extern void learned_recycle(Relation index, const LearnedBlockList *old, uint32 newgen);

typedef struct LearnedIndexCounts
{
	uint64		base_live;
	uint64		base_dead;
	uint64		pending;		/* entries in delta pages + appended to base */
	uint64		nulls;
	uint64		delta_pages;
	uint64		null_pages;
	uint64		dirty_leaves;	/* leaves with delta pages */
	/* compressed sorted parts of the leaves (format 2) */
	uint64		sorted;			/* entries, dead included */
	uint64		block_bytes;	/* bytes of the compressed blocks */
	uint64		key_bits;		/* key residual bits + group tables */
	uint64		tid_bits;		/* the same for TIDs */
	int			key_bits_max;
	int			tid_bits_max;
} LearnedIndexCounts;
extern void learned_count(Relation index, LearnedCache *c, LearnedIndexCounts *counts);

/* learned_cost.c */
extern void learned_costestimate(PlannerInfo *root, IndexPath *path,
								 double loop_count, Cost *indexStartupCost,
								 Cost *indexTotalCost,
								 Selectivity *indexSelectivity,
								 double *indexCorrelation, double *indexPages);

/* learned_validate.c */
extern bool learned_validate(Oid opclassoid);

#endif							/* LEARNED_H */
