/*
 * pcapng.c - the pcapng block walker (pcapng.h).
 *
 * Each call reads whole blocks until one holds a packet.  A block is first
 * framed (its 8-byte header, its body, its trailing length), then looked
 * at; every field read from a body is checked against the body's length,
 * so a lying length inside a well-framed block can only make that one
 * block unusable.  Multi-byte fields are read byte by byte in the
 * section's byte order.
 */
#include "collectors/pcap/pcapng.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "lib/bytes.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_PB 2u  /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_EPB 6u

#define BOM 0x1A2B3C4Du

#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_FCSLEN 13
#define OPT_IF_TSOFFSET 14

/* A field in the section's byte order (r->swap: big-endian). */
static inline uint32_t rd32(const struct cep_pcapng *r, const uint8_t *p)
{
	return r->swap ? cep_be32(p) : cep_le32(p);
}

static inline uint16_t rd16(const struct cep_pcapng *r, const uint8_t *p)
{
	return r->swap ? cep_be16(p) : cep_le16(p);
}

static uint64_t rd64(const struct cep_pcapng *r, const uint8_t *p)
{
	uint64_t a = rd32(r, p), b = rd32(r, p + 4);

	/* In the file's order: the first word is the high one when big. */
	return r->swap ? a << 32 | b : b << 32 | a;
}

static int fail(struct cep_pcapng *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cep_pcapng *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	return code;
}

static void init_common(struct cep_pcapng *r)
{
	memset(r, 0, sizeof *r);
}

void cep_pcapng_init_file(struct cep_pcapng *r, FILE *fp)
{
	init_common(r);
	r->fp = fp;
	if (fp) {
		long pos = ftell(fp);

		r->off = pos > 0 ? (uint64_t)pos : 0;
	}
}

void cep_pcapng_init_mem(struct cep_pcapng *r, const uint8_t *buf, size_t len)
{
	init_common(r);
	r->mem = buf;
	r->memlen = len;
}

void cep_pcapng_fini(struct cep_pcapng *r)
{
	free(r->buf);
	free(r->ifs);
	r->buf = NULL;
	r->ifs = NULL;
	r->nif = r->ifcap = 0;
}

const char *cep_pcapng_error(const struct cep_pcapng *r)
{
	return r->err;
}

/*
 * Read @n bytes at the current offset into dst (file) or point *out at
 * them (memory).  Returns n, the smaller count that was there, or -EIO.
 */
static long take(struct cep_pcapng *r, size_t n, uint8_t *dst,
		 const uint8_t **out)
{
	if (r->mem) {
		size_t left = r->off < r->memlen ? r->memlen - (size_t)r->off : 0;

		if (n > left)
			n = left;
		*out = r->mem + r->off;
		r->off += n;
		return (long)n;
	}
	size_t got = fread(dst, 1, n, r->fp);

	r->off += got;
	if (got < n && ferror(r->fp))
		return -EIO;
	*out = dst;
	return (long)got;
}

static int grow_buf(struct cep_pcapng *r, size_t need)
{
	size_t size = r->bufsize ? r->bufsize : 65536;
	uint8_t *nb;

	if (need <= r->bufsize)
		return 0;
	while (size < need)
		size *= 2;
	nb = realloc(r->buf, size);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->bufsize = size;
	return 0;
}

/*
 * Frame one block: *type, and *body and *bodylen (between the leading length
 * and the trailing one).  Returns 1, 0 at a clean end of input, or a
 * negative code with r->err set.
 */
