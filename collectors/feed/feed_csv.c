/*
 * feed_csv.c - Shadowserver-style CSV reports (feed.h, FORMATS.md).
 *
 * Two layers.  The record layer is RFC 4180: fields separated by commas,
 * a field in double quotes may hold commas, line breaks and doubled quotes,
 * records end with LF or CRLF.  A record that is still inside quotes at the
 * end of a line continues on the next one, up to CEP_FEED_CSV_RECORD_MAX
 * bytes; past that it is reported at the line it began on and reading
 * resynchronises at the next line.  Whether a record goes on is told by a
 * small quote scanner that keeps its state across the record's lines and
 * looks at each byte once; the record is split into fields once, when it
 * is complete (a record of one line is split at once, and scanned only when
 * it leaves a quote open), so an open quote costs work linear in the input,
 * not in the square of the record.  Decoded fields are written into one reusable
 * buffer, so a row costs no allocation.
 *
 * The report layer knows the report types.  The type comes from
 * opts->csv_report, else from a report name inside the file name
 * ("2024-01-02-scan_telnet-asn.csv"), else from the header's columns; each
 * type is a profile naming, for every event field, the columns that may
 * hold it.  Columns are found by header name, so their order does not
 * matter and unknown columns are ignored.  A row whose field count differs
 * from the header's is malformed.
 *
 * Direction: src is the host the report is about (the infected, scanning,
 * brute-forcing or exposed host), dst is the other side (the C2, the
 * sinkhole, the honeypot), except for amplification DDoS victims, whose
 * reflected traffic goes to them: the victim is dst.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "collectors/feed/feed_priv.h"

#define FIELDS_MAX 256
#define ALTS_MAX 4

struct span {
	uint32_t off, len;
};

/* A report type: which columns hold what ("a|b": the first one the header
 * has; for family and indicator, the first non-empty one in the row). */
struct profile {
	const char *report;
	const char *tokens;   /* names in file names; "x_" is a prefix */
	uint8_t type;
	uint8_t victim;       /* the row's host is the target: dst */
	const char *ip, *port, *peer_ip, *peer_port;
	const char *proto, *count, *bytes, *family, *indicator;
};

