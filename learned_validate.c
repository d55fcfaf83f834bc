/*
 * learned_validate.c -- amvalidate: checks an operator class of the learned
 * access method (comparison operators 1..5 returning boolean, no support
 * functions, cross-type operators only within integers, floats, or
 * date/timestamp/timestamptz).
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/regproc.h"

#include "learned.h"

/* the group of types sharing one encoding (cross-type operators stay inside one) */
static int
type_group(Oid typid)
{
	switch (learned_keykind_for_type(typid))
	{
		case LEARNED_KEY_INT2:
		case LEARNED_KEY_INT4:
		case LEARNED_KEY_INT8:
			return 1;
		case LEARNED_KEY_FLOAT4:
		case LEARNED_KEY_FLOAT8:
			return 2;
		case LEARNED_KEY_DATE:
		case LEARNED_KEY_TIMESTAMP:
		case LEARNED_KEY_TIMESTAMPTZ:
			return 3;			/* converted by learned_datetime.c */
		default:
			return 0;
	}
}

/* amvalidate: check an operator class of the learned AM */
bool
learned_validate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *oprlist;
	CatCList   *proclist;
	bool		catchall;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);
	/* the catch-all class only exists to report unsupported types */
	catchall = (opcintype == ANYELEMENTOID);

	if (!catchall && learned_keykind_for_type(opcintype) == LEARNED_KEY_INVALID)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("learned operator class \"%s\" is for unsupported type %s",
						opclassname, format_type_be(opcintype))));
		result = false;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));

	for (int i = 0; i < proclist->n_members; i++)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("learned operator family of class \"%s\" has a support function, which the access method does not use",
						opclassname)));
		result = false;
	}

	for (int i = 0; i < oprlist->n_members; i++)
	{
		HeapTuple	oprtup = &oprlist->members[i]->tuple;
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(oprtup);

		if (oprform->amopstrategy < 1 || oprform->amopstrategy > BTMaxStrategyNumber)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("learned operator family of class \"%s\" contains operator %s with invalid strategy number %d",
							opclassname, format_operator(oprform->amopopr),
							oprform->amopstrategy)));
			result = false;
		}
		if (oprform->amoppurpose != AMOP_SEARCH ||
			!check_amop_signature(oprform->amopopr, BOOLOID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("learned operator family of class \"%s\" contains operator %s with wrong signature or purpose",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
		if (learned_keykind_for_type(oprform->amoplefttype) == LEARNED_KEY_INVALID ||
			learned_keykind_for_type(oprform->amoprighttype) == LEARNED_KEY_INVALID)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("learned operator family of class \"%s\" contains operator %s on an unsupported type",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
		else if (type_group(oprform->amoplefttype) != type_group(oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("learned operator family of class \"%s\" contains cross-type operator %s between types the access method cannot convert",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}
