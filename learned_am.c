/*
 * learned_am.c -- handler of the learned index access method: the
 * IndexAmRoutine, reloptions and module initialisation.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "utils/fmgrprotos.h"

#include "learned.h"

PG_MODULE_MAGIC;

static relopt_kind learned_relopt_kind;
static relopt_parse_elt learned_relopt_tab[3];

#ifdef USE_ASSERT_CHECKING
static char *learned_debug_fault = NULL;
static char *learned_debug_pause = NULL;
static bool fault_armed = false;

/* setting learned_index.debug_fault arms the fault (once) */
static void
assign_debug_fault(const char *newval, void *extra)
{
	fault_armed = (newval != NULL && newval[0] != '\0');
}

/*
 * Raise the injected error if point is the armed one, or wait for the pause
 * lock if point is the pause point (see learned.h).
 */
void
learned_fault(const char *point)
{
	if (learned_debug_pause && strcmp(learned_debug_pause, point) == 0)
	{
		DirectFunctionCall1(pg_advisory_lock_int8, Int64GetDatum(LEARNED_PAUSE_LOCK));
		DirectFunctionCall1(pg_advisory_unlock_int8, Int64GetDatum(LEARNED_PAUSE_LOCK));
	}
	if (fault_armed && learned_debug_fault && strcmp(learned_debug_fault, point) == 0)
	{
		fault_armed = false;
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("learned_index: fault injected at %s", point)));
	}
}
#endif

