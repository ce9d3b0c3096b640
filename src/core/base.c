/*
 * base.c — errors, allocation, byte buffers and varints for the core.
 */
#include "crdt_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CrdtStatus
crdt_fail(CrdtError *err, CrdtStatus status, long position, const char *fmt,...)
{
	if (err != NULL)
	{
		va_list		ap;

		err->status = status;
		err->position = position;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return status;
}

CrdtStatus
crdt_nomem(CrdtError *err)
{
	return crdt_fail(err, CRDT_ERR_NOMEM, -1, "out of memory");
}

CrdtStatus
crdt_buf_status(const CrdtBuf *buf, CrdtError *err)
{
	return buf->failed ? crdt_nomem(err) : CRDT_OK;
}

CrdtStatus
crdt_check_version(CrdtSlice value, CrdtError *err)
{
	if (value.len == 0)
		return crdt_fail(err, CRDT_ERR_BINARY, 0, "value is empty");
	if (value.data[0] != CRDT_FORMAT_V1)
		return crdt_fail(err, CRDT_ERR_BINARY, 0,
						 "unsupported format version %u (this build reads version %d)",
						 (unsigned) value.data[0], CRDT_FORMAT_V1);
	return CRDT_OK;
}

void
crdt_write_empty_value(CrdtBuf *out, int parts)
{
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int i = 0; i < parts; i++)
		crdt_buf_put_byte(out, 0);
}

static void *
malloc_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size);
}

static void *
malloc_resize(void *ctx, void *ptr, size_t size)
{
	(void) ctx;
	return realloc(ptr, size);
}

static void
malloc_release(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

const CrdtAllocator crdt_malloc_allocator = {
	malloc_alloc, malloc_resize, malloc_release, NULL
};

static const CrdtAllocator *default_allocator = &crdt_malloc_allocator;

void
crdt_set_default_allocator(const CrdtAllocator *alloc)
{
	default_allocator = alloc != NULL ? alloc : &crdt_malloc_allocator;
}

const CrdtAllocator *
crdt_default_allocator(void)
{
	return default_allocator;
}

void
crdt_buf_init(CrdtBuf *buf, const CrdtAllocator *alloc, size_t headroom)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->alloc = alloc;
	buf->failed = false;
	if (crdt_buf_reserve(buf, headroom + 32))
		buf->len = headroom;
}