static const struct profile profiles[] = {
	{ "botnet_drone", "botnet_drone|botnet-drone|drone|event4_drone|infected",
	  CEP_TYPE_C2, 0, "ip|src_ip", "port|src_port", "cc_ip|dst_ip",
	  "cc_port|dst_port", "protocol|type", "count", NULL,
	  "infection|family|tag", "cc_dns|cc_url" },
	{ "sinkhole_http", "sinkhole_http|sinkhole_http_drone|sinkhole6_http|"
	  "microsoft_sinkhole|event4_sinkhole_http|sinkhole_http_referer",
	  CEP_TYPE_SINKHOLE, 0, "src_ip|ip", "src_port|port", "dst_ip",
	  "dst_port", "protocol", "count", NULL, "type|tag|infection|family",
	  "http_host|host" },
	{ "sinkhole_dns", "sinkhole_dns|sinkhole6_dns|event4_sinkhole_dns",
	  CEP_TYPE_SINKHOLE, 0, "ip|src_ip", "port|src_port", "dst_ip",
	  "dst_port", "protocol", "count", NULL, "tag|family|infection",
	  "query|domain" },
	{ "sinkhole", "sinkhole|event4_sinkhole|sinkhole6",
	  CEP_TYPE_SINKHOLE, 0, "ip|src_ip", "port|src_port", "dst_ip",
	  "dst_port", "protocol|transport", "count", NULL,
	  "infection|tag|family|type", "http_host|query|domain" },
	{ "darknet", "darknet|darknet6|event4_darknet",
	  CEP_TYPE_SCAN, 0, "ip|src_ip", "port|src_port", "dst_ip",
	  "dst_port", "protocol|type", "count", NULL, "tag|family|infection",
	  NULL },
	{ "honeypot_brute_force", "drone_brute_force|honeypot_brute_force|"
	  "event4_honeypot_brute_force|brute_force",
	  CEP_TYPE_BRUTE_FORCE, 0, "ip|src_ip", "port|src_port",
	  "dest_ip|dst_ip", "dest_port|dst_port", "protocol", "count", NULL,
	  "service|application|tag", "payload_url" },
	{ "honeypot_scan", "hp_http_scan|honeypot_http_scan|hp_ics_scan|"
	  "honeypot_ics_scan|event4_honeypot_http_scan|event4_ics_scan",
	  CEP_TYPE_SCAN, 0, "ip|src_ip", "port|src_port", "dst_ip|dest_ip",
	  "dst_port|dest_port", "protocol", "count", NULL,
	  "tag|type|pattern", NULL },
	{ "ddos_amplification", "ddos_amplification|honeypot_ddos_amp|"
	  "event4_honeypot_ddos_amp|amplification",
	  CEP_TYPE_DOS, 1, "ip|dst_ip", "src_port", NULL, "dst_port",
	  "protocol", "count", "bytes", "tag", NULL },
	{ "ddos_participant", "ddos_participant|event4_ddos_participant|"
	  "honeypot_ddos",
	  CEP_TYPE_DOS, 0, "ip|src_ip", "port|src_port", "dst_ip|dest_ip",
	  "dst_port|dest_port", "protocol", "count", "bytes",
	  "tag|family|infection", "domain|dst_dns" },
	{ "ip_spoofer", "caida_ip_spoofer|ip_spoofer|spoofer",
	  CEP_TYPE_MISCONFIG, 0, "ip|src_ip", NULL, NULL, NULL, NULL, NULL,
	  NULL, "infection|type|tag", "network" },
	{ "scan", "scan_|scan6_",
	  CEP_TYPE_VULN, 0, "ip|src_ip", "port|src_port", NULL, NULL,
	  "protocol|transport", "count", NULL, "tag", NULL },
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

/* Shadowserver's sector names that map onto one ceptor sector. */
static const struct {
	const char *name;
	uint8_t sector;
} sectors[] = {
	{ "Communications", CEP_SECTOR_TELECOM },
	{ "Energy", CEP_SECTOR_ELECTRICITY },
	{ "Financial Services", CEP_SECTOR_FINANCE },
	{ "Government Facilities", CEP_SECTOR_GOVERNMENT },
	{ "Healthcare and Public Health", CEP_SECTOR_MEDICAL },
	{ "Water and Wastewater Systems", CEP_SECTOR_WATER },
	{ "Water", CEP_SECTOR_WATER },
};

struct csv {
	const struct profile *prof;
	char family_default[24];
	int nhdr;
	/* Column indexes; -1 when the header lacks them. */
	int c_ts, c_ip, c_port, c_peer_ip, c_peer_port, c_proto, c_count;
	int c_bytes, c_sector;
	int c_family[ALTS_MAX], c_indicator[ALTS_MAX];
	struct span f[FIELDS_MAX];
	char *rec;            /* the raw record, lines joined with \n */
	char *vals;           /* decoded fields */
	char *hdr;            /* decoded header fields */
	struct span h[FIELDS_MAX];
};

/* ---- RFC 4180 ---------------------------------------------------------- */

enum {
	SPLIT_OPEN = -1,      /* the record ends inside quotes */
	SPLIT_AFTER_QUOTE = -2,
	SPLIT_TOO_MANY = -3,
};

_Thread_local uint64_t cep__feed_csv_scanned;

/*
 * The quote scanner: where a record stands after the bytes seen so far.
 * It follows split() exactly as far as split() needs to know where the
 * record ends: a quoted field runs to a quote not doubled; text after a
 * closing quote, or more than FIELDS_MAX fields, end the record at its
 * line break (split() reports them).
 */
enum scan_state {
	SC_FIELD = 0,   /* at the start of a field */
	SC_PLAIN,       /* in an unquoted field */
	SC_QUOTED,      /* in a quoted field */
	SC_QUOTE,       /* in a quoted field, just after a quote */
	SC_DONE,        /* damaged: the record ends at its line break */
};

struct scan {
	uint8_t state;
	unsigned commas; /* field separators seen */
};

static void scan(struct scan *sc, const char *s, size_t n)
{
	unsigned st = sc->state;

	cep__feed_csv_scanned += n;
	for (size_t i = 0; i < n && st != SC_DONE; i++) {
		char ch = s[i];

		switch (st) {
		case SC_FIELD:
			if (ch == '"')
				st = SC_QUOTED;
			else if (ch != ',')
				st = SC_PLAIN;
			break;
		case SC_QUOTED:
			if (ch == '"')
				st = SC_QUOTE;
			continue;
		case SC_QUOTE:
			if (ch == '"') {
				st = SC_QUOTED;
				continue;
			}
			if (ch != ',') {
				st = SC_DONE;
				continue;
			}
			break;
		}
		if (ch == ',')
			st = ++sc->commas == FIELDS_MAX ? SC_DONE : SC_FIELD;
	}
	sc->state = (uint8_t)st;
}

/* The record goes on past its line break. */
static int scan_open(const struct scan *sc)
{
	return sc->state == SC_QUOTED;
}

/*
 * Split s[0..n) into fields decoded into vals (at most n bytes).  Returns
 * the number of fields or a SPLIT_* code; *at gets the offending offset.
 */
static int split(const char *s, size_t n, char *vals, struct span *f,
		 size_t *at)
{
	size_t i = 0, w = 0;
	int nf = 0;

	cep__feed_csv_scanned += n;
	for (;;) {
		if (nf == FIELDS_MAX)
			return *at = i, SPLIT_TOO_MANY;
		f[nf].off = (uint32_t)w;
		if (i < n && s[i] == '"') {
			int closed = 0;
			i++;
			while (i < n) {
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						vals[w++] = '"';
						i += 2;
						continue;
					}
					i++;
					closed = 1;
					break;
				}
				vals[w++] = s[i++];
			}
			if (!closed)
				return *at = i, SPLIT_OPEN;
			if (i < n && s[i] != ',')
				return *at = i, SPLIT_AFTER_QUOTE;
		} else {
			while (i < n && s[i] != ',')
				vals[w++] = s[i++];
		}
		f[nf].len = (uint32_t)(w - f[nf].off);
		nf++;
		if (i >= n)
			return nf;
		i++; /* the comma */
	}
}

