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
 * return its successor.
 */
BlockNumber
learned_chain_next(Relation index, BlockNumber blk, uint16 type, uint32 generation)
{
	Buffer		buf = ReadBuffer(index, blk);
	BlockNumber next;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	learned_check_page(index, BufferGetPage(buf), blk, type, generation);
	next = LearnedPageGetOpaque(BufferGetPage(buf))->next;
	UnlockReleaseBuffer(buf);
	return next;
}

/* the head of leaf blk's delta chain (the leaf is checked) */
BlockNumber
learned_leaf_next(Relation index, BlockNumber blk)
{
	return learned_chain_next(index, blk, LI_PAGE_LEAF, 0);
}
