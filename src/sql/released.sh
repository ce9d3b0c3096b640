#!/bin/sh
# src/sql/released.sh SCRIPT FULL [RELEASED...] — builds the released script
# SCRIPT (crdt_reconcile--X.sql, in the current directory) from its source
# src/sql/released/SCRIPT.in with src/sql/upgrade.sh, FULL being the built
# full script of the current version and RELEASED the released scripts that
# source takes statements "from", and checks it: a released script never
# changes, so one whose sha256 is not the one src/sql/released.sha256
# records is not written and the build stops.
# Only sh, awk and sha256sum (coreutils), as src/sql/build.sh.
set -eu

dir=$(dirname "$0")
script=$1
full=$2
shift 2

# why a build stops: the statement the source names has changed or is gone
inline() {
	cat >&2 <<MSG
ERROR: $script would change: $1
A released script never changes.  A statement of src/sql/ that
$dir/released/$script.in takes its text from has changed or is gone: write
that statement's released text literally in $dir/released/$script.in (in
place of its "--@" line; the text as released is git show 5077480:$script,
and $script.tmp is what was built now, to compare with it).
MSG
	exit 1
}

sh "$dir/upgrade.sh" "$full" "$dir/released/$script.in" "$@" > "$script.tmp" ||
	inline "its source names a statement that is not there (see above)"
want=$(awk -v f="$script" '$2 == f { print $1 }' "$dir/released.sha256")
got=$(sha256sum < "$script.tmp" | awk '{ print $1 }')
[ "$got" = "$want" ] ||
	inline "its sha256 is $got, not the released ${want:-(none recorded)} of $dir/released.sha256."
mv "$script.tmp" "$script"