static int read_block(struct cep_pcapng *r, uint32_t *type,
		      const uint8_t **body, uint32_t *bodylen)
{
	uint8_t hdr[12];
	const uint8_t *h, *rest;
	uint32_t total, trail;
	long got;
	size_t hlen = 8;

	r->block_off = r->off;
	got = take(r, 8, hdr, &h);
	if (got < 0)
		return fail(r, -EIO, "read error");
	if (got == 0)
		return 0;
	if (got < 8)
		return fail(r, -CEP_ETRUNCATED, "file ends inside a block "
			    "header (%ld of 8 bytes)", got);
	if (h != hdr)
		memcpy(hdr, h, 8);
	/* The SHB's type reads the same in both orders; its byte-order magic
	 * decides how to read everything after it, its own length included. */
	if (memcmp(hdr, "\x0A\x0D\x0D\x0A", 4) == 0) {
		uint32_t bom;

		got = take(r, 4, hdr + 8, &h);
		if (got < 0)
			return fail(r, -EIO, "read error");
		if (got < 4)
			return fail(r, -CEP_ETRUNCATED, "file ends inside a "
				    "section header");
		if (h != hdr + 8)
			memcpy(hdr + 8, h, 4);
		r->swap = 0;
		bom = rd32(r, hdr + 8);
		if (bom != BOM) {
			r->swap = 1;
			if (rd32(r, hdr + 8) != BOM)
				return fail(r, -CEP_EMALFORMED, "section header "
					    "with a bad byte-order magic");
		}
		hlen = 12;
	} else if (!r->in_section) {
		return fail(r, -CEP_EMALFORMED, "block type 0x%08x before any "
			    "section header", rd32(r, hdr));
	}
	*type = rd32(r, hdr);
	total = rd32(r, hdr + 4);
	if (total < hlen + 4 || total % 4 != 0)
		return fail(r, -CEP_EMALFORMED, "block type 0x%08x with a bad "
			    "length %u", *type, total);
	if (total > CEP_PCAPNG_MAX_BLOCK)
		return fail(r, -CEP_EMALFORMED, "block type 0x%08x of %u bytes "
			    "exceeds the %u-byte limit", *type, total,
			    CEP_PCAPNG_MAX_BLOCK);
	/* The body, then the trailing length; for an SHB the body starts at
	 * the byte-order magic, which is already in hdr. */
	size_t want = total - hlen;
	uint8_t *dst = NULL;

	if (!r->mem) {
		if (grow_buf(r, total))
			return fail(r, -ENOMEM, "no memory for a block of %u "
				    "bytes", total);
		dst = r->buf + (hlen - 8);
		memcpy(r->buf, hdr + 8, hlen - 8);
	}
	got = take(r, want, dst, &rest);
	if (got < 0)
		return fail(r, -EIO, "read error");
	if ((size_t)got < want)
		return fail(r, -CEP_ETRUNCATED, "file ends inside block type "
			    "0x%08x (%zu of %u bytes)", *type,
			    (size_t)got + hlen, total);
	trail = rd32(r, rest + want - 4);
	if (trail != total)
		return fail(r, -CEP_EMALFORMED, "block type 0x%08x: trailing "
			    "length %u differs from %u", *type, trail, total);
	if (r->mem)
		*body = rest - (hlen - 8);
	else
		*body = r->buf;
	*bodylen = total - 12;
	r->blocks++;
	return 1;
}

static int section_header(struct cep_pcapng *r, const uint8_t *b,
			  uint32_t len)
{
	unsigned major;

	if (len < 16)
		return fail(r, -CEP_EMALFORMED, "section header too short");
	major = rd16(r, b + 4);
	if (major != 1)
		return fail(r, -CEP_EMALFORMED, "section header of unsupported "
			    "version %u.%u", major, rd16(r, b + 6));
	r->in_section = 1;
	r->nif = 0;
	r->sections++;
	return 0;
}

