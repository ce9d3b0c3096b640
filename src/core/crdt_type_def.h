/*
 * crdt_type_def.h — defines a CrdtType descriptor for one kind of a family.
 * Internal to the core.
 *
 * A family implements crdt_<family>_validate/parse/print/merge/delta/
 * compare/write_empty, each taking the kind first; the descriptor of each
 * kind is those functions with the kind bound.
 */
#ifndef CRDT_TYPE_DEF_H
#define CRDT_TYPE_DEF_H

#include "crdt_core.h"

#define CRDT_DEFINE_TYPE(ident, family, KIND) \
static CrdtStatus ident##_validate(CrdtSlice v, CrdtError *err) \
{ return crdt_##family##_validate(KIND, v, err); } \
static CrdtStatus ident##_parse(const char *t, size_t n, CrdtBuf *o, CrdtError *err) \
{ return crdt_##family##_parse(KIND, t, n, o, err); } \
static CrdtStatus ident##_print(CrdtSlice v, CrdtBuf *o, CrdtError *err) \
{ return crdt_##family##_print(KIND, v, o, err); } \
static CrdtStatus ident##_merge(CrdtSlice a, CrdtSlice b, CrdtBuf *o, CrdtError *err) \
{ return crdt_##family##_merge(KIND, a, b, o, err); } \
static CrdtStatus ident##_delta(CrdtSlice a, CrdtSlice b, CrdtBuf *o, CrdtError *err) \
{ return crdt_##family##_delta(KIND, a, b, o, err); } \
static CrdtStatus ident##_compare(CrdtSlice a, CrdtSlice b, int *r, CrdtError *err) \
{ return crdt_##family##_compare(KIND, a, b, r, err); } \
static void ident##_write_empty(CrdtBuf *o) \
{ crdt_##family##_write_empty(KIND, o); } \
const CrdtType crdt_type_##ident = { \
	#ident, ident##_validate, ident##_parse, ident##_print, \
	ident##_merge, ident##_delta, ident##_compare, ident##_write_empty \
}

#endif							/* CRDT_TYPE_DEF_H */