/* ---- report types ------------------------------------------------------ */

static int is_word(char c)
{
	return isalnum((unsigned char)c);
}

/* The profile whose longest token occurs in @name at a word start. */
static const struct profile *profile_by_name(const char *name, char *fam,
					     size_t famsize)
{
	const char *base = strrchr(name, '/');
	char low[256];
	const struct profile *best = NULL;
	size_t best_len = 0, n;

	base = base ? base + 1 : name;
	for (n = 0; base[n] && n < sizeof low - 1; n++)
		low[n] = (char)tolower((unsigned char)base[n]);
	low[n] = '\0';
	for (size_t p = 0; p < NPROFILES; p++) {
		const char *t = profiles[p].tokens;
		while (*t) {
			size_t tl = strcspn(t, "|");
			for (const char *hit = low; *hit; hit++) {
				if (strncmp(hit, t, tl) != 0)
					continue;
				if (hit > low && is_word(hit[-1]))
					continue;
				if (tl > best_len) {
					best = &profiles[p];
					best_len = tl;
					fam[0] = '\0';
					if (t[tl - 1] == '_') {
						/* scan_telnet: the family is
						 * the rest of the word. */
						size_t k = strspn(hit + tl,
							"abcdefghijklmnopqrstuvwxyz0123456789_");
						if (k && k < famsize) {
							memcpy(fam, hit + tl, k);
							fam[k] = '\0';
						}
					}
				}
				break;
			}
			t += tl + (t[tl] == '|');
		}
	}
	return best;
}

