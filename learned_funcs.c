/*
 * learned_funcs.c -- SQL-callable functions: learned_index_stats() and
 * learned_index_retrain().
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/tuplestore.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "learned.h"

PG_FUNCTION_INFO_V1(learned_index_stats);
PG_FUNCTION_INFO_V1(learned_index_retrain);

/* open a learned index, locking its table first (as amcheck does) */
static Relation
open_learned_index(Oid indexoid, LOCKMODE heapmode, LOCKMODE indexmode,
				   Relation *heap_out)
{
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap = NULL;
	Relation	index;

	if (!OidIsValid(heapoid))
	{
		char	   *name = get_rel_name(indexoid);

		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a learned index", name ? name : "(unknown)")));
	}
	heap = table_open(heapoid, heapmode);
	index = index_open(indexoid, indexmode);
	if (IndexGetRelation(indexoid, false) != heapoid)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open parent table of index \"%s\"",
						RelationGetRelationName(index))));
	learned_check_index_rel(index);
	*heap_out = heap;
	return index;
}

/* learned_index_stats(index): model and page statistics of one index */
Datum
learned_index_stats(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	heap;
	Relation	index = open_learned_index(indexoid, AccessShareLock, AccessShareLock, &heap);
	LearnedMetaPageData meta;
	LearnedCache *c;
	LearnedIndexCounts counts;
	TupleDesc	tupdesc;
	Datum		values[21];
	bool		nulls[21];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	learned_flush_pending(index);
	learned_reader_begin(index, &meta);
	c = learned_cache_acquire(index, &meta);
	learned_count(index, c, &counts);
	learned_cache_release(c);
	learned_reader_end(index, meta.generation);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) (counts.base_live + counts.pending));
	values[1] = Int64GetDatum((int64) meta.nleaf);
	values[2] = Int64GetDatum((int64) meta.nsegments);
	values[3] = Int32GetDatum((int32) meta.epsilon);
	values[4] = Float8GetDatum(meta.max_error);
	values[5] = Int64GetDatum((int64) counts.pending);
	values[6] = Int64GetDatum((int64) RelationGetNumberOfBlocks(index) * BLCKSZ);
	values[7] = Int64GetDatum((int64) counts.nulls);
	values[8] = Int64GetDatum((int64) counts.base_dead);
	values[9] = Int64GetDatum((int64) counts.delta_pages);
	values[10] = Int64GetDatum((int64) meta.generation);
	values[11] = Int64GetDatum((int64) meta.nretrains);
	if (meta.last_retrain == 0)
		nulls[12] = true;
	else
		values[12] = TimestampTzGetDatum((TimestampTz) meta.last_retrain);
	values[13] = Int32GetDatum((int32) meta.radius);
	values[14] = Int64GetDatum((int64) counts.dirty_leaves);
	values[15] = Int64GetDatum((int64) meta.nlocal);
	/* the compressed leaves: bytes per sorted entry, key and TID widths */
	if (counts.sorted == 0)
	{
		nulls[16] = nulls[17] = nulls[19] = true;
		values[16] = values[17] = values[19] = (Datum) 0;
	}
	else
	{
		values[16] = Float8GetDatum((double) counts.block_bytes / counts.sorted);
		values[17] = Float8GetDatum((double) counts.key_bits / counts.sorted);
		values[19] = Float8GetDatum((double) counts.tid_bits / counts.sorted);
	}
	values[18] = Int32GetDatum(counts.key_bits_max);
	values[20] = Int32GetDatum(counts.tid_bits_max);

	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* learned_index_retrain(index [, full]): merge pending entries now */
Datum
learned_index_retrain(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	heap;
	Relation	index;

	/*
	 * RowExclusive on the table, as an insert: a retrain is ordered against
	 * VACUUM's bulk delete by the structure lock, so it must not wait for
	 * VACUUM's table lock (VACUUM may itself be waiting, invisibly to the
	 * deadlock detector, for a pin of this session's open cursor).
	 */
	index = open_learned_index(indexoid, RowExclusiveLock,
							   RowExclusiveLock, &heap);
	if (!learned_class_ownercheck(RelationGetRelid(heap), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX,
					   RelationGetRelationName(index));
	learned_flush_pending(index);
	learned_retrain(index, PG_NARGS() > 1 && PG_GETARG_BOOL(1) ? LEARNED_RETRAIN_FULL : LEARNED_RETRAIN_PENDING, true);

	index_close(index, RowExclusiveLock);
	table_close(heap, RowExclusiveLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(learned_index_segments);

/*
 * learned_index_segments(index) -> one row per model segment: its first key
 * (as SQL text of the column type), first position, slope, intercept, the
 * entries it covers and the maximum error measured over its keys.
 */
Datum
learned_index_segments(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	heap;
	Relation	index = open_learned_index(indexoid, AccessShareLock, AccessShareLock, &heap);
	LearnedMetaPageData meta;
	LearnedCache *c;
	double	   *maxerr;
	Oid			typoutput;
	bool		typisvarlena;
	Oid			keytype = index->rd_opcintype[0];
	bool		have_prev = false;
	uint64		prev = 0;

	InitMaterializedSRF(fcinfo, 0);
	getTypeOutputInfo(keytype, &typoutput, &typisvarlena);

	learned_flush_pending(index);
	learned_reader_begin(index, &meta);
	c = learned_cache_acquire(index, &meta);
	learned_cache_load_all(index, c);
	maxerr = palloc0(sizeof(double) * Max(meta.nsegments, 1));

	/* every sorted key, attributed to its segment */
	for (uint32 g = 0; g < meta.nleaf; g++)
	{
		Buffer		buf = ReadBuffer(index, c->blknos[g]);
		Page		page;
		li_cleaf_view v;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		learned_check_page(index, page, c->blknos[g], LEARNED_PAGE_LEAF, meta.generation);
		learned_leaf_view(page, &v);
		for (int i = 0; i < (int) v.n; i++)
		{
			uint64		k = li_cleaf_key_at(&v, (uint32) i);
			size_t		s;
			double		e;

			if (have_prev && k == prev)
				continue;
			have_prev = true;
			prev = k;
			if (meta.nsegments == 0)
				continue;
			s = li_find_segment(c->segs, meta.nsegments, k);
			e = fabs(li_predict(c->segs, meta.nsegments, meta.nkeys, k) -
					 (double) (c->starts[g] + i));
			if (e > maxerr[s])
				maxerr[s] = e;
		}
		UnlockReleaseBuffer(buf);
	}

	for (uint32 s = 0; s < meta.nsegments; s++)
	{
		Datum		values[7];
		bool		nulls[7] = {false};
		li_segment *sg = &c->segs[s];
		uint64		end = (s + 1 < meta.nsegments) ? c->segs[s + 1].first_pos : meta.nkeys;

		values[0] = Int32GetDatum((int32) s);
		values[1] = CStringGetTextDatum(OidOutputFunctionCall(typoutput,
															  learned_decode((LearnedKeyKind) meta.keykind,
																			 sg->first_key)));
		values[2] = Int64GetDatum((int64) sg->first_pos);
		values[3] = Float8GetDatum(sg->slope);
		values[4] = Float8GetDatum(sg->intercept);
		values[5] = Int64GetDatum((int64) (end - sg->first_pos));
		values[6] = Float8GetDatum(maxerr[s]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	learned_cache_release(c);
	learned_reader_end(index, meta.generation);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return (Datum) 0;
}
