/*
 * gen_corpus.c — writes the seed corpus of the fuzz targets (make
 * fuzz-corpus): gen_corpus DIR writes DIR/<target>/<name> files.
 *
 * The values come from the core itself: hand-written texts of every type
 * (canonical, reordered, escaped) parsed, and values built by short
 * operation programs (fuzz_run_ops), printed and encoded.  The inputs are
 * laid out as the targets read them (see fuzz_common.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

static void
make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
	{
		perror(path);
		exit(1);
	}
}

static void
write_file(const char *target, const char *name, const CrdtBuf *b)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

static int
type_index(const CrdtType *t)
{
	for (int k = 0; k < FUZZ_TYPES; k++)
		if (fuzz_types[k] == t)
			return k;
	return 0;
}

/* ------------------------------------------------------------ the texts */

typedef struct Sample
{
	const CrdtType *type;
	const char *text;
} Sample;

static const Sample samples[] = {
	{&crdt_type_vclock, "{}"},
	{&crdt_type_vclock, "{\"a\":1}"},
	{&crdt_type_vclock, "{\"agent-041\":3,\"agent-042\":9,\"agent-1\":1}"},
	{&crdt_type_vclock, "{\"b\":1,\"a\":2,\"B\":3,\"\xC3\xA9\":4,\"aa\":5,\"~\":6}"},
	{&crdt_type_vclock, "\n\t{ \"a\" :\r 1 , \"b\":2 }\n"},
	{&crdt_type_vclock, "{\"a\":9223372036854775807}"},
	{&crdt_type_vclock, "{\"x\\\"q\":1,\"back\\\\slash\":2,\"a\\/b\":3,\"\\u00e9\":4,\"\\ud83d\\ude00\":5}"},
	{&crdt_type_gcounter, "{}"},
	{&crdt_type_gcounter, "{\"a\":0,\"b\":1}"},
	{&crdt_type_gcounter, "{\"agent-042\":2,\"agent-041\":1000000}"},
	{&crdt_type_pncounter, "{}"},
	{&crdt_type_pncounter, "{\"p\":{\"a\":1}}"},
	{&crdt_type_pncounter, "{\"n\":{\"a\":1},\"p\":{\"b\":2}}"},
	{&crdt_type_pncounter, "{\"p\":{\"a\":3},\"n\":{\"a\":3}}"},
	{&crdt_type_pncounter, "{\"p\":{\"b\":1,\"a\":2},\"n\":{\"z\":3,\"c\":4}}"},
	{&crdt_type_gset, "[]"},
	{&crdt_type_gset, "[\"a\"]"},
	{&crdt_type_gset, "[\"b\",\"a\",\"ab\"]"},
	{&crdt_type_gset, "[\"\"]"},
	{&crdt_type_gset, "[ \"a\" ,\n\"b\" ]"},
	{&crdt_type_gset, "[\"\\n\",\"\\u0001\",\"\\\"\",\"\\\\\",\"\\/\",\"\\b\\f\\r\\t\",\"\\u00e9\","
	"\"\\ud83d\\ude00\",\"\x7f\",\"\\u001F\"]"},
	{&crdt_type_twopset, "{}"},
	{&crdt_type_twopset, "{\"elements\":[\"a\"],\"removed\":[\"b\"]}"},
	{&crdt_type_twopset, "{\"removed\":[\"b\"],\"elements\":[\"a\",\"ab\",\"abc\"]}"},
	{&crdt_type_twopset, "{\"elements\":[],\"removed\":[]}"},
	{&crdt_type_orset, "{}"},
	{&crdt_type_orset, "{\"context\":{\"alice\":2},\"elements\":{\"milk\":[[\"alice\",1]],"
	"\"eggs\":[[\"alice\",2]]}}"},
	{&crdt_type_orset, "{\"context\":{\"r\":[[1,3],[5,5]]}}"},
	{&crdt_type_orset, "{\"context\":{\"r\":[[2,5],[3,9],[12,12],[10,11]],\"s\":4},"
	"\"elements\":{\"x\":[[\"r\",12],[\"s\",1]],\"y\":[[\"s\",4]]}}"},
	{&crdt_type_mvreg, "{}"},
	{&crdt_type_mvreg, "{\"values\":[{\"value\":1,\"dots\":[[\"a\",3]]},"
	"{\"value\":{\"k\": [true, null]},\"dots\":[[\"b\",1],[\"b\",4]]}],\"context\":{\"a\":3,\"b\":[[1,1],[4,6]]}}"},
	{&crdt_type_mvreg, "{\"context\":{\"r\":2},\"values\":[{\"dots\":[[\"r\",2]],\"value\":\"\\u00e9\"}]}"},
	{&crdt_type_lwwreg, "{}"},
	{&crdt_type_lwwreg, "{\"value\":1,\"at\":\"2026-11-26T10:00:00.000000Z\",\"replica\":\"a\"}"},
	{&crdt_type_lwwreg, "{\"replica\":\"b\",\"at\":\"2024-02-29 23:59:59.5+05:30\",\"value\":{\"k\": [1, \"x\"]}}"},
	{&crdt_type_lwwreg, "{\"value\":null,\"at\":\"0001-01-01T00:00:00Z\",\"replica\":\"r\\u00e9\"}"},
	{&crdt_type_lwwreg, "{\"value\":\"\\u00e9\",\"at\":\"9999-12-31T23:59:59.999999z\",\"replica\":\"z\"}"},	/* with retirement markers (docs/RETIREMENT.md) */
	{&crdt_type_gcounter, "[{\"b\":2},{\"a\":[\"c\",3]}]"},
	{&crdt_type_pncounter, "[{\"n\":{\"b\":2}},{\"a\":[\"b\",3,1],\"aa\":[\"b\",0,0]}]"},
	{&crdt_type_vclock, "[{\"x\":1},{\"a\":[\"b\",3],\"z\":[\"b\",0]}]"},
	{&crdt_type_orset, "[{\"context\":{\"a\":1},\"elements\":{\"x\":[[\"a\",1]]}},{\"a\":[\"b\"]}]"},
	{&crdt_type_mvreg, "[{},{\"a\":[\"b\"]}]"},
};

