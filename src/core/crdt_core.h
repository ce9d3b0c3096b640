/*
 * crdt_core.h — the pure C99 core of crdt_reconcile.
 *
 * No PostgreSQL headers here: the core encodes, parses, prints, compares,
 * merges and hashes CRDT values held as byte strings, and reports failure
 * through CrdtStatus codes plus a CrdtError.  The fmgr glue in src/ turns
 * those into ereport() calls; the tests in test/ link the core directly.
 *
 * Every value is a byte string that starts with a format-version byte
 * (CRDT_FORMAT_V1).  Its body is canonical: one state has exactly one byte
 * form, so equality and hashing work on bytes.  The layout is in
 * docs/FORMAT.md.
 */
#ifndef CRDT_CORE_H
#define CRDT_CORE_H

/*
 * The API comes in four headers, each including the one before:
 *   crdt_base.h      errors, allocators, buffers, varints, replica ids, hashes
 *   crdt_codec.h     maps and key lists, the binary building blocks
 *   crdt_types.h     type descriptors and the operations of each family
 *   crdt_aggstate.h  the states of the crdt_merge aggregates
 *   crdt_retire.h    retirement markers (docs/RETIREMENT.md)
 * Code outside the core includes this header only.
 */
#include "crdt_base.h"
#include "crdt_codec.h"
#include "crdt_types.h"
#include "crdt_aggstate.h"
#include "crdt_sequence.h"
#include "crdt_retire.h"
#include "crdt_bcounter.h"

#endif							/* CRDT_CORE_H */
