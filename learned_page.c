/*
 * learned_page.c -- page helpers: initialising and checking pages, reading
 * the metapage, allocating pages, checking the index relation.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "learned.h"

/* ------------------------------------------------------------------
 * Pages
 * ------------------------------------------------------------------ */

/* initialise an empty page of `type` (standard header, our special space) */
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
	if (type == LEARNED_PAGE_LEAF)
	{
		/* an empty compressed block; the tail reaches the special space */
		size_t		bytes;

		if (li_cleaf_encode(NULL, NULL, 0, LearnedLeafBlock(page),
							LEARNED_ENTRY_AVAIL, &bytes) != LI_OK)
			elog(ERROR, "could not initialise a learned leaf page");
		((PageHeader) page)->pd_lower = LEARNED_ENTRY_OFF + LEARNED_ENTRY_AVAIL;
	}
	else if (type == LEARNED_PAGE_DELTA)
		((PageHeader) page)->pd_lower = LEARNED_DELTA_LOWER;
	else if (type == LEARNED_PAGE_NULL)
		((PageHeader) page)->pd_lower = LEARNED_ENTRY_OFF + LEARNED_NULL_CAP * 6;
	else if (type == LEARNED_PAGE_META)
		((PageHeader) page)->pd_lower =
			((char *) LearnedPageGetMeta(page) + sizeof(LearnedMetaPageData)) - (char *) page;
	/* model pages set pd_lower when they are filled */
}

/* does the page carry our special space and page id? */
static bool
learned_page_is_ours(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(LearnedPageOpaqueData)) &&
		LearnedPageGetOpaque(page)->page_id == LEARNED_PAGE_ID;
}

/*
 * The page-validity rules, shared by every reader (learned_check_page) and
 * by learned_index_check(): NULL if `page` is a well-formed page of `type`
 * for a reader of model `generation` (0: any), else what is wrong with it.
 * Leaf and model pages are never newer than the reader's model (pages are
 * recycled only once every reader of an older model is gone); delta and
 * NULL pages may be: inserts link new ones to leaves a retrain kept, and to
 * the NULL chain, after the retrain.
 */
char *
learned_page_problem(Page page, uint16 type, uint32 generation)
{
	PageHeader	ph = (PageHeader) page;
	LearnedPageOpaque op;

	if (PageIsNew(page))
		return psprintf("Page is new (all zeroes) but referenced.");
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(LearnedPageOpaqueData)) ||
		ph->pd_lower > ph->pd_upper || ph->pd_upper > ph->pd_special)
		return psprintf("Invalid page header or special space.");
	op = LearnedPageGetOpaque(page);
	if (op->page_id != LEARNED_PAGE_ID)
		return psprintf("Page id is 0x%04X, expected 0x%04X.", op->page_id,
						LEARNED_PAGE_ID);
	if (op->page_type != type)
		return psprintf("Page type is %u, expected %u.", op->page_type, type);
	if (generation != 0 && op->generation > generation &&
		(type == LEARNED_PAGE_LEAF || type == LEARNED_PAGE_MODEL))
		return psprintf("Page generation %u is newer than the model's %u.",
						op->generation, generation);
	if (type == LEARNED_PAGE_LEAF)
	{
		int			ns;
		int			cap;

		/* O(1); reads clamp to the residuals if group tables are damaged */
		if (li_cleaf_validate_header(LearnedLeafBlock(page), LEARNED_ENTRY_AVAIL) != LI_OK)
			return psprintf("Compressed leaf block header is invalid (widths or size).");
		ns = learned_leaf_nsorted(page);
		cap = LEARNED_TAIL_CAP(learned_leaf_block_bytes(page));
		if (op->nitems < ns || op->nitems - ns > cap)
			return psprintf("%u entries for %d sorted entries and a tail of %d.",
							op->nitems, ns, cap);
		if (op->ndead > op->nitems)
			return psprintf("%u dead entries of %u.", op->ndead, op->nitems);
	}
	if (type == LEARNED_PAGE_DELTA && op->nitems > LEARNED_LEAF_CAP)
		return psprintf("%u entries, more than the capacity %d.", op->nitems,
						LEARNED_LEAF_CAP);
	if (type == LEARNED_PAGE_NULL && op->nitems > LEARNED_NULL_CAP)
		return psprintf("%u entries, more than the capacity %d.", op->nitems,
						LEARNED_NULL_CAP);
	return NULL;
}

