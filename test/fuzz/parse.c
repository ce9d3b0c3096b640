/*
 * parse.c — fuzz target for the text parsers of all eight types (the text
 * input, and the json/jsonb casts, which parse the same text).
 *
 * Input: a selector byte choosing the type, then the text.  The parser
 * must accept the text or refuse it as malformed (syntax, a number out of
 * range, too large), never read outside it, and what it accepts must be a
 * valid value whose canonical text parses back to the same bytes, also
 * with every non-ASCII character escaped (the text form of non-UTF-8
 * databases).
 */
#include "fuzz_common.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const CrdtType *t;
	CrdtSlice	text;
	CrdtSlice	value;
	CrdtBuf		out;
	CrdtBuf		printed;
	CrdtBuf		again;
	CrdtBuf		ascii;
	CrdtError	err;
	CrdtStatus	st;

	if (size < 1)
		return 0;
	t = fuzz_type_of(data[0]);
	fuzz_notes_clear();
	text = fuzz_exact(data + 1, size - 1);
	crdt_bufs_init(&crdt_malloc_allocator, &out, &printed, &again, &ascii, NULL);

	st = t->parse((const char *) text.data, text.len, &out, &err);
	if (st != CRDT_OK)
	{
		FUZZ_CHECK(st == CRDT_ERR_SYNTAX || st == CRDT_ERR_OVERFLOW || st == CRDT_ERR_TOO_LARGE,
				   "%s parse refused text with %s: %s", t->name, fuzz_status_name(st),
				   err.message);
		FUZZ_CHECK(err.position >= -1 && err.position <= (long) text.len,
				   "%s parse error position %ld outside the text (%zu bytes): %s", t->name,
				   err.position, text.len, err.message);
		goto done;
	}
	value = fuzz_exact_buf(&out);
	fuzz_note_value("parsed", value);
	st = t->validate(value, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s parse gave an invalid value: %s: %s", t->name,
			   fuzz_status_name(st), err.message);

	/* the canonical text parses back to the same bytes, and is a fixed point */
	fuzz_print(t, value, &printed);
	fuzz_note_value("printed", fuzz_exact_buf(&printed));
	st = t->parse((const char *) fuzz_exact_buf(&printed).data, printed.len, &again, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s canonical text does not parse: %s: %s", t->name,
			   fuzz_status_name(st), err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&again), value),
			   "%s parse(print(v)) differs from v", t->name);

	/* the pure-ASCII form of the text parses to the same value */
	if (!fuzz_escape_round_trips(t, value))
		goto done;
	crdt_json_escape_non_ascii((const char *) fuzz_exact_buf(&printed).data, printed.len, &ascii);
	FUZZ_CHECK(!ascii.failed, "escape_non_ascii ran out of memory");
	for (size_t k = 0; k < ascii.len; k++)
		FUZZ_CHECK(ascii.data[k] < 0x80, "%s escaped text has a non-ASCII byte at %zu",
				   t->name, k);
	fuzz_note_value("escaped", fuzz_exact_buf(&ascii));
	fuzz_buf_reset(&again);
	st = t->parse((const char *) fuzz_exact_buf(&ascii).data, ascii.len, &again, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s escaped canonical text does not parse: %s: %s", t->name,
			   fuzz_status_name(st), err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&again), value),
			   "%s parse(escape(print(v))) differs from v", t->name);

done:
	crdt_bufs_free(&out, &printed, &again, &ascii, NULL);
	fuzz_exact_release_all();
	return 0;
}