static const struct profile *profile_by_report(const char *report, char *fam,
					       size_t famsize)
{
	for (size_t p = 0; p < NPROFILES; p++)
		if (strcmp(report, profiles[p].report) == 0)
			return &profiles[p];
	/* A Shadowserver report name works as well as our profile name. */
	const struct profile *pr = profile_by_name(report, fam, famsize);
	return pr;
}

int cep_feed_csv_report_known(const char *name)
{
	char fam[24];
	return profile_by_report(name, fam, sizeof fam) != NULL;
}

static int column(const struct csv *c, const char *name, size_t n)
{
	for (int i = 0; i < c->nhdr; i++)
		if (c->h[i].len == n &&
		    strncasecmp(c->hdr + c->h[i].off, name, n) == 0)
			return i;
	return -1;
}

static int has(const struct csv *c, const char *name)
{
	return column(c, name, strlen(name)) >= 0;
}

/* Which report the header looks like, for files named otherwise. */
static const struct profile *profile_by_header(const struct csv *c)
{
	const char *r = NULL;

	if (has(c, "cc_ip"))
		r = "botnet_drone";
	else if (has(c, "username") || (has(c, "dest_ip") && has(c, "service")))
		r = "honeypot_brute_force";
	else if (has(c, "query"))
		r = "sinkhole_dns";
	else if (has(c, "http_agent") || has(c, "http_host") || has(c, "http_url"))
		r = "sinkhole_http";
	else if (has(c, "routedspoof"))
		r = "ip_spoofer";
	else if (has(c, "request") && has(c, "bytes") && has(c, "src_port"))
		r = "ddos_amplification";
	else if (has(c, "sensorid") || has(c, "pattern"))
		r = "honeypot_scan";
	else if (has(c, "dst_port") && has(c, "count"))
		r = "darknet";
	if (!r)
		return NULL;
	for (size_t p = 0; p < NPROFILES; p++)
		if (strcmp(r, profiles[p].report) == 0)
			return &profiles[p];
	return NULL;
}

/* The first column of "a|b|c" the header has, or -1. */
static int resolve(const struct csv *c, const char *alts)
{
	while (alts && *alts) {
		size_t n = strcspn(alts, "|");
		int col = column(c, alts, n);
		if (col >= 0)
			return col;
		alts += n + (alts[n] == '|');
	}
	return -1;
}

/* Every column of "a|b|c" the header has, in that order. */
static void resolve_all(const struct csv *c, const char *alts, int out[ALTS_MAX])
{
	int k = 0;

	for (int i = 0; i < ALTS_MAX; i++)
		out[i] = -1;
	while (alts && *alts && k < ALTS_MAX) {
		size_t n = strcspn(alts, "|");
		int col = column(c, alts, n);
		if (col >= 0)
			out[k++] = col;
		alts += n + (alts[n] == '|');
	}
}

/* Take the header row; 0, or -CEP_EMALFORMED after saying why. */
static int header(struct csv *c, struct cep__feed_out *out, uint64_t line,
		  int nf, const struct cep_feed_opts *opts, const char *name)
{
	char fam[24] = "";

	c->nhdr = nf;
	memcpy(c->h, c->f, (size_t)nf * sizeof c->f[0]);
	for (int i = 0; i < nf; i++) {
		const char *s = c->hdr + c->h[i].off;
		size_t n = c->h[i].len;
		cep__feed_trim(&s, &n);
		c->h[i].off = (uint32_t)(s - c->hdr);
		c->h[i].len = (uint32_t)n;
	}
	if (opts->csv_report) {
		c->prof = profile_by_report(opts->csv_report, fam, sizeof fam);
		if (!c->prof) {
			fprintf(out->diag, "%s: unknown report type \"%s\"\n",
				name, opts->csv_report);
			return -CEP_EMALFORMED;
		}
	} else {
		c->prof = profile_by_name(name, fam, sizeof fam);
		if (!c->prof)
			c->prof = profile_by_header(c);
	}
	if (!c->prof) {
		fprintf(out->diag, "%s:%llu: cannot tell the report type from "
			"the file name or the header; name the file after its "
			"report (e.g. scan_telnet.csv) or give --report\n",
			name, (unsigned long long)line);
		return -CEP_EMALFORMED;
	}
	memcpy(c->family_default, fam, sizeof fam);
	const struct profile *p = c->prof;
	c->c_ts = resolve(c, "timestamp|time");
	c->c_ip = resolve(c, p->ip);
	if (c->c_ts < 0 || c->c_ip < 0) {
		fprintf(out->diag, "%s:%llu: the header has no \"%s\" column "
			"(report type %s)\n", name, (unsigned long long)line,
			c->c_ts < 0 ? "timestamp" : p->ip, p->report);
		return -CEP_EMALFORMED;
	}
	c->c_port = resolve(c, p->port);
	c->c_peer_ip = resolve(c, p->peer_ip);
	c->c_peer_port = resolve(c, p->peer_port);
	c->c_proto = resolve(c, p->proto);
	c->c_count = resolve(c, p->count);
	c->c_bytes = resolve(c, p->bytes);
	c->c_sector = resolve(c, "sector");
	resolve_all(c, p->family, c->c_family);
	resolve_all(c, p->indicator, c->c_indicator);
	return 0;
}

