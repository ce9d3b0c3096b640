/* crdt_reconcile--0.5.sql — CRDT column types and merge aggregates, tracked
 * tables with their conflict audit, row lifecycle, telemetry, anti-entropy
 * and publications: the full install script of version 0.5, which a fresh
 * CREATE EXTENSION runs.  A database at 0.1, 0.2, 0.3 or 0.4 reaches the
 * same objects through the upgrade scripts (the upgrade test checks that). */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION crdt_reconcile" to load this file. \quit

/*
 * Conventions of this script
 * - Every reference is schema-qualified (@extschema@ or pg_catalog), so
 *   look-alike objects elsewhere on the search_path are never picked up.
 *   Policies, views, defaults and constraints are bound while the script
 *   runs, with @extschema@ (public, often) on the search_path: an operator
 *   between different types, such as oid = regclass, would bind to an exact
 *   match planted there, so such operators are qualified.
 * - The types live in the extension's schema (@extschema@); the management
 *   objects (tracked tables, conflict audit, tombstones, telemetry,
 *   anti-entropy) in the schema crdt_reconcile.  Nothing the tracked-table
 *   trigger runs depends on search_path (logical-replication apply workers
 *   run with an empty one); functions pin theirs.
 * - Equality, hashing and crdt_hash work on canonical bytes and are shared
 *   by every type (C symbols crdt_bytes_*).
 * - Mutators take an optional replica and fall back to crdt.replica_id, so
 *   they are STABLE; everything else is IMMUTABLE.  All are PARALLEL SAFE.
 * - crdt_merge(a, b) and crdt_delta treat NULL as the empty state; a NULL
 *   state given to a mutator is the empty state too (as array_append does).
 */

-- ================================================================ types
--
-- Every type declares alike, from src/sql/crdt.type.sql.in expanded for
-- each line of src/sql/types.list: I/O, equality and hashing of the
-- canonical bytes, a fixed total order for sorting and btree, crdt_merge(a,
-- b) and ||, crdt_delta, crdt_hash, the json and jsonb casts, and the
-- crdt_merge aggregate, whose combine, serialize and deserialize functions
-- its family shares (src/sql/aggregate.family.sql.in).  What only some
-- types have follows by family: vclock, counters, sets, registers.