/* Operation programs (fuzz_common.c): op byte, then its arguments. */
static const uint8_t programs[][24] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8},
	{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{3, 1, 2, 0, 5, 3, 3, 9, 1, 0, 2, 4, 7, 3, 7, 0, 1},
	{1, 7, 0xf0, 2, 2, 0xe1, 0, 6, 0x10, 3, 9, 9, 0, 5},
	{2, 15, 1, 3, 15, 2, 0, 14, 7, 1, 13, 6, 3, 14, 0},
	{0, 0xff, 0xff, 3, 1, 0, 0xfe, 0xfe, 4, 2, 5, 0x80, 0x81, 5, 6},
};

#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* ------------------------------------------------------------ writing */

static void
put_chunk(CrdtBuf *b, uint8_t header, const uint8_t *data, size_t len)
{
	crdt_buf_put_byte(b, header);
	crdt_buf_put_byte(b, (uint8_t) (len & 0xff));
	crdt_buf_put_byte(b, (uint8_t) (len >> 8));
	crdt_buf_put(b, data, len);
}

/*
 * The sequence target: texts of rtext and rlist as text (mode 1) and as
 * their bytes (mode 0), and edit programs on three replicas (mode 2).
 */
static void
write_sequence_seeds(CrdtBuf *in, CrdtBuf *value)
{
	static const char *const texts[2][3] = {
		{"{}", "{\"a\":[[1,\"^\",\"hi\"],[3,\"+\",2]],\"b\":[[1,[\"<\",\"a\",2],\"\\u00e9x\"]]}",
		"{\"a\":[[1,\"^\",1],[2,\"+\",\"z\"],[4,[\">\",\"a\",2],\"w\"]]}"},
		{"{}", "{\"a\":[[1,\"^\",[1,\"two\",{\"k\":null}]]],\"b\":[[1,[\">\",\"a\",3],[[]]]]}",
		"{\"p\":[[1,\"^\",2],[3,\"+\",[true]]]}"}
	};
	static const uint8_t programs[][12] = {
		{0x00, 0x00, 0x04, 0x01, 0x18, 0x00, 0x06, 0x00, 0x01, 0x02, 0x23, 0x00},
		{0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x04, 0x00, 0x12, 0x00, 0x0b, 0x00},
		{0x08, 0x03, 0x08, 0x03, 0x04, 0x00, 0x2a, 0x00, 0x45, 0x01, 0x1f, 0x00},
	};
	char		name[64];
	CrdtError	err;

	for (int kind = 0; kind < 2; kind++)
	{
		const CrdtType *t = kind == 0 ? &crdt_type_rtext : &crdt_type_rlist;

		for (int i = 0; i < 3; i++)
		{
			fuzz_buf_reset(in);
			crdt_buf_put_byte(in, (uint8_t) (kind | 2));
			crdt_buf_put_str(in, texts[kind][i]);
			snprintf(name, sizeof(name), "%s-text-%d", t->name, i);
			write_file("sequence", name, in);
			fuzz_buf_reset(value);
			if (t->parse(texts[kind][i], strlen(texts[kind][i]), value, &err) != CRDT_OK)
			{
				fprintf(stderr, "%s sample %d does not parse: %s\n", t->name, i, err.message);
				exit(1);
			}
			fuzz_buf_reset(in);
			crdt_buf_put_byte(in, (uint8_t) kind);
			crdt_buf_put(in, value->data, value->len);
			snprintf(name, sizeof(name), "%s-bytes-%d", t->name, i);
			write_file("sequence", name, in);
		}
		for (size_t p = 0; p < sizeof(programs) / sizeof(programs[0]); p++)
		{
			fuzz_buf_reset(in);
			crdt_buf_put_byte(in, (uint8_t) (kind | 4));
			crdt_buf_put(in, programs[p], sizeof(programs[p]));
			snprintf(name, sizeof(name), "%s-program-%zu", t->name, p);
			write_file("sequence", name, in);
		}
	}
}