/* ---- rows -------------------------------------------------------------- */

static void value(const struct csv *c, int col, const char **s, size_t *n)
{
	if (col < 0) {
		*s = "";
		*n = 0;
		return;
	}
	*s = c->vals + c->f[col].off;
	*n = c->f[col].len;
	cep__feed_trim(s, n);
}

static int proto_of(const char *s, size_t n)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "sctp", 132 },
		{ "icmpv6", 58 }, { "ipv6-icmp", 58 }, { "icmp6", 58 },
		{ "gre", 47 }, { "esp", 50 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (cep__feed_ieq(s, n, names[i].name))
			return names[i].proto;
	if (cep__feed_uint(s, n, 255, &v) == 0)
		return (int)v;
	return 0; /* a name we do not know (or "A", a DNS type): unset */
}

static int row(struct csv *c, struct cep__feed_out *out, uint64_t line)
{
	const struct profile *p = c->prof;
	struct cep_event *ev = cep_batch_slot(&out->batch);
	uint8_t ip[16], peer[16];
	int af, paf = 0;
	uint64_t v;
	const char *s;
	size_t n;

	ev->kind = CEP_KIND_FEED;
	ev->type = p->type;
	value(c, c->c_ts, &s, &n);
	if (cep__feed_time(s, n, &ev->ts))
		return cep__feed_bad(out, line, "bad timestamp \"%.*s\"",
				     (int)(n > 40 ? 40 : n), s);
	value(c, c->c_ip, &s, &n);
	if (n == 0)
		return cep__feed_bad(out, line, "no address in column \"%.*s\"",
				     (int)c->h[c->c_ip].len,
				     c->hdr + c->h[c->c_ip].off);
	if ((af = cep__feed_ip(s, n, ip)) < 0)
		return cep__feed_bad(out, line, "bad address \"%.*s\"",
				     (int)(n > 46 ? 46 : n), s);
	value(c, c->c_peer_ip, &s, &n);
	if (n && (paf = cep__feed_ip(s, n, peer)) < 0)
		return cep__feed_bad(out, line, "bad address \"%.*s\"",
				     (int)(n > 46 ? 46 : n), s);
	uint16_t port = 0, peer_port = 0;
	value(c, c->c_port, &s, &n);
	if (n && cep__feed_uint(s, n, 65535, &v) == 0)
		port = (uint16_t)v;
	else if (n)
		return cep__feed_bad(out, line, "bad port \"%.*s\"",
				     (int)(n > 20 ? 20 : n), s);
	value(c, c->c_peer_port, &s, &n);
	if (n && cep__feed_uint(s, n, 65535, &v) == 0)
		peer_port = (uint16_t)v;
	else if (n)
		return cep__feed_bad(out, line, "bad port \"%.*s\"",
				     (int)(n > 20 ? 20 : n), s);
	ev->count = 1;
	value(c, c->c_count, &s, &n);
	if (n && cep__feed_uint(s, n, UINT32_MAX, &v) == 0)
		ev->count = (uint32_t)v;
	else if (n)
		return cep__feed_bad(out, line, "bad count \"%.*s\"",
				     (int)(n > 20 ? 20 : n), s);
	value(c, c->c_bytes, &s, &n);
	if (n && cep__feed_uint(s, n, UINT64_MAX, &v) == 0)
		ev->bytes = v;
	else if (n)
		return cep__feed_bad(out, line, "bad byte count \"%.*s\"",
				     (int)(n > 20 ? 20 : n), s);
	value(c, c->c_proto, &s, &n);
	ev->proto = (uint8_t)proto_of(s, n);

	if (p->victim) {
		memcpy(ev->dst_ip, ip, 16);
		ev->dst_af = (uint8_t)af;
		ev->dst_port = port;
		if (paf > 0) {
			memcpy(ev->src_ip, peer, 16);
			ev->src_af = (uint8_t)paf;
		}
		ev->src_port = peer_port;
	} else {
		memcpy(ev->src_ip, ip, 16);
		ev->src_af = (uint8_t)af;
		ev->src_port = port;
		if (paf > 0) {
			memcpy(ev->dst_ip, peer, 16);
			ev->dst_af = (uint8_t)paf;
		}
		ev->dst_port = peer_port;
	}
	for (int i = 0; i < ALTS_MAX && c->c_family[i] >= 0; i++) {
		value(c, c->c_family[i], &s, &n);
		if (n) {
			cep__feed_set_cut(out, ev->name, sizeof ev->name, s, n);
			break;
		}
	}
	if (!ev->name[0] && c->family_default[0])
		cep__feed_set_cut(out, ev->name, sizeof ev->name,
				  c->family_default, strlen(c->family_default));
	for (int i = 0; i < ALTS_MAX && c->c_indicator[i] >= 0; i++) {
		value(c, c->c_indicator[i], &s, &n);
		if (!n)
			continue;
		/* An indicator must match exactly: one that does not fit is
		 * left out, never cut. */
		if (n < sizeof ev->indicator) {
			/* Host names compare without case; URLs keep theirs. */
			int host = memchr(s, '/', n) == NULL;
			for (size_t j = 0; j < n; j++)
				ev->indicator[j] = host ? (char)tolower(
					(unsigned char)s[j]) : s[j];
		} else {
			out->st->cut++;
		}
		break;
	}
	value(c, c->c_sector, &s, &n);
	for (size_t i = 0; n && i < sizeof sectors / sizeof sectors[0]; i++)
		if (cep__feed_ieq(s, n, sectors[i].name))
			ev->sector = sectors[i].sector;
	return cep__feed_emit(out);
}