/* load time: reloptions, GUCs, cache and insert-path callbacks and hooks */
void
_PG_init(void)
{
	learned_relopt_kind = add_reloption_kind();
	add_int_reloption(learned_relopt_kind, "epsilon",
					  "Maximum error (in positions) of the learned model",
					  LEARNED_DEFAULT_EPSILON, LEARNED_MIN_EPSILON,
					  LEARNED_MAX_EPSILON, ShareUpdateExclusiveLock);
	add_int_reloption(learned_relopt_kind, "fillfactor",
					  "Packs leaf pages only to this percentage at build and retrain",
					  LEARNED_DEFAULT_FILLFACTOR, 10, 100, ShareUpdateExclusiveLock);
	add_real_reloption(learned_relopt_kind, "retrain_threshold",
					   "Fraction of leaves that overflowed into delta pages beyond which inserts retrain them",
					   LEARNED_DEFAULT_RETRAIN_THRESHOLD, 0.0, 1.0, ShareUpdateExclusiveLock);
	learned_relopt_tab[0].optname = "epsilon";
	learned_relopt_tab[0].opttype = RELOPT_TYPE_INT;
	learned_relopt_tab[0].offset = offsetof(LearnedOptions, epsilon);
	learned_relopt_tab[1].optname = "fillfactor";
	learned_relopt_tab[1].opttype = RELOPT_TYPE_INT;
	learned_relopt_tab[1].offset = offsetof(LearnedOptions, fillfactor);
	learned_relopt_tab[2].optname = "retrain_threshold";
	learned_relopt_tab[2].opttype = RELOPT_TYPE_REAL;
	learned_relopt_tab[2].offset = offsetof(LearnedOptions, retrain_threshold);
	/* the page layout is the core's (li_leaf_capacity): check we agree */
	if (li_leaf_capacity(LEARNED_ENTRY_AVAIL) != LEARNED_LEAF_CAP ||
		li_null_capacity(LEARNED_ENTRY_AVAIL) != LEARNED_NULL_CAP)
		elog(ERROR, "learned_index: page layout disagrees with the core's");
	learned_cache_init();
	learned_insert_init();
	DefineCustomIntVariable("learned_index.retrain_slice_leaves",
							"Dirty leaves a retrain rewrites per switch of the structure.",
							"A retrain rewrites dirty leaves in slices of this many "
							"(at least an eighth of the index), each with its own switch, "
							"so the pages it replaces are reused by the next slice "
							"(insert batches wait only for the leaves a slice freezes, "
							"or for a slice of a whole rewrite); a retrain an insert "
							"triggers rewrites one slice, or the leaves its batch overflowed. "
							"0 rewrites everything in one switch.",
							&learned_retrain_slice_leaves, LEARNED_DEFAULT_SLICE_LEAVES,
							0, INT_MAX / 2, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("learned_index.retrain_neighbours",
							 "A retrain of one or two overflowed leaves also rewrites a clean neighbour.",
							 "The entries of the overflowed leaves and the neighbour go into "
							 "fuller leaves (a B*-tree's redistribution): the index stays "
							 "closer to a REINDEX's size under inserts, at the cost of "
							 "rewriting (and WAL-logging) about twice the leaves.  Off: "
							 "only the overflowed leaves are rewritten (a btree split).",
							 &learned_retrain_neighbours, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
#ifdef USE_ASSERT_CHECKING
	DefineCustomStringVariable("learned_index.debug_fault",
							   "Test only: raise a cancel error once at this point.",
							   NULL, &learned_debug_fault, "", PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   NULL, assign_debug_fault, NULL);
	DefineCustomStringVariable("learned_index.debug_pause",
							   "Test only: wait for an advisory lock at this point.",
							   NULL, &learned_debug_pause, "", PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
#endif
}

/* amoptions: parse and validate the reloptions */
bytea *
learned_options(Datum reloptions, bool validate)
{
	return (bytea *) build_reloptions(reloptions, validate,
									  learned_relopt_kind,
									  sizeof(LearnedOptions),
									  learned_relopt_tab,
									  lengthof(learned_relopt_tab));
}

#if PG_VERSION_NUM >= 180000
/*
 * PostgreSQL 18 asks the AM what its strategy numbers mean (planning of
 * ordered scans, merge joins, row comparisons...); without an answer an
 * ordering AM's scans are no longer taken as sorted.  Ours are btree's:
 * 1..5 are <, <=, =, >=, > (cmptype.h numbers them the same way).
 */
static CompareType
learned_translate_strategy(StrategyNumber strategy, Oid opfamily)
{
	if (strategy >= BTLessStrategyNumber && strategy <= BTGreaterStrategyNumber)
		return (CompareType) strategy;
	return COMPARE_INVALID;
}

/* the inverse of learned_translate_strategy */
static StrategyNumber
learned_translate_cmptype(CompareType cmptype, Oid opfamily)
{
	if (cmptype >= COMPARE_LT && cmptype <= COMPARE_GT)
		return (StrategyNumber) cmptype;
	return InvalidStrategy;
}
#endif

PG_FUNCTION_INFO_V1(learned_handler);

/* the index access method handler: what the AM can do and its callbacks */
Datum
learned_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = BTMaxStrategyNumber;
	amroutine->amsupport = 0;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = true;
	amroutine->amcanorderbyop = false;
	amroutine->amcanbackward = true;
	amroutine->amcanunique = true;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = true;
	amroutine->amsearchnulls = true;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = true;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;
#if PG_VERSION_NUM >= 160000
	amroutine->amsummarizing = false;
#endif
#if PG_VERSION_NUM >= 170000
	amroutine->amcanbuildparallel = false;
	amroutine->aminsertcleanup = NULL;
#endif
#if PG_VERSION_NUM >= 180000
	amroutine->amconsistentequality = true;
	amroutine->amconsistentordering = true;
	amroutine->amcanhash = false;
	amroutine->amtranslatestrategy = learned_translate_strategy;
	amroutine->amtranslatecmptype = learned_translate_cmptype;
	amroutine->amgettreeheight = NULL;
#endif

	amroutine->ambuild = learned_build;
	amroutine->ambuildempty = learned_buildempty;
	amroutine->aminsert = learned_insert;
	amroutine->ambulkdelete = learned_bulkdelete;
	amroutine->amvacuumcleanup = learned_vacuumcleanup;
	amroutine->amcanreturn = learned_canreturn;
	amroutine->amcostestimate = learned_costestimate;
	amroutine->amoptions = learned_options;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = learned_buildphasename;
	amroutine->amvalidate = learned_validate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = learned_beginscan;
	amroutine->amrescan = learned_dt_rescan;	/* wraps learned_rescan */
	amroutine->amgettuple = learned_gettuple;
	amroutine->amgetbitmap = learned_getbitmap;
	amroutine->amendscan = learned_endscan;
	amroutine->ammarkpos = learned_markpos;
	amroutine->amrestrpos = learned_restrpos;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}

/* reloption epsilon (the model's error bound) */
int
learned_get_epsilon(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->epsilon : LEARNED_DEFAULT_EPSILON;
}

/* reloption retrain_threshold (fraction of overflowed leaves) */
double
learned_get_retrain_threshold(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->retrain_threshold : LEARNED_DEFAULT_RETRAIN_THRESHOLD;
}

/* how full build and retrain pack a leaf (percent: the fillfactor) */
int
learned_leaf_fill(Relation index)
{
	return learned_get_fillfactor(index);
}

/* reloption fillfactor (percent of a leaf filled by build/retrain) */
int
learned_get_fillfactor(Relation index)
{
	LearnedOptions *opts = (LearnedOptions *) index->rd_options;

	return opts ? opts->fillfactor : LEARNED_DEFAULT_FILLFACTOR;
}
