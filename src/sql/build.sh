#!/bin/sh
# src/sql/build.sh PART... — writes the full install script of the current
# version to stdout: the parts in the order given (the Makefile's SQL_PARTS),
# one blank line between them, each as it is except the templates:
#   NAME.type.sql.in    once per type of src/sql/types.list, with @TYPE@,
#                       @FAMILY@ and @COMMENT@ replaced by its fields; a
#                       first line "--@ types: a b c" limits it to those
#   NAME.family.sql.in  once per aggregate family of types.list (in the order
#                       they first appear), with @FAMILY@ replaced by the
#                       family and @TYPES@ by its types ("a, b, c")
# With "--type T" first, only the blocks of templates for type T, and no
# header line (src/sql/upgrade.sh uses it for a type a new version adds).
# Only sh and awk (any POSIX awk: mawk, gawk, busybox): `make` runs it on a
# machine with nothing more.
set -eu

list=$(dirname "$0")/types.list
only_type=
if [ "${1:-}" = --type ]; then
	only_type=$2
	shift 2
else
	echo "-- Built by src/sql/build.sh from the files in src/sql/: edit those, then run make."
fi

for part in "$@"; do
	case $part in
	*.type.sql.in) kind=type ;;
	*.family.sql.in) kind=family ;;
	*) kind=plain ;;
	esac
	awk -v kind="$kind" -v first="${first:-yes}" -v only_type="$only_type" '
	# text with every occurrence of from replaced by to (no regular
	# expressions, so any text may be put in)
	function put(text, from, to,    out, at) {
		out = ""
		while ((at = index(text, from)) > 0) {
			out = out substr(text, 1, at - 1) to
			text = substr(text, at + length(from))
		}
		return out text
	}
	# one block: a blank line before it (but before the first), the
	# template filled in, its trailing blank lines left out
	function emit(type, family, comment, types,    i, line) {
		if (blocks++ > 0 || first != "yes")
			print ""
		for (i = 1; i <= lines; i++) {
			line = template[i]
			if (kind != "plain") {
				line = put(line, "@TYPE@", type)
				line = put(line, "@FAMILY@", family)
				line = put(line, "@COMMENT@", comment)
				line = put(line, "@TYPES@", types)
			}
			print line
		}
	}
	FNR == NR && FNR == 1 && /^--@ types:/ {
		for (i = 3; i <= NF; i++)
			only[$i] = 1
		limited = 1
		next
	}
	FNR == NR {
		template[++read] = $0
		if (NF > 0)
			lines = read
		next
	}
	/^#/ || NF == 0 { next }
	NF < 3 { print FILENAME ":" FNR ": want a type, its family and a comment" > "/dev/stderr"; failed = 1; exit 1 }
	{
		comment = $0
		sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", comment)
		if (kind == "type" && (!limited || ($1 in only)) && (only_type == "" || $1 == only_type))
			emit($1, $2, comment, "")
		else if (kind == "family" && !($2 in members)) {
			families[++nfamilies] = $2
			members[$2] = $1
		} else if (kind == "family")
			members[$2] = members[$2] ", " $1
	}
	END {
		if (failed)
			exit 1
		if (kind == "plain")
			emit("", "", "", "")
		for (f = 1; f <= nfamilies; f++)
			emit("", families[f], "", members[families[f]])
	}' "$part" "$list"
	first=no
done
