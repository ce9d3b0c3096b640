#!/bin/sh
# src/sql/upgrade.sh FULL MANIFEST — writes the upgrade script of the
# current (unreleased) version to stdout: MANIFEST as it is, except its
# directive lines, which bring statements of FULL (the built full install
# script of the same version) in, with the comment lines just above each:
#   --@ copy HEAD      every statement whose first line is HEAD
#   --@ copy HEAD ~ T  of those, the ones that contain the text T
#   --@ template NAME.type.sql.in TYPE
#                      the template filled in for TYPE, as build.sh does
#   --@ replace HEAD   the same, "CREATE FUNCTION" / "CREATE VIEW" becoming
#                      "CREATE OR REPLACE ..." (an object 0.4 already has)
# An object the new version adds or changes is so written once, in src/sql/;
# what only an upgrade does (ALTER TABLE, DROP, moving data) is written in
# the manifest.  Once the version is released its upgrade script is
# committed as built and never changes again.
# Only sh and awk, as src/sql/build.sh.
set -eu

awk -v dir="$(dirname "$0")" '
# Split FULL into statements: a statement ends at a ";" outside quotes,
# dollar quotes and comments; comment lines right above it belong to it.
function scan(line,    i, c, rest, tag) {
	i = 1
	while (i <= length(line)) {
		c = substr(line, i, 1)
		rest = substr(line, i)
		if (dollar != "") {
			if (substr(rest, 1, length(dollar)) == dollar) {
				i += length(dollar)
				dollar = ""
			} else
				i++
		} else if (quoted) {
			if (c == "\047")
				quoted = 0
			i++
		} else if (substr(rest, 1, 2) == "--")
			return 0
		else if (c == "\047") {
			quoted = 1
			i++
		} else if (c == "$" && match(rest, /^\$[A-Za-z_]*\$/)) {
			dollar = substr(rest, 1, RLENGTH)
			i += RLENGTH
		} else if (c == ";") {
			ends = 1
			i++
		} else
			i++
	}
	return 0
}
FNR == NR && !open && (block || /^\/\*/) {
	# a block comment between statements (the header of the script)
	block = index($0, "*/") == 0
	next
}
FNR == NR {
	if (!open && /^\\/)
		next	# a psql meta-command: the \echo guard
	if (!open && ($0 ~ /^--/ || $0 ~ /^[ \t]*$/)) {
		# a comment block sticks to the statement under it; a blank line
		# in between parts them
		if ($0 ~ /^[ \t]*$/)
			pending = ""
		else
			pending = pending $0 "\n"
		next
	}
	if (!open) {
		open = 1
		n++
		head[n] = $0
		text[n] = pending
		pending = ""
	}
	text[n] = text[n] $0 "\n"
	ends = 0
	scan($0)
	if (ends && dollar == "" && !quoted)
		open = 0
	next
}
/^--@ (copy|replace) / {
	want = $0
	sub(/^--@ (copy|replace) /, "", want)
	also = ""
	if ((at = index(want, " ~ ")) > 0) {
		also = substr(want, at + 3)
		want = substr(want, 1, at - 1)
	}
	found = 0
	for (s = 1; s <= n; s++) {
		if (head[s] != want || index(text[s], also) == 0)
			continue
		out = text[s]
		if ($2 == "replace") {
			sub(/\nCREATE FUNCTION /, "\nCREATE OR REPLACE FUNCTION ", out)
			sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", out)
			sub(/\nCREATE VIEW /, "\nCREATE OR REPLACE VIEW ", out)
			sub(/^CREATE VIEW /, "CREATE OR REPLACE VIEW ", out)
		}
		printf "%s", out
		found++
	}
	if (!found) {
		print FILENAME ":" FNR ": no statement in the full script begins with: " want > "/dev/stderr"
		failed = 1
	}
	next
}
/^--@ template / {
	cmd = "sh " dir "/build.sh --type " $4 " " dir "/" $3
	found = 0
	while ((cmd | getline line) > 0) {
		print line
		found++
	}
	if (close(cmd) != 0 || !found) {
		print FILENAME ":" FNR ": template " $3 " gives nothing for " $4 > "/dev/stderr"
		failed = 1
	}
	next
}
{ print }
END { if (failed) exit 1 }
' "$1" "$2"
