/* crdt_reconcile--0.3--0.4.sql — the trust boundary of tracked tables and
 * multi-node correctness.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.4'" to load this file. \quit
