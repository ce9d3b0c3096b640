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
CRDT_DEFINE_TYPE_OPS(ident, family, KIND) \
const CrdtType crdt_type_##ident = { \
	#ident, ident##_validate, ident##_parse, ident##_print, \
	ident##_merge, ident##_delta, ident##_compare, ident##_write_empty \
}

#define CRDT_DEFINE_TYPE_OPS(ident, family, KIND) \
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
{ crdt_##family##_write_empty(KIND, o); }

/*
 * A type whose values may carry retirement markers (crdt_retire.h): the
 * version-1 operations become crdt_plain_<ident>, and the type's
 * descriptor handles both versions through the marker layer.
 */
#define CRDT_DEFINE_RETIRABLE_TYPE(ident, family, KIND, AMOUNTS) \
CRDT_DEFINE_TYPE_OPS(ident, family, KIND) \
static const CrdtType crdt_plain_##ident = { \
	#ident, ident##_validate, ident##_parse, ident##_print, \
	ident##_merge, ident##_delta, ident##_compare, ident##_write_empty \
}; \
const CrdtRetireShape crdt_shape_##ident = {&crdt_plain_##ident, AMOUNTS, (CrdtCounterKind) (KIND)}; \
static CrdtStatus ident##_m_validate(CrdtSlice v, CrdtError *err) \
{ return crdt_marked_validate(&crdt_shape_##ident, v, err); } \
static CrdtStatus ident##_m_parse(const char *t, size_t n, CrdtBuf *o, CrdtError *err) \
{ return crdt_marked_parse(&crdt_shape_##ident, t, n, o, err); } \
static CrdtStatus ident##_m_print(CrdtSlice v, CrdtBuf *o, CrdtError *err) \
{ return crdt_marked_print(&crdt_shape_##ident, v, o, err); } \
static CrdtStatus ident##_m_merge(CrdtSlice a, CrdtSlice b, CrdtBuf *o, CrdtError *err) \
{ return crdt_marked_merge(&crdt_shape_##ident, a, b, o, err); } \
static CrdtStatus ident##_m_delta(CrdtSlice a, CrdtSlice b, CrdtBuf *o, CrdtError *err) \
{ return crdt_marked_delta(&crdt_shape_##ident, a, b, o, err); } \
static CrdtStatus ident##_m_compare(CrdtSlice a, CrdtSlice b, int *r, CrdtError *err) \
{ return crdt_marked_compare(&crdt_shape_##ident, a, b, r, err); } \
const CrdtType crdt_type_##ident = { \
	#ident, ident##_m_validate, ident##_m_parse, ident##_m_print, \
	ident##_m_merge, ident##_m_delta, ident##_m_compare, ident##_write_empty \
}

#endif							/* CRDT_TYPE_DEF_H */
