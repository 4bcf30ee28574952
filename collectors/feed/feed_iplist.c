/*
 * feed_iplist.c - indicator lists: one IPv4/IPv6 address, CIDR block or
 * domain per line (feed.h, FORMATS.md).
 *
 * "#" and ";" start a comment, at the start of a line or after the value
 * (Spamhaus DROP writes "192.0.2.0/24 ; SBL123").  Each entry becomes one
 * event of kind intel: the indicator holds the canonical text (an address
 * in its RFC 5952 form, a block as NETWORK/LEN, a domain in lower case
 * without its final dot); an address or block also fills src_ip with the
 * (network) address.  The name is the list's file name without its
 * extension, so that rules can tell lists apart.  Lists carry no times:
 * an entry's ts is the file's modification time (for standard input, the
 * time the read began).
 */
#include <ctype.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"

/* A domain as lists write it: labels of letters, digits, '-' and '_'. */
static int domain_ok(const char *s, size_t n, const char **why)
{
	size_t label = 0, dots = 0;
	int alpha = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.') {
			if (label == 0)
				return *why = "empty label", 0;
			label = 0;
			dots++;
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return *why = "not an address, block or domain", 0;
		if (isalpha(ch) || ch == '-' || ch == '_')
			alpha = 1;
		if (++label > 63)
			return *why = "label longer than 63 bytes", 0;
	}
	if (label == 0 || dots == 0)
		return *why = "not an address, block or domain", 0;
	if (!alpha)
		return *why = "bad address", 0;
	return 1;
}

static int entry(struct cep__feed_out *out, uint64_t line, const char *s,
		 size_t n, const char *list, uint64_t ts)
{
	struct cep_event *ev = cep_batch_slot(&out->batch);
	char text[CEP_IP_STRLEN + 8];
	const char *why = NULL;
	int af;

	ev->kind = CEP_KIND_INTEL;
	ev->ts = ts;
	const char *slash = memchr(s, '/', n);
	if (slash) {
		uint64_t len;
		size_t an = (size_t)(slash - s);
		af = cep__feed_ip(s, an, ev->src_ip);
		if (af < 0)
			return cep__feed_bad(out, line, "bad address in block "
					     "\"%.*s\"", (int)(n > 64 ? 64 : n),
					     s);
		size_t bits = af == 4 ? 32 : 128;
		if (cep__feed_uint(slash + 1, n - an - 1, bits, &len))
			return cep__feed_bad(out, line, "bad prefix length in "
					     "\"%.*s\"", (int)(n > 64 ? 64 : n),
					     s);
		for (size_t b = (size_t)len; b < bits; b++)
			if (ev->src_ip[b / 8] & (0x80 >> (b % 8)))
				return cep__feed_bad(out, line, "host bits set "
						     "in block \"%.*s\"",
						     (int)(n > 64 ? 64 : n), s);
		ev->src_af = (uint8_t)af;
		cep_ip_format(af, ev->src_ip, text);
		snprintf(ev->indicator, sizeof ev->indicator, "%s/%u", text,
			 (unsigned)len);
	} else if ((af = cep__feed_ip(s, n, ev->src_ip)) > 0) {
		ev->src_af = (uint8_t)af;
		cep_ip_format(af, ev->src_ip, ev->indicator);
	} else {
		if (n && s[n - 1] == '.')
			n--; /* the root label */
		if (!domain_ok(s, n, &why))
			return cep__feed_bad(out, line, "%s: \"%.*s\"", why,
					     (int)(n > 64 ? 64 : n), s);
		if (n >= sizeof ev->indicator)
			return cep__feed_bad(out, line, "domain longer than %zu "
					     "bytes, the indicator field",
					     sizeof ev->indicator - 1);
		for (size_t i = 0; i < n; i++)
			ev->indicator[i] = (char)tolower((unsigned char)s[i]);
	}
	memcpy(ev->name, list, sizeof ev->name);
	return cep__feed_emit(out);
}

int cep__feed_parse_iplist(struct cep__feed_in *in, struct cep__feed_out *out,
			   const struct cep_feed_opts *opts)
{
	char list[sizeof ((struct cep_event *)0)->name] = "";
	const char *line;
	size_t len;
	int rc;

	(void)opts;
	if (in->name[0] != '<') {
		const char *base = strrchr(in->name, '/');
		base = base ? base + 1 : in->name;
		size_t n = strcspn(base, ".");
		cep__feed_set_cut(out, list, sizeof list, base, n);
	}
	while ((rc = cep__feed_line(in, &line, &len)) > 0) {
		const char *s = line;
		size_t n = len;

		cep__feed_trim(&s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue; /* blank lines and comments are not entries */
		in->st->read++;
		size_t v = 0;
		while (v < n && s[v] != ' ' && s[v] != '\t' && s[v] != '#' &&
		       s[v] != ';')
			v++;
		const char *rest = s + v;
		size_t rn = n - v;
		cep__feed_trim(&rest, &rn);
		if (rn && rest[0] != '#' && rest[0] != ';') {
			cep__feed_bad(out, in->lineno, "more than one value on "
				      "the line");
			continue;
		}
		if ((rc = entry(out, in->lineno, s, v, list, in->mtime)))
			return rc;
	}
	if (rc < 0)
		fprintf(out->diag, "%s:%llu: read error\n", in->name,
			(unsigned long long)in->lineno);
	return rc;
}