/* Walk an option list; calls back for the options an IDB needs. */
static void idb_options(struct cep_pcapng *r, const uint8_t *p,
			const uint8_t *end, struct cep_pcapng_if *ifc)
{
	while (end - p >= 4) {
		unsigned code = rd16(r, p), len = rd16(r, p + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;

		p += 4;
		if (code == OPT_ENDOFOPT || (size_t)(end - p) < len)
			return; /* the end, or an option that overruns: stop */
		if (code == OPT_IF_TSRESOL && len >= 1) {
			ifc->resol_pow2 = (p[0] & 0x80) != 0;
			ifc->resol = p[0] & 0x7f;
		} else if (code == OPT_IF_TSOFFSET && len >= 8) {
			ifc->tsoffset = (int64_t)rd64(r, p);
		} else if (code == OPT_IF_FCSLEN && len >= 1) {
			ifc->fcslen = p[0];
		}
		if ((size_t)(end - p) < padded)
			return;
		p += padded;
	}
}

static int interface(struct cep_pcapng *r, const uint8_t *b, uint32_t len)
{
	struct cep_pcapng_if *ifc;

	if (len < 8)
		return fail(r, CEP_PCAPNG_BAD, "interface description too "
			    "short");
	if (r->nif == CEP_PCAPNG_MAX_IF)
		return fail(r, CEP_PCAPNG_BAD, "more than %u interfaces in a "
			    "section", CEP_PCAPNG_MAX_IF);
	if (r->nif == r->ifcap) {
		unsigned cap = r->ifcap ? r->ifcap * 2 : 8;
		struct cep_pcapng_if *n = realloc(r->ifs, cap * sizeof *n);

		if (!n)
			return fail(r, -ENOMEM, "no memory for interfaces");
		r->ifs = n;
		r->ifcap = cap;
	}
	ifc = &r->ifs[r->nif++];
	memset(ifc, 0, sizeof *ifc);
	ifc->linktype = rd16(r, b);
	ifc->snaplen = rd32(r, b + 4);
	ifc->resol = 6;
	idb_options(r, b + 8, b + len, ifc);
	return 0;
}

/* Time stamp units of @ifc -> ns since the epoch (wrapping, never UB). */
static uint64_t to_ns(const struct cep_pcapng_if *ifc, uint64_t units)
{
	unsigned __int128 v = units;
	uint64_t ns;

	if (ifc->resol_pow2) {
		v *= 1000000000u;
		ns = ifc->resol >= 127 ? 0 : (uint64_t)(v >> ifc->resol);
	} else if (ifc->resol <= 9) {
		for (unsigned i = ifc->resol; i < 9; i++)
			v *= 10;
		ns = (uint64_t)v;
	} else {
		for (unsigned i = 9; i < ifc->resol && v; i++)
			v /= 10;
		ns = (uint64_t)v;
	}
	return ns + (uint64_t)ifc->tsoffset * 1000000000u;
}

static int packet(struct cep_pcapng *r, uint32_t type, const uint8_t *b,
		  uint32_t len, struct cep_pcapng_pkt *pkt)
{
	const struct cep_pcapng_if *ifc;
	uint32_t ifid = 0, caplen, wirelen, room;
	size_t fixed;

	if (type == BT_SPB) {
		fixed = 4;
		ifid = 0;
	} else {
		fixed = 20;
	}
	if (len < fixed)
		return fail(r, CEP_PCAPNG_BAD, "packet block too short");
	if (type == BT_EPB)
		ifid = rd32(r, b);
	else if (type == BT_PB)
		ifid = rd16(r, b);
	if (ifid >= r->nif)
		return fail(r, CEP_PCAPNG_BAD, "packet of interface %u, but "
			    "the section declares %u", ifid, r->nif);
	ifc = &r->ifs[ifid];
	room = len - (uint32_t)fixed;
	if (type == BT_SPB) {
		wirelen = rd32(r, b);
		caplen = wirelen;
		if (ifc->snaplen && caplen > ifc->snaplen)
			caplen = ifc->snaplen;
		if (caplen > room)
			caplen = room;
		pkt->ts = r->last_ts;
	} else {
		caplen = rd32(r, b + 12);
		wirelen = rd32(r, b + 16);
		if (caplen > room)
			return fail(r, CEP_PCAPNG_BAD, "captured length %u "
				    "exceeds its block (%u)", caplen, room);
		pkt->ts = to_ns(ifc, (uint64_t)rd32(r, b + 4) << 32 |
					     rd32(r, b + 8));
		r->last_ts = pkt->ts;
	}
	pkt->data = b + fixed;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen < caplen ? caplen : wirelen;
	pkt->linktype = ifc->linktype;
	pkt->fcslen = ifc->fcslen;
	pkt->ifid = ifid;
	return 1;
}

int cep_pcapng_next(struct cep_pcapng *r, struct cep_pcapng_pkt *pkt)
{
	for (;;) {
		const uint8_t *body = NULL;
		uint32_t type = 0, len = 0;
		int rc;

		if (r->dead)
			return r->dead;
		rc = read_block(r, &type, &body, &len);
		if (rc <= 0) {
			r->dead = rc;
			return rc;
		}
		switch (type) {
		case BT_SHB:
			rc = section_header(r, body, len);
			break;
		case BT_IDB:
			rc = interface(r, body, len);
			break;
		case BT_EPB: case BT_SPB: case BT_PB:
			return packet(r, type, body, len, pkt);
		default:
			rc = 0; /* ISB, NRB, CB, DCB, custom, unknown */
			break;
		}
		if (rc < 0)
			r->dead = rc;
		if (rc != 0)
			return rc;
	}
}
