#!/usr/bin/env bash
# Dump and restore: pg_dump (custom and plain) into new databases, and COPY
# (FORMAT binary) out and in.  Every value of every type must come back
# byte-equal, the conflict records and tracking settings too, and the
# tracked table's trigger must still work after the restore.  Part of
# `make test`; prints one summary line.
source "$(dirname "$0")/lib.sh"

ensure_packages
build_and_install
make_workdir
start_cluster dump

psql_on dump -c "CREATE DATABASE source"
psql_on dump -d source -f - < "$ROOT/test/dump/setup.sql" >/dev/null
digest() { psql_on dump -d "$1" -At -f - < "$ROOT/test/dump/digest.sql"; }
expected=$(digest source)

as_server pg_dump -h "$WORK" -p "$PORT_dump" -U postgres -Fc -f "$WORK/source.dump" source
as_server pg_dump -h "$WORK" -p "$PORT_dump" -U postgres -Fp -f "$WORK/source.sql" source
psql_on dump -c "CREATE DATABASE from_custom" -c "CREATE DATABASE from_plain" -c "CREATE DATABASE from_copy"
as_server pg_restore -h "$WORK" -p "$PORT_dump" -U postgres --exit-on-error -d from_custom "$WORK/source.dump"
psql_on dump -d from_plain -f "$WORK/source.sql" >/dev/null

# COPY (FORMAT binary) out of the source and into fresh tables of the same shape
psql_on dump -d from_copy -f - < "$ROOT/test/dump/setup.sql" >/dev/null
# (a tracked table refuses TRUNCATE: untrack it for that, then track it again)
psql_on dump -d from_copy -c "SELECT crdt_reconcile.untrack('inventory')" -c "TRUNCATE every_type, inventory" \
	-c "SELECT crdt_reconcile.track('inventory', clock_column => 'clk', writer_column => 'writer',
	                                invariant => 'crdt_value(stock) >= 0')" >/dev/null
psql_on dump -d source -c "COPY every_type TO STDOUT (FORMAT binary)" > "$WORK/every_type.bin"
psql_on dump -d source -c "COPY inventory TO STDOUT (FORMAT binary)" > "$WORK/inventory.bin"
psql_on dump -d from_copy -c "SET session_replication_role = replica" \
	-c "COPY every_type FROM STDIN (FORMAT binary)" < "$WORK/every_type.bin"
psql_on dump -d from_copy -c "SET session_replication_role = replica" \
	-c "COPY inventory FROM STDIN (FORMAT binary)" < "$WORK/inventory.bin"

failed=()
for db in from_custom from_plain; do
	got=$(digest "$db")
	[ "$got" = "$expected" ] || { failed+=("$db"); printf 'expected:\n%s\ngot (%s):\n%s\n' "$expected" "$db" "$got" >&2; }
done
got=$(digest from_copy | grep -E '^(every_type|inventory)\|')
[ "$got" = "$(grep -E '^(every_type|inventory)\|' <<<"$expected")" ] || { failed+=(from_copy); echo "COPY binary differs" >&2; }

# the restored tracked table still merges and records
after=$(psql_on dump -d from_custom -At -c "SET crdt.replica_id = 'node_c'" \
	-c "SET session_replication_role = replica" \
	-c "UPDATE inventory SET price = 9, stock = '{\"p\":{\"node_c\":100}}', clk = '{\"node_c\":1}',
	    writer = crdt_set_at(NULL::lwwreg, '1', '2000-01-01', 'node_c') WHERE sku = 'apple'" \
	-c "SELECT crdt_value(stock) || ' ' || (SELECT count(*) FROM crdt_reconcile.conflicts) FROM inventory")
[ "$after" = "55 3" ] || { failed+=(trigger_after_restore); echo "after restore: got '$after', expected '55 3'" >&2; }

rows=$(psql_on dump -d source -At -c "SELECT (SELECT count(*) FROM every_type) + (SELECT count(*) FROM inventory) + (SELECT count(*) FROM crdt_reconcile.conflicts)")
if [ "${#failed[@]}" -eq 0 ]; then
	echo "dump/restore: PASS — $rows rows byte-equal after pg_dump custom, pg_dump plain and COPY binary; trigger works after restore"
else
	echo "dump/restore: FAIL (${failed[*]})"
	exit 1
fi