/* ---- the reader -------------------------------------------------------- */

static int parse(struct cep__feed_in *in, struct cep__feed_out *out,
		 const struct cep_feed_opts *opts, struct csv *c)
{
	const char *line;
	size_t len, reclen = 0, at;
	uint64_t start = 0, prev = 0;
	int rc, have_header = 0;
	struct scan sc;

	while ((rc = cep__feed_line(in, &line, &len)) > 0) {
		if (reclen && in->lineno != prev + 1) {
			/* The line source skipped an over-long line inside
			 * the record: it was longer than a record may be.
			 * Resynchronise here. */
			if (have_header)
				in->st->read++;
			cep__feed_bad(out, start, "record longer than %d bytes "
				      "(a quote left open?)",
				      CEP_FEED_CSV_RECORD_MAX);
			reclen = 0;
		}
		prev = in->lineno;
		if (reclen == 0) {
			const char *t = line;
			size_t tn = len;
			if (in->lineno == 1 && tn >= 3 &&
			    memcmp(t, "\xef\xbb\xbf", 3) == 0) {
				t += 3; /* a UTF-8 byte order mark */
				tn -= 3;
				line = t;
				len = tn;
			}
			cep__feed_trim(&t, &tn);
			if (tn == 0)
				continue; /* blank lines are not rows */
			start = in->lineno;
			memset(&sc, 0, sizeof sc);
		} else {
			c->rec[reclen++] = '\n';
			scan(&sc, "\n", 1);
		}
		if (reclen + len > CEP_FEED_CSV_RECORD_MAX) {
			/* RFC 4180 lets the quoted field run on; the limit
			 * ends it: report it where it began and take the
			 * next line as a new record. */
			if (have_header)
				in->st->read++;
			cep__feed_bad(out, start, "record longer than %d bytes "
				      "(a quote left open?)",
				      CEP_FEED_CSV_RECORD_MAX);
			reclen = 0;
			continue;
		}
		memcpy(c->rec + reclen, line, len);
		int nf;
		if (reclen == 0) {
			/* Most records are one line: split it at once, and
			 * scan it only when it leaves a quote open. */
			reclen = len;
			nf = split(c->rec, reclen,
				   have_header ? c->vals : c->hdr, c->f, &at);
			if (nf == SPLIT_OPEN) {
				scan(&sc, line, len);
				continue; /* the quoted field goes on */
			}
		} else {
			reclen += len;
			scan(&sc, line, len);
			if (scan_open(&sc))
				continue; /* the quoted field goes on */
			nf = split(c->rec, reclen,
				   have_header ? c->vals : c->hdr, c->f, &at);
		}
		if (!have_header) {
			if (nf < 0) {
				fprintf(out->diag, "%s:%llu: bad header row\n",
					in->name, (unsigned long long)start);
				return -CEP_EMALFORMED;
			}
			if ((rc = header(c, out, start, nf, opts, in->name)))
				return rc;
			have_header = 1;
			reclen = 0;
			continue;
		}
		reclen = 0;
		in->st->read++;
		if (nf == SPLIT_OPEN) {
			/* The scanner and split() read quotes alike; this is
			 * only here so that a disagreement stays an input
			 * error. */
			cep__feed_bad(out, start, "unterminated quoted field");
			continue;
		}
		if (nf == SPLIT_AFTER_QUOTE) {
			cep__feed_bad(out, start, "text after a closing quote");
			continue;
		}
		if (nf == SPLIT_TOO_MANY || nf != c->nhdr) {
			cep__feed_bad(out, start, "%s%d fields, the header has %d",
				      nf < 0 ? "more than " : "",
				      nf < 0 ? FIELDS_MAX : nf, c->nhdr);
			continue;
		}
		if ((rc = row(c, out, start)))
			return rc;
	}
	if (rc < 0) {
		fprintf(out->diag, "%s:%llu: read error\n", in->name,
			(unsigned long long)in->lineno);
		return rc;
	}
	if (reclen) {
		if (have_header) {
			in->st->read++;
			cep__feed_bad(out, start, "unterminated quoted field");
		} else {
			fprintf(out->diag, "%s:%llu: unterminated quoted field "
				"in the header\n", in->name,
				(unsigned long long)start);
			return -CEP_EMALFORMED;
		}
	}
	if (!have_header) {
		fprintf(out->diag, "%s: no header row\n", in->name);
		return -CEP_EMALFORMED;
	}
	return 0;
}

int cep__feed_parse_csv(struct cep__feed_in *in, struct cep__feed_out *out,
			const struct cep_feed_opts *opts)
{
	struct csv *c = calloc(1, sizeof *c);
	int rc = -ENOMEM;

	if (!c)
		return rc;
	c->rec = malloc(CEP_FEED_CSV_RECORD_MAX + 1);
	c->vals = malloc(CEP_FEED_CSV_RECORD_MAX + 1);
	c->hdr = malloc(CEP_FEED_CSV_RECORD_MAX + 1);
	if (c->rec && c->vals && c->hdr)
		rc = parse(in, out, opts, c);
	free(c->rec);
	free(c->vals);
	free(c->hdr);
	free(c);
	return rc;
}
