/*
 * learned_xlog.c -- the compact generic WAL record of the insert path
 * (appends to a leaf tail, a delta page or a NULL page).
 */
#include "postgres.h"

#include "access/xloginsert.h"
#include "access/rmgr.h"
#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "utils/rel.h"

#include "learned.h"


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
 * entry pages never write (it stays zero); a delta page linked empty has
 * its whole entry area as a hole, and its first append moves pd_lower to
 * the end of it in the same record.  test/t/001_wal.pl replays these
 * records with wal_consistency_checking = generic.
 */
void
learned_append_logged(Relation index, Buffer buf, const uint64 *keys,
					  const ItemPointerData *tids, int k)
{
	Page		page = BufferGetPage(buf);
	LearnedPageOpaque op = LearnedPageGetOpaque(page);
	bool		isnull = (op->page_type == LEARNED_PAGE_NULL);
	int			n0 = op->nitems;
	char		delta[4 * 2 * sizeof(uint16) + LEARNED_LEAF_CAP * 14 + 2 * sizeof(uint16) + 16];
	int			dlen = 0;
	char	   *ranges[4];
	uint16		lens[4];
	int			nr = 0;
	PageHeader	ph = (PageHeader) page;
	bool		set_lower = (op->page_type == LEARNED_PAGE_DELTA &&
							 ph->pd_lower != LEARNED_DELTA_LOWER);

	LearnedEntries e;
	int			j;

	Assert(op->page_type == LEARNED_PAGE_LEAF || op->page_type == LEARNED_PAGE_DELTA || isnull);
	/* a new delta page, linked empty: its entry area is no longer a hole */
	if (set_lower)
	{
		ranges[nr] = (char *) &ph->pd_lower;
		lens[nr++] = (uint16) sizeof(ph->pd_lower);
	}
	if (isnull)
	{
		Assert(k > 0 && n0 + k <= LEARNED_NULL_CAP);
		ranges[nr] = (char *) &LearnedNullTids(page)[n0];
		lens[nr++] = (uint16) (k * sizeof(ItemPointerData));
	}
	else
	{
		/* a leaf's tail or a delta page's entries */
		learned_page_entries(page, &e);
		j = n0 - e.base;
		Assert(k > 0 && j >= 0 && j + k <= e.cap);
		ranges[nr] = (char *) &e.keys[j];
		lens[nr++] = (uint16) (k * sizeof(uint64));
		ranges[nr] = (char *) &e.tids[j];
		lens[nr++] = (uint16) (k * sizeof(ItemPointerData));
	}
	ranges[nr] = (char *) &op->nitems;
	lens[nr++] = (uint16) sizeof(op->nitems);

	START_CRIT_SECTION();
	if (set_lower)
		ph->pd_lower = LEARNED_DELTA_LOWER;
	if (!isnull)
	{
		memcpy(&e.keys[j], keys, k * sizeof(uint64));
		memcpy(&e.tids[j], tids, k * sizeof(ItemPointerData));
	}
	else
		memcpy(&LearnedNullTids(page)[n0], tids, k * sizeof(ItemPointerData));
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