int
main(int argc, char **argv)
{
	CrdtBuf		in;
	CrdtBuf		value;
	CrdtBuf		text;
	char		name[64];

	if (argc != 2)
	{
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	make_dir(root);
	crdt_bufs_init(&crdt_malloc_allocator, &in, &value, &text, NULL);

	/* parse and binary: each sample, as text and as its bytes */
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
	{
		const CrdtType *t = samples[i].type;
		uint8_t		sel = (uint8_t) type_index(t);
		CrdtError	err;

		fuzz_buf_reset(&in);
		crdt_buf_put_byte(&in, sel);
		crdt_buf_put_str(&in, samples[i].text);
		snprintf(name, sizeof(name), "%s-text-%02zu", t->name, i);
		write_file("parse", name, &in);

		fuzz_buf_reset(&value);
		if (t->parse(samples[i].text, strlen(samples[i].text), &value, &err) != CRDT_OK)
		{
			fprintf(stderr, "sample %zu (%s) does not parse: %s\n", i, t->name, err.message);
			return 1;
		}
		fuzz_buf_reset(&in);
		crdt_buf_put_byte(&in, sel);
		crdt_buf_put(&in, value.data, value.len);
		snprintf(name, sizeof(name), "%s-bytes-%02zu", t->name, i);
		write_file("binary", name, &in);
	}

	/* values built by operation programs: printed, encoded, and in chunks */
	for (int k = 0; k < FUZZ_TYPES; k++)
	{
		const CrdtType *t = fuzz_types[k];
		uint8_t		sel = (uint8_t) k;

		for (size_t p = 0; p < NPROGRAMS; p++)
		{
			const uint8_t *prog = programs[p];
			size_t		plen = sizeof(programs[p]);
			CrdtSlice	v;

			fuzz_run_ops(t, fuzz_empty(t), prog, plen, &value);
			v = fuzz_exact_buf(&value);
			fuzz_print(t, v, &text);

			fuzz_buf_reset(&in);
			crdt_buf_put_byte(&in, sel);
			crdt_buf_put(&in, text.data, text.len);
			snprintf(name, sizeof(name), "%s-ops-%02zu", t->name, p);
			write_file("parse", name, &in);

			fuzz_buf_reset(&in);
			crdt_buf_put_byte(&in, sel);
			crdt_buf_put(&in, v.data, v.len);
			write_file("binary", name, &in);

			/* laws: (binary a, ops on a), (text a, ops from empty, binary c) */
			fuzz_buf_reset(&in);
			crdt_buf_put_byte(&in, sel);
			put_chunk(&in, FUZZ_MODE_BINARY, v.data, v.len);
			put_chunk(&in, FUZZ_MODE_OPS | FUZZ_CHUNK_FORK, programs[(p + 1) % NPROGRAMS], plen);
			snprintf(name, sizeof(name), "%s-fork-%02zu", t->name, p);
			write_file("laws", name, &in);

			fuzz_buf_reset(&in);
			crdt_buf_put_byte(&in, sel);
			put_chunk(&in, FUZZ_MODE_TEXT, text.data, text.len);
			put_chunk(&in, FUZZ_MODE_OPS, programs[(p + 2) % NPROGRAMS], plen);
			put_chunk(&in, FUZZ_MODE_BINARY, v.data, v.len);
			snprintf(name, sizeof(name), "%s-three-%02zu", t->name, p);
			write_file("laws", name, &in);

			/* aggstate: the value, forks of it on both sides, its text */
			fuzz_buf_reset(&in);
			crdt_buf_put_byte(&in, sel);
			put_chunk(&in, FUZZ_MODE_BINARY, v.data, v.len);
			put_chunk(&in, FUZZ_MODE_OPS | FUZZ_CHUNK_FORK | 0x20, programs[(p + 1) % NPROGRAMS], plen);
			put_chunk(&in, FUZZ_MODE_OPS | FUZZ_CHUNK_FORK, programs[(p + 3) % NPROGRAMS], plen);
			put_chunk(&in, FUZZ_MODE_TEXT | 0x20, text.data, text.len);
			put_chunk(&in, FUZZ_MODE_BINARY | 0x40, (const uint8_t *) "milk", 4);
			snprintf(name, sizeof(name), "%s-agg-%02zu", t->name, p);
			write_file("aggstate", name, &in);
		}
	}

	/* json: register values, replica ids, varints */
	{
		static const char *const jsons[] = {
			"1", " null ", "true", "\"x\"", "[1, 2]", "{\"a\": 1}", "-0.5e3", "\"\\u00e9\"",
			"{}", "[]", "\"\xc3\xa9\"", "[[[]]]", "{\"b\":[true,false,null],\"c\":{\"d\":\"\\ud83d\\ude00\"}}",
			"1e400", "\t\"tab\"\n", "agent-041", "r\xc3\xa9plica", "\xc2\x85", "\x7f",
			"0123456789012345678901234567890123456789012345678901234567890123",
		};
		static const uint8_t varints[][11] = {
			{0x00}, {0x7f}, {0x80, 0x01}, {0xff, 0x7f}, {0x80, 0x00},
			{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
			{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
			{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
		};

		for (size_t i = 0; i < sizeof(jsons) / sizeof(jsons[0]); i++)
		{
			fuzz_buf_reset(&in);
			crdt_buf_put_str(&in, jsons[i]);
			snprintf(name, sizeof(name), "text-%02zu", i);
			write_file("json", name, &in);
		}
		for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++)
		{
			size_t		len = 1;

			while (len < sizeof(varints[i]) && varints[i][len - 1] >= 0x80)
				len++;
			fuzz_buf_reset(&in);
			crdt_buf_put(&in, varints[i], len);
			snprintf(name, sizeof(name), "varint-%02zu", i);
			write_file("json", name, &in);
		}
	}

	write_sequence_seeds(&in, &value);
	crdt_bufs_free(&in, &value, &text, NULL);
	fuzz_exact_release_all();
	return 0;
}