/* check a page read for a reader of `generation` (0: any); error if bad */
void
learned_check_page(Relation index, Page page, BlockNumber blkno,
				   uint16 type, uint32 generation)
{
	char	   *problem;

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
	problem = learned_page_problem(page, type, generation);
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains a corrupted page at block %u",
						RelationGetRelationName(index), blkno),
				 errdetail_internal("%s", problem)));
}

/*
 * Write the model directory (see learned.h) of the model whose pages are
 * blocks[0..npages) and whose segments are segs[0..nseg) onto the metapage
 * `page`, whose struct already describes that model; or record that there
 * is none if it does not fit.  pd_lower covers it, so WAL records it.
 */
void
learned_meta_set_dir(Page page, const BlockNumber *blocks, int npages,
					 const li_segment *segs, uint32 nseg)
{
	LearnedMetaPage m = LearnedPageGetMeta(page);
	char	   *end = (char *) m + sizeof(LearnedMetaPageData);

	m->model_dir_pages = 0;
	if (npages > 0 && npages <= LEARNED_META_DIR_MAX)
	{
		uint64	   *keys = LearnedMetaDirKeys(page, npages);

		memcpy(LearnedMetaDirBlocks(page), blocks, npages * sizeof(BlockNumber));
		for (int p = 0; p < npages; p++)
		{
			uint64		j0 = ((uint64) p * LEARNED_ENTRY_AVAIL + sizeof(li_segment) - 1) /
				sizeof(li_segment);

			keys[p] = j0 < nseg ? segs[j0].first_key : 0;
		}
		m->model_dir_pages = npages;
		end = (char *) (keys + npages);
	}
	((PageHeader) page)->pd_lower = end - (char *) page;
}

/* read and check the metapage into *meta (no pin kept) */
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
		LearnedPageGetOpaque(page)->page_type != LEARNED_PAGE_META ||
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

	if (meta->nleaf < 1 || meta->leaf_cap != LEARNED_LEAF_MAX ||
		meta->leaf_fill < 1 || meta->leaf_fill > 100 ||
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


/* error unless `index` is a valid learned index of this session */
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
				LearnedPageGetOpaque(page)->page_type == LEARNED_PAGE_FREE)
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

/*
 * Begin a WAL-logged change of the metapage: locks it exclusively and
 * returns the metapage contents to change (u->page is the whole page
 * image); learned_meta_update_finish() writes the record.
 */
LearnedMetaPage
learned_meta_update_begin(Relation index, LearnedMetaUpdate *u)
{
	u->buf = ReadBuffer(index, LEARNED_METAPAGE_BLKNO);
	LockBuffer(u->buf, BUFFER_LOCK_EXCLUSIVE);
	u->state = GenericXLogStart(index);
	u->page = GenericXLogRegisterBuffer(u->state, u->buf, 0);
	return LearnedPageGetMeta(u->page);
}

/* log the metapage change and unlock; keep_pin leaves u->buf pinned */
void
learned_meta_update_finish(LearnedMetaUpdate *u, bool keep_pin)
{
	GenericXLogFinish(u->state);
	if (keep_pin)
		LockBuffer(u->buf, BUFFER_LOCK_UNLOCK);
	else
		UnlockReleaseBuffer(u->buf);
}

/*
 * One step along a chain (delta, NULL or model pages): read page blk,
 * check it is a page of `type` (and not newer than `generation`, unless 0),
 * return its successor (and, if asked, its number of entries).
 */
BlockNumber
learned_chain_next(Relation index, BlockNumber blk, uint16 type, uint32 generation,
				   int *nitems)
{
	Buffer		buf = ReadBuffer(index, blk);
	BlockNumber next;

	CHECK_FOR_INTERRUPTS();
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	learned_check_page(index, BufferGetPage(buf), blk, type, generation);
	next = LearnedPageGetOpaque(BufferGetPage(buf))->next;
	if (nitems)
		*nitems = LearnedPageGetOpaque(BufferGetPage(buf))->nitems;
	UnlockReleaseBuffer(buf);
	return next;
}

/* the head of leaf blk's delta chain (the leaf is checked) */
BlockNumber
learned_leaf_next(Relation index, BlockNumber blk)
{
	return learned_chain_next(index, blk, LEARNED_PAGE_LEAF, 0, NULL);
}
