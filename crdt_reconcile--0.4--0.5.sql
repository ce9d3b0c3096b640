/* crdt_reconcile--0.4--0.5.sql — from 0.4 to 0.5.  Each change keeps its
 * own section below, in the order the sections were written; the full
 * script of 0.5 is built from src/sql/, and sql/upgrade.sql checks that
 * this script brings a 0.4 database to exactly the same objects.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.5'" to load this file. \quit
