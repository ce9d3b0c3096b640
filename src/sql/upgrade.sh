#!/bin/sh
# src/sql/upgrade.sh FULL MANIFEST [RELEASED...] — writes a script to
# stdout: MANIFEST as it is, except its directive lines, which bring text of
# FULL (the built full install script of the current version) in:
#   --@ copy HEAD      every statement whose first line is HEAD, with the
#                      comment lines just above it
#   --@ copy HEAD ~ T  of those, the ones that contain the text T
#   --@ body HEAD      the same without the comment lines
#   --@ replace HEAD   as copy, "CREATE FUNCTION" / "CREATE VIEW" becoming
#                      "CREATE OR REPLACE ..." (an object 0.4 already has)
#   --@ through HEAD   after one of the above: the text of FULL that follows
#                      the statement it copied, up to the end of the next
#                      statement whose first line is HEAD (what lies between
#                      included, blank and comment lines too)
#   --@ lines A-B HEAD lines A to B of that one statement (1 = its first)
#   --@ template NAME.type.sql.in TYPE
#                      the template filled in for TYPE, as build.sh does
#   --@# TEXT          a note for the reader of MANIFEST, not written out
# After the verb, "from V" takes the statement from the released script
# crdt_reconcile--V.sql given as a RELEASED argument instead of FULL.
#
# It builds the upgrade script of the current, unreleased version from
# src/sql/upgrade--X--Y.sql.in: an object the new version adds or changes
# is so written once, in src/sql/; what only an upgrade does (ALTER TABLE,
# DROP, moving data) is written in the manifest.  And it builds the
# released scripts from src/sql/released/*.sql.in (src/sql/released.sh
# checks that they come out as released): where their text is the same as
# today's they name it, where it differs they hold it as it was.
# Only sh and awk, as src/sql/build.sh.
set -eu

full=$1
manifest=$2
shift 2

awk -v dir="$(dirname "$0")" -v refs=$(($# + 1)) '
# Split a script into statements: a statement ends at a ";" outside quotes,
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
# lines from to to of file f
function emit(f, from, to,    i) {
	for (i = from; i <= to; i++)
		print line[f, i]
}
function complain(what) {
	print FILENAME ":" FNR ": " what > "/dev/stderr"
	failed = 1
}
FNR == 1 {
	file++
	name = FILENAME
	sub(/^.*\//, "", name)
	sub(/^crdt_reconcile--/, "", name)
	sub(/\.sql$/, "", name)
	fileof[name] = file
	open = block = quoted = 0
	dollar = ""
	pending = 0
}
file <= refs {
	line[file, FNR] = $0
}
file <= refs && !open && (block || /^\/\*/) {
	# a block comment between statements (the header of the script)
	block = index($0, "*/") == 0
	next
}
file <= refs {
	if (!open && /^\\/)
		next	# a psql meta-command: the \echo guard
	if (!open && ($0 ~ /^--/ || $0 ~ /^[ \t]*$/)) {
		# a comment block sticks to the statement under it; a blank line
		# in between parts them
		if ($0 ~ /^[ \t]*$/)
			pending = 0
		else if (!pending)
			pending = FNR
		next
	}
	if (!open) {
		open = 1
		n++
		head[n] = $0
		sfile[n] = file
		first[n] = FNR
		above[n] = pending ? pending : FNR
		pending = 0
	}
	last_line[n] = FNR
	ends = 0
	scan($0)
	if (ends && dollar == "" && !quoted)
		open = 0
	next
}
/^--@#/ { next }
/^--@ (copy|body|replace|through|lines) / {
	verb = $2
	want = $0
	sub(/^--@ [a-z-]+ /, "", want)
	if (verb == "lines") {
		range = want
		sub(/ .*/, "", range)
		sub(/^[^ ]+ /, "", want)
		split(range, ab, "-")
	}
	f = 1
	if (want ~ /^from /) {
		sub(/^from /, "", want)
		ref = want
		sub(/ .*/, "", ref)
		sub(/^[^ ]+ /, "", want)
		if (!(ref in fileof) || fileof[ref] > refs) {
			complain("no released script " ref " given")
			next
		}
		f = fileof[ref]
	}
	also = ""
	if ((at = index(want, " ~ ")) > 0) {
		also = substr(want, at + 3)
		want = substr(want, 1, at - 1)
	}
	if (verb == "through" && !previous) {
		complain("through what? no statement copied just above")
		next
	}
	if (verb == "through")
		f = sfile[previous]
	found = 0
	for (s = (verb == "through" ? previous + 1 : 1); s <= n; s++) {
		if (sfile[s] != f || head[s] != want)
			continue
		text = ""
		for (i = above[s]; i <= last_line[s]; i++)
			text = text line[f, i] "\n"
		if (index(text, also) == 0)
			continue
		found++
		if (verb == "through") {
			emit(f, last_line[previous] + 1, last_line[s])
			break
		}
		if (verb == "lines") {
			if (found > 1)
				break
			match_at = s
			continue
		}
		if (verb == "body") {
			text = ""
			for (i = first[s]; i <= last_line[s]; i++)
				text = text line[f, i] "\n"
		}
		if (verb == "replace") {
			sub(/\nCREATE FUNCTION /, "\nCREATE OR REPLACE FUNCTION ", text)
			sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", text)
			sub(/\nCREATE VIEW /, "\nCREATE OR REPLACE VIEW ", text)
			sub(/^CREATE VIEW /, "CREATE OR REPLACE VIEW ", text)
		}
		printf "%s", text
		previous = s
	}
	if (verb == "through")
		previous = s
	else if (verb == "lines") {
		previous = 0
		if (found != 1) {
			complain("lines: " (found ? "more than one statement begins" : "no statement begins") \
				" with: " want (also != "" ? " ~ " also : ""))
			next
		}
		s = match_at
		if (ab[1] < 1 || ab[2] < ab[1] || first[s] + ab[2] - 1 > last_line[s])
			complain("lines " range ": the statement has " (last_line[s] - first[s] + 1) " lines: " want)
		else
			emit(f, first[s] + ab[1] - 1, first[s] + ab[2] - 1)
	}
	if (!found) {
		complain("no statement in " (f == 1 ? "the full script" : "crdt_reconcile--" ref ".sql") \
			" begins with: " want (also != "" ? " ~ " also : ""))
		previous = 0
	}
	next
}
/^--@ template / {
	previous = 0
	cmd = "sh " dir "/build.sh --type " $4 " " dir "/" $3
	found = 0
	while ((cmd | getline text) > 0) {
		print text
		found++
	}
	if (close(cmd) != 0 || !found)
		complain("template " $3 " gives nothing for " $4)
	next
}
/^--@ / { complain("unknown directive: " $0); next }
{ previous = 0; print }
END { if (failed) exit 1 }
' "$full" "$@" "$manifest"
