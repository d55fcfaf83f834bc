/*
 * learned_cost.c -- amcostestimate.
 *
 * A lookup evaluates the model held in backend memory (a binary search over
 * the segments and one multiply-add) and reads one leaf page; there is no
 * tree to descend.  So the estimate is genericcostestimate (leaf pages and
 * tuples visited in proportion to the selectivity, at least one page) plus
 * a small CPU charge for the model, and the column's correlation from
 * pg_statistic, as btree computes it, for the heap-access cost.
 */
#include "postgres.h"

#include <math.h>

#include "access/nbtree.h"
#include "catalog/pg_statistic.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "learned.h"

/* correlation of heap order and key order, from the column statistics */
static double
learned_correlation(PlannerInfo *root, IndexPath *path)
{
	IndexOptInfo *index = path->indexinfo;
	VariableStatData vardata;
	double		corr = 0.0;
	Oid			sortop;
	AttStatsSlot sslot;

	memset(&vardata, 0, sizeof(vardata));
	if (index->indexkeys[0] != 0)
	{
		RangeTblEntry *rte = planner_rt_fetch(index->rel->relid, root);

		if (rte->rtekind != RTE_RELATION)
			return 0.0;
		if (get_relation_stats_hook &&
			(*get_relation_stats_hook) (root, rte, index->indexkeys[0], &vardata))
		{
			if (HeapTupleIsValid(vardata.statsTuple) && !vardata.freefunc)
				elog(ERROR, "no function provided to release variable stats with");
		}
		else
		{
			vardata.statsTuple = SearchSysCache3(STATRELATTINH,
												 ObjectIdGetDatum(rte->relid),
												 Int16GetDatum(index->indexkeys[0]),
												 BoolGetDatum(rte->inh));
			vardata.freefunc = ReleaseSysCache;
		}
	}
	else
	{
		if (get_index_stats_hook &&
			(*get_index_stats_hook) (root, index->indexoid, 1, &vardata))
		{
			if (HeapTupleIsValid(vardata.statsTuple) && !vardata.freefunc)
				elog(ERROR, "no function provided to release variable stats with");
		}
		else
		{
			vardata.statsTuple = SearchSysCache3(STATRELATTINH,
												 ObjectIdGetDatum(index->indexoid),
												 Int16GetDatum(1),
												 BoolGetDatum(false));
			vardata.freefunc = ReleaseSysCache;
		}
	}

	if (HeapTupleIsValid(vardata.statsTuple))
	{
		sortop = get_opfamily_member(index->opfamily[0], index->opcintype[0],
									 index->opcintype[0], BTLessStrategyNumber);
		if (OidIsValid(sortop) &&
			get_attstatsslot(&sslot, vardata.statsTuple,
							 STATISTIC_KIND_CORRELATION, sortop,
							 ATTSTATSSLOT_NUMBERS))
		{
			Assert(sslot.nnumbers == 1);
			corr = sslot.numbers[0];
			free_attstatsslot(&sslot);
		}
	}
	ReleaseVariableStats(vardata);
	/* a DESC index runs against the column's order (as btcostestimate) */
	if (index->reverse_sort && index->reverse_sort[0])
		corr = -corr;
	return corr;
}

/* amcostestimate: one leaf page per lookup plus the range read */
void
learned_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					 Cost *indexStartupCost, Cost *indexTotalCost,
					 Selectivity *indexSelectivity, double *indexCorrelation,
					 double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	GenericCosts costs;
	double		model_cost;

	memset(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	/*
	 * Model evaluation: a binary search over the segments (log2 of their
	 * number, estimated as pages/8) plus the windowed search in the page.
	 */
	model_cost = (ceil(log2(Max(index->pages / 8.0, 2.0))) + 6.0) * cpu_operator_cost;
	costs.indexStartupCost += model_cost;
	costs.indexTotalCost += model_cost;

	*indexStartupCost = costs.indexStartupCost;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = learned_correlation(root, path);
	*indexPages = costs.numIndexPages;
}