void
crdt_buf_free(CrdtBuf *buf)
{
	if (buf->data != NULL)
		buf->alloc->release(buf->alloc->ctx, buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void
crdt_bufs_init(const CrdtAllocator *alloc,...)
{
	va_list		ap;
	CrdtBuf    *buf;

	va_start(ap, alloc);
	while ((buf = va_arg(ap, CrdtBuf *)) != NULL)
		crdt_buf_init(buf, alloc, 0);
	va_end(ap);
}

void
crdt_bufs_free(CrdtBuf *buf,...)
{
	va_list		ap;

	va_start(ap, buf);
	for (; buf != NULL; buf = va_arg(ap, CrdtBuf *))
		crdt_buf_free(buf);
	va_end(ap);
}

bool
crdt_bufs_failed(const CrdtBuf *buf,...)
{
	va_list		ap;
	bool		failed = false;

	va_start(ap, buf);
	for (; buf != NULL; buf = va_arg(ap, const CrdtBuf *))
		failed |= buf->failed;
	va_end(ap);
	return failed;
}

bool
crdt_buf_grow(CrdtBuf *buf, size_t extra)
{
	size_t		need;
	size_t		cap;
	uint8_t    *grown;

	if (buf->failed)
		return false;
	if (extra > SIZE_MAX / 2 - buf->len)
	{
		buf->failed = true;
		return false;
	}
	need = buf->len + extra;
	if (need <= buf->cap)
		return true;
	cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap *= 2;
	if (buf->data == NULL)
		grown = buf->alloc->alloc(buf->alloc->ctx, cap);
	else
		grown = buf->alloc->resize(buf->alloc->ctx, buf->data, cap);
	if (grown == NULL)
	{
		buf->failed = true;
		return false;
	}
	buf->data = grown;
	buf->cap = cap;
	return true;
}

void
crdt_buf_put(CrdtBuf *buf, const void *bytes, size_t n)
{
	if (n == 0 || !crdt_buf_reserve(buf, n))
		return;
	memcpy(buf->data + buf->len, bytes, n);
	buf->len += n;
}

void
crdt_buf_put_byte(CrdtBuf *buf, uint8_t byte)
{
	if (!crdt_buf_reserve(buf, 1))
		return;
	buf->data[buf->len++] = byte;
}

void
crdt_buf_put_varint(CrdtBuf *buf, uint64_t value)
{
	if (!crdt_buf_reserve(buf, CRDT_VARINT_MAX))
		return;
	buf->len += crdt_varint_encode(buf->data + buf->len, value);
}

void
crdt_buf_put_str(CrdtBuf *buf, const char *s)
{
	crdt_buf_put(buf, s, strlen(s));
}

void
crdt_buf_put_u64_decimal(CrdtBuf *buf, uint64_t value)
{
	char		digits[20];
	size_t		n = 0;

	do
	{
		digits[sizeof(digits) - 1 - n++] = (char) ('0' + value % 10);
		value /= 10;
	} while (value != 0);
	crdt_buf_put(buf, digits + sizeof(digits) - n, n);
}

CrdtVarintResult
crdt_varint_decode_long(const uint8_t **pos, const uint8_t *end, uint64_t *value)
{
	const uint8_t *p = *pos;
	uint64_t	result = 0;
	unsigned	shift = 0;

	for (;;)
	{
		uint8_t		byte;

		if (p >= end)
			return CRDT_VARINT_TRUNCATED;
		byte = *p++;
		if (shift == 63 && (byte & 0x7e) != 0)
			return CRDT_VARINT_OVERFLOW;
		result |= (uint64_t) (byte & 0x7f) << shift;
		if ((byte & 0x80) == 0)
		{
			/* a final zero group after others is padding: not canonical */
			if (byte == 0 && shift != 0)
				return CRDT_VARINT_NONCANONICAL;
			break;
		}
		shift += 7;
		if (shift > 63)
			return CRDT_VARINT_OVERFLOW;
	}
	*pos = p;
	*value = result;
	return CRDT_VARINT_OK;
}

int
crdt_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t		n = alen < blen ? alen : blen;
	int			c = n == 0 ? 0 : memcmp(a, b, n);

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (alen == blen)
		return 0;
	return alen < blen ? -1 : 1;
}

int
crdt_slice_cmp(const void *a, const void *b)
{
	const CrdtSlice *x = a;
	const CrdtSlice *y = b;

	return crdt_bytes_cmp(x->data, x->len, y->data, y->len);
}

/*
 * Length of the UTF-8 sequence at s (at most avail bytes), with its code
 * point in *cp, or 0 if it is not well-formed (overlong, surrogate, past
 * U+10FFFF, truncated).
 */
static size_t
utf8_sequence(const uint8_t *s, size_t avail, uint32_t *cp)
{
	uint8_t		b0 = s[0];
	size_t		n;
	uint32_t	c;
	uint32_t	min;

	if (b0 < 0x80)
	{
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xc2 && b0 <= 0xdf)
	{
		n = 2;
		c = b0 & 0x1f;
		min = 0x80;
	}
	else if (b0 >= 0xe0 && b0 <= 0xef)
	{
		n = 3;
		c = b0 & 0x0f;
		min = 0x800;
	}
	else if (b0 >= 0xf0 && b0 <= 0xf4)
	{
		n = 4;
		c = b0 & 0x07;
		min = 0x10000;
	}
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool
crdt_utf8_valid(const uint8_t *bytes, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint32_t	cp;
		size_t		n;

		if (bytes[i] < 0x80)
		{
			i++;
			continue;
		}
		if ((n = utf8_sequence(bytes + i, len - i, &cp)) == 0)
			return false;
		i += n;
	}
	return true;
}

static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

const char *
crdt_replica_id_problem(const uint8_t *id, size_t len)
{
	size_t		i = 0;

	if (len == 0)
		return "is empty";
	if (len > CRDT_REPLICA_ID_MAX)
		return "is longer than 64 bytes";
	while (i < len)
	{
		uint32_t	cp;
		size_t		n = utf8_sequence(id + i, len - i, &cp);

		if (n == 0)
			return "is not valid UTF-8";
		if (is_control(cp))
			return "contains a control character";
		i += n;
	}
	return NULL;
}

CrdtStatus
crdt_check_replica_argument(const uint8_t *id, size_t len, CrdtError *err)
{
	const char *problem = crdt_replica_id_problem(id, len);

	if (problem != NULL)
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), id, len);
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "replica id %s %s", shown, problem);
	}
	return CRDT_OK;
}

void
crdt_describe_bytes(char *out, size_t outsize, const uint8_t *id, size_t len)
{
	size_t		o = 0;
	size_t		i = 0;
	size_t		shown = len > CRDT_REPLICA_ID_MAX ? CRDT_REPLICA_ID_MAX : len;

	if (outsize < 16)
	{
		if (outsize > 0)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	while (i < shown && o + 12 < outsize)
	{
		uint32_t	cp;
		size_t		n = utf8_sequence(id + i, len - i, &cp);

		if (n == 0)
		{
			o += (size_t) snprintf(out + o, outsize - o, "\\x%02X", id[i]);
			i++;
		}
		else if (is_control(cp) || cp == '"' || cp == '\\')
		{
			o += (size_t) snprintf(out + o, outsize - o, "\\u%04X", (unsigned) cp);
			i += n;
		}
		else if (o + n + 12 < outsize)
		{
			memcpy(out + o, id + i, n);
			o += n;
			i += n;
		}
		else
			break;
	}
	out[o++] = '"';
	if (i < len)
	{
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

long
crdt_bsearch(const void *key, const void *base, size_t n, size_t size, int (*cmp) (const void *, const void *))
{
	size_t		lo = 0;
	size_t		hi = n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = cmp((const uint8_t *) base + mid * size, key);

		if (c == 0)
			return (long) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
