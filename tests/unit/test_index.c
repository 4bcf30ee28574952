/*
 * test_index.c - the rule index (engine/core/index.h).
 *
 * The index may only ever add candidates, never lose a rule that matches.
 * The property test makes random rule sets (hundreds of detection rules
 * with random predicates, modifiers, nulls, wildcards, CIDRs, and random
 * conditions with not/or/and/`1 of`/`all of`), compiles them with the real
 * compiler, and checks, for thousands of random events drawn from the same
 * value pools (so that many rules match), that the rules matching among
 * the index's candidates are exactly the rules matching in the plain loop
 * over every rule of the event's kind, in the same order.  A seed that
 * fails is printed so the case can be replayed.
 */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/detect.h"
#include "ceptor/event.h"
#include "ceptor/rule.h"
#include "core/index.h"
#include "core/match.h"
#include "core/rule_priv.h"
#include "tests/lib/tmpdir.h"

/* --- a small deterministic generator ---------------------------------------- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof *(a))])

static const char *const kinds[] = { "packet", "flow", "feed" };
static const unsigned protos[] = { 6, 17, 1 };
static const unsigned ports[] = { 0, 22, 23, 53, 80, 443, 445, 3389, 8080,
				  502, 20000, 1000, 1001, 1002, 65535 };
static const unsigned flags[] = { 0, 2, 16, 18, 4 };
static const char *const ips[] = {
	"10.0.0.1", "10.0.1.7", "10.1.2.3", "192.0.2.10", "192.0.2.77",
	"198.51.100.23", "203.0.113.5", "203.0.113.200", "2001:db8::1",
	"2001:db8:bad::7", "2001:db8:1::9",
};
static const char *const cidrs[] = {
	"10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.1.0.0/16",
	"192.0.2.0/24", "192.0.2.64/26", "198.51.100.23/32", "203.0.113.0/24",
	"0.0.0.0/0", "2001:db8::/32", "2001:db8:bad::/48", "2001:db8::1/128",
	"::/0", "128.0.0.0/1",
};
static const char *const words[] = {
	"evil", "Evil.Example", "bad-domain.test", "c2.example.org", "mirai",
	"Emotet", "x", "", "report-1", "a*b", "sinkhole.net", "ev",
};
static const char *const patterns[] = {
	"evil", "EVIL.example", "*evil*", "evil*", "*example", "*c2.*",
	"*mir?i*", "*", "?", "x", "''", "a\\*b", "*\\**", "*sink*net",
	"bad-*.test", "emotet", "*e*", "report-?", "*-1",
};
/* The text modifiers of Sigma 2, used when the compiler has them. */
static bool sigma_text;
static const char *const text_mods[] = {
	"|contains", "|startswith", "|endswith", "|contains|cased",
	"|cased", "|exists", "|re", "|contains|neq", "|endswith|cased",
};
static const char *const regexes[] = { "^ev", "example$", "c2\\.", "[0-9]" };
static const char *const textf[] = { "indicator", "name", "reporter" };
static const char *const tlps[] = { "CLEAR", "GREEN", "AMBER", "RED" };
static const char *const sectors[] = { "telecom", "finance", "water" };

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (n < 0)
			ck_abort_msg("vsnprintf failed");
		if ((size_t)n < b->cap - b->n)
			break;
		b->cap = b->cap * 2 + (size_t)n + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			ck_abort_msg("out of memory");
	}
	b->n += (size_t)n;
}

/* One predicate line "key: value" (or a value list) at indent ind. */
static void gen_pred(struct buf *b, const char *ind)
{
	unsigned what = rnd(10), nv = 1 + (rnd(4) == 0 ? rnd(3) : 0);
	const char *mod = "";
	bool all = rnd(8) == 0, list = nv > 1 || rnd(6) == 0;

	switch (what) {
	case 0: /* token */
		mod = rnd(5) == 0 ? "|neq" : "";
		put(b, "%skind%s%s:", ind, mod, all ? "|all" : "");
		break;
	case 1:
		mod = rnd(4) == 0 ? (rnd(2) ? "|gte" : "|lt") : "";
		put(b, "%stlp%s:", ind, mod);
		break;
	case 2: /* numbers */
	case 3:
		mod = rnd(6) == 0 ? "|neq" : rnd(8) == 0 ? "|gt" : "";
		put(b, "%s%s%s%s:", ind, rnd(3) ? "dst_port" : "src_port", mod,
		    all ? "|all" : "");
		break;
	case 4:
		put(b, "%s%s%s:", ind, rnd(2) ? "proto" : "tcp_flags",
		    rnd(7) == 0 ? "|neq" : "");
		break;
	case 5: /* addresses */
	case 6:
		mod = rnd(3) ? "|cidr" : rnd(5) == 0 ? "|neq" : "";
		put(b, "%s%s%s%s:", ind, rnd(2) ? "src_ip" : "dst_ip", mod,
		    all ? "|all" : "");
		break;
	case 7: /* text */
	case 8:
		mod = rnd(8) == 0 ? "|neq" : "";
		if (sigma_text && rnd(2))
			mod = PICK(text_mods);
		if (!strcmp(mod, "|exists"))
			what = 102, list = false, nv = 1, all = false;
		else if (!strcmp(mod, "|re"))
			what = 103;
		put(b, "%s%s%s%s:", ind, PICK(textf), mod, all ? "|all" : "");
		break;
	default:
		what = rnd(2) ? 100 : 101;
		put(b, "%s%s:", ind, what == 100 ? "fragment" : "sector");
		break;
	}
	for (unsigned i = 0; i < nv; i++) {
		bool null = rnd(14) == 0 && !*mod && what != 100;

		put(b, list ? (i ? ", " : " [") : " ");
		if (null) {
			put(b, "null");
			continue;
		}
		switch (what) {
		case 0: put(b, "%s", PICK(kinds)); break;
		case 1: put(b, "%s", PICK(tlps)); break;
		case 2: case 3: put(b, "%u", PICK(ports)); break;
		case 4: put(b, "%u", rnd(2) ? PICK(protos) : PICK(flags)); break;
		case 5: case 6:
			put(b, "'%s'", *mod == '|' && mod[1] == 'c' ?
			    PICK(cidrs) : PICK(ips));
			break;
		case 7: case 8: {
			const char *p = PICK(patterns);

			put(b, strcmp(p, "''") ? "'%s'" : "%s", p);
			break;
		}
		case 100: put(b, "%s", rnd(2) ? "true" : "false"); break;
		case 102: put(b, "%s", rnd(2) ? "true" : "false"); break;
		case 103: put(b, "'%s'", PICK(regexes)); break;
		default: put(b, "%s", PICK(sectors)); break;
		}
	}
	put(b, list ? "]\n" : "\n");
}

/* A random condition over selections s0..s(n-1) and f0. */
static void gen_cond(struct buf *b, unsigned nsel, unsigned depth)
{
	unsigned r = rnd(depth > 2 ? 3 : 9);

	switch (r) {
	case 0: case 1: case 2:
		if (rnd(10) == 0) {
			put(b, "%s", rnd(2) ? "1 of s*" : "all of s*");
			return;
		}
		if (rnd(12) == 0) {
			put(b, "%s", rnd(2) ? "1 of them" : "all of them");
			return;
		}
		if (rnd(5) == 0)
			put(b, "f0");
		else
			put(b, "s%u", rnd(nsel));
		return;
	case 3: case 4:
		gen_cond(b, nsel, depth + 1);
		put(b, " and ");
		gen_cond(b, nsel, depth + 1);
		return;
	case 5: case 6:
		put(b, "(");
		gen_cond(b, nsel, depth + 1);
		put(b, " or ");
		gen_cond(b, nsel, depth + 1);
		put(b, ")");
		return;
	default:
		put(b, "not ");
		gen_cond(b, nsel, depth + 1);
		return;
	}
}

static void gen_rule(struct buf *b, unsigned i)
{
	unsigned nsel = 1 + rnd(3);

	put(b, "%stitle: random rule %u\nid: r%u\n", i ? "---\n" : "", i, i);
	if (rnd(3) == 0)
		put(b, "logsource:\n  category: %s\n", PICK(kinds));
	put(b, "detection:\n");
	for (unsigned s = 0; s <= nsel; s++) {
		unsigned ng = rnd(4) == 0 ? 2 + rnd(2) : 1;

		if (s == nsel)
			put(b, "  f0:\n");
		else
			put(b, "  s%u:\n", s);
		for (unsigned g = 0; g < ng; g++) {
			unsigned np = 1 + rnd(3);

			for (unsigned p = 0; p < np; p++) {
				if (ng > 1)
					gen_pred(b, p ? "      " : "    - ");
				else
					gen_pred(b, "    ");
			}
		}
	}
	put(b, "  condition: ");
	gen_cond(b, nsel, 0);
	put(b, "\n");
}

static void rand_case(char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		if (rnd(3) == 0 && s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
}

static void rand_text(char *dst, size_t size)
{
	char tmp[128] = "";

	strcat(tmp, PICK(words));
	if (rnd(3) == 0)
		strcat(tmp, PICK(words));
	if (rnd(5) == 0)
		strcat(tmp, ".");
	tmp[size - 1] = '\0';
	rand_case(tmp, sizeof tmp);
	if (cep_event_set_text(dst, size, tmp))
		ck_abort_msg("test text does not fit: %s", tmp);
}

static void rand_ip(uint8_t *ip, uint8_t *af)
{
	if (rnd(8) == 0) {
		*af = CEP_AF_NONE;
		memset(ip, 0, 16);
		return;
	}
	*af = (uint8_t)cep_ip_parse(PICK(ips), ip);
	/* Now and then a neighbour, so that short prefixes earn their keep. */
	if (rnd(3) == 0)
		ip[*af == CEP_AF_INET ? 3 : 15] ^= (uint8_t)rnd(256);
}

static void rand_event(struct cep_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->ts = 1700000000000000000ULL + rnd(1000000);
	ev->kind = (uint8_t)(rnd(8) == 0 ? 0 : 1 + rnd(3));
	ev->proto = (uint8_t)PICK(protos);
	ev->tcp_flags = (uint8_t)PICK(flags);
	ev->src_port = (uint16_t)PICK(ports);
	ev->dst_port = (uint16_t)PICK(ports);
	ev->tlp = (uint8_t)rnd(CEP_TLP_COUNT);
	ev->sector = (uint8_t)rnd(4);
	ev->flags = rnd(2) ? CEP_EV_FRAGMENT : 0;
	rand_ip(ev->src_ip, &ev->src_af);
	rand_ip(ev->dst_ip, &ev->dst_af);
	rand_text(ev->indicator, sizeof ev->indicator);
	rand_text(ev->name, sizeof ev->name);
	if (rnd(2))
		rand_text(ev->reporter, sizeof ev->reporter);
}

static int try_compile(const char *dir, const char *yaml,
		       struct cep_ruleset **rs, char **diag)
{
	char path[256];
	const char *dirs[1] = { path };
	size_t dlen;
	FILE *f, *d;
	int rc;

	snprintf(path, sizeof path, "%s/rules.yml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(yaml, f);
	fclose(f);
	*diag = NULL;
	d = open_memstream(diag, &dlen);
	rc = cep_ruleset_compile(dirs, 1, d, rs);
	fclose(d);
	return rc;
}

static struct cep_ruleset *compile_yaml(const char *dir, const char *yaml)
{
	struct cep_ruleset *rs = NULL;
	char *diag;
	int rc = try_compile(dir, yaml, &rs, &diag);

	ck_assert_msg(rc == 0, "random rules did not compile: %s", diag);
	free(diag);
	return rs;
}

/* Does the compiler know Sigma's text modifiers yet? */
static bool probe_sigma_text(const char *dir)
{
	struct cep_ruleset *rs = NULL;
	char *diag;
	int rc = try_compile(dir, "title: t\nid: t\ndetection:\n  s:\n"
			     "    indicator|contains|cased: x\n"
			     "    name|re: '^a'\n    reporter|exists: true\n"
			     "  condition: s\n", &rs, &diag);

	free(diag);
	cep_ruleset_destroy(rs);
	return rc == 0;
}

/* The reference: every rule of the event's kind, through the plain matcher. */
static uint32_t reference(const struct cep_ruleset *rs,
			  const struct cep_event *ev, uint32_t *out)
{
	unsigned kind = ev->kind < CEP_KIND_COUNT ? ev->kind : 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < rs->nby_kind[kind]; i++) {
		uint32_t r = rs->by_kind[kind][i];

		if (cep__detection_match(&rs->rules[r].det, ev))
			out[n++] = r;
	}
	return n;
}

/* Checks one event; returns the number of matches. */
static uint32_t check_event(const struct cep_ruleset *rs,
			    struct cep__index_scratch *s,
			    const struct cep_event *ev, uint32_t *want,
			    uint32_t *got, uint64_t seed,
			    uint64_t *ncand)
{
	unsigned kind = ev->kind < CEP_KIND_COUNT ? ev->kind : 0;
	uint32_t nw = reference(rs, ev, want), ng = 0, nc;
	const uint32_t *cand;

	nc = cep__index_candidates(rs->index, s, ev, &cand);
	*ncand += nc;
	for (uint32_t i = 0; i < nc; i++) {
		const struct cep__rule *r = &rs->rules[cand[i]];

		/* Plain ifs: libcheck reports every ck_assert's location to
		 * its parent process, far too slow for millions of them. */
		if (i > 0 && cand[i] <= cand[i - 1])
			ck_abort_msg("seed %llu: candidates out of order",
				     (unsigned long long)seed);
		if (r->corr_type != CEP__CORR_NONE ||
		    !(r->kind < 0 || (kind && r->kind == (int)kind)))
			ck_abort_msg("seed %llu: candidate %u is not of kind %u",
				     (unsigned long long)seed, cand[i], kind);
		if (cep__detection_match(&r->det, ev))
			got[ng++] = cand[i];
	}
	if (ng != nw || memcmp(got, want, nw * sizeof *want)) {
		char json[CEP_EVENT_JSON_MAX];
		uint32_t miss = UINT32_MAX;

		for (uint32_t i = 0, j = 0; i < nw; i++) {
			while (j < ng && got[j] < want[i])
				j++;
			if (j == ng || got[j] != want[i]) {
				miss = want[i];
				break;
			}
		}
		cep_event_to_json(ev, json, sizeof json);
		ck_abort_msg("seed %llu: index found %u matches, plain loop %u; "
			     "first missed rule r%u; event %s",
			     (unsigned long long)seed, ng, nw, miss, json);
	}
	return nw;
}

#define NSEEDS 12
#define NEVENTS 3000

START_TEST(index_candidates_give_exactly_the_plain_loop_matches)
{
	char dir[128];
	uint64_t matches = 0, cands = 0, events = 0, rules = 0;

	cep_test_tmpdir(dir, sizeof dir, "ceptor-index");
	sigma_text = probe_sigma_text(dir);
	if (!sigma_text)
		printf("index property: the compiler has no contains/re/exists "
		       "yet; testing without them\n");
	for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
		struct buf b = { 0 };
		unsigned nrules = 100 + (unsigned)(seed * 37 % 400);
		struct cep__index_scratch *s;
		struct cep_ruleset *rs;
		uint32_t *want, *got;

		rng = seed * 0x9e3779b97f4a7c15ULL;
		for (unsigned i = 0; i < nrules; i++)
			gen_rule(&b, i);
		rs = compile_yaml(dir, b.p);
		free(b.p);
		ck_assert_int_eq(cep__index_scratch_create(rs->index, &s), 0);
		want = calloc(rs->nrules, sizeof *want);
		got = calloc(rs->nrules, sizeof *got);
		for (unsigned e = 0; e < NEVENTS; e++) {
			struct cep_event ev;

			rand_event(&ev);
			matches += check_event(rs, s, &ev, want, got, seed,
					       &cands);
			events++;
		}
		rules += rs->nrules;
		free(want);
		free(got);
		cep__index_scratch_destroy(s);
		cep_ruleset_destroy(rs);
	}
	cep_test_rmtree(dir);
	/* The property is only worth something if rules do match, and the
	 * index is only worth something if it offers fewer than all. */
	ck_assert_uint_gt(matches, events);
	ck_assert_uint_lt(cands, events * rules / NSEEDS);
	printf("index property: %llu events, %llu matches, %.1f candidates "
	       "per event of %.0f rules\n", (unsigned long long)events,
	       (unsigned long long)matches, (double)cands / (double)events,
	       (double)rules / NSEEDS);
}
END_TEST

/*
 * Dense structures: many prefixes of every length around a few networks
 * (the trie's nodes, their expanded strides, the IPv4 /16 summary), and
 * many literals over a four-letter alphabet, so that the literal filter's
 * four-byte substrings collide, literals overlap, share buckets, sit at the
 * ends of the text or are longer than it, and some are shorter than four
 * bytes (the automaton).  The events are drawn from the same networks and
 * alphabet, so that many of them match.
 */
static const char *const nets4[] = { "10.1", "10.2", "192.168", "0.0" };
/* Events also come from networks that only short prefixes cover. */
static const char *const evnets4[] = { "10.1", "10.2", "192.168", "0.0",
				       "10.3", "11.2", "192.169" };

static void dense_addr(char *s, size_t n, bool v6, bool event)
{
	if (v6)
		snprintf(s, n, "2001:db8:%x:%x::%x", rnd(3), rnd(3), rnd(4));
	else
		snprintf(s, n, "%s.%u.%u", event ? PICK(evnets4) : PICK(nets4),
			 rnd(4) * 64, rnd(256));
}

static void dense_lit(char *s, unsigned len)
{
	static const char abc[] = "abAB";

	for (unsigned i = 0; i < len; i++)
		s[i] = abc[rnd(4)];
	s[len] = '\0';
}

/* Half the seeds have no IPv4 prefix shorter than /9, which would cover
 * whole first-level bytes and hide the lower levels' summary. */
static bool dense_short;

static void gen_dense_rule(struct buf *b, unsigned i)
{
	char v[64];

	put(b, "---\ntitle: dense %u\nid: d-%u\ndetection:\n  s:\n", i, i);
	if (rnd(2)) {
		bool v6 = rnd(4) == 0;

		dense_addr(v, sizeof v, v6, false);
		put(b, "    %s|cidr: '%s/%u'\n", rnd(2) ? "src_ip" : "dst_ip",
		    v, v6 ? rnd(129) : dense_short ? rnd(33) : 9 + rnd(24));
	} else {
		static const char *const mods[] = { "|contains", "|startswith",
						    "|endswith", "" };
		const char *mod = PICK(mods);

		dense_lit(v, 1 + rnd(9));
		if (*mod || rnd(2))
			put(b, "    indicator%s: '%s'\n", mod, v);
		else
			put(b, "    indicator: '*%s*%s'\n", v, rnd(2) ? "b" : "");
	}
	put(b, "  condition: s\n");
}

static void dense_event(struct cep_event *ev)
{
	char a[64], t[64];
	bool v6 = rnd(4) == 0;

	memset(ev, 0, sizeof *ev);
	ev->ts = 1700000000000000000ULL;
	ev->kind = (uint8_t)(1 + rnd(3));
	dense_addr(a, sizeof a, v6, true);
	ev->src_af = (uint8_t)(v6 ? CEP_AF_INET6 : CEP_AF_INET);
	ck_assert_int_eq(cep_ip_parse(a, ev->src_ip), (int)ev->src_af);
	dense_addr(a, sizeof a, v6, true);
	ev->dst_af = ev->src_af;
	cep_ip_parse(a, ev->dst_ip);
	dense_lit(t, rnd(14));
	cep_event_set_text(ev->indicator, sizeof ev->indicator, t);
}

START_TEST(index_dense_prefixes_and_literals_give_the_plain_loop_matches)
{
	char dir[128];
	uint64_t matches = 0, cands = 0, events = 0;

	cep_test_tmpdir(dir, sizeof dir, "ceptor-index");
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct buf b = { 0 };
		struct cep__index_scratch *s;
		struct cep_ruleset *rs;
		uint32_t *want, *got;

		rng = seed * 0x2545f4914f6cdd1dULL;
		dense_short = seed > 2;
		for (unsigned i = 0; i < 600; i++)
			gen_dense_rule(&b, i);
		rs = compile_yaml(dir, b.p);
		free(b.p);
		ck_assert_int_eq(cep__index_scratch_create(rs->index, &s), 0);
		want = calloc(rs->nrules, sizeof *want);
		got = calloc(rs->nrules, sizeof *got);
		for (unsigned e = 0; e < 4000; e++) {
			struct cep_event ev;

			dense_event(&ev);
			matches += check_event(rs, s, &ev, want, got, seed,
					       &cands);
			events++;
		}
		free(want);
		free(got);
		cep__index_scratch_destroy(s);
		cep_ruleset_destroy(rs);
	}
	cep_test_rmtree(dir);
	ck_assert_uint_gt(matches, events);
	ck_assert_uint_lt(cands, events * 600);
	printf("index dense: %llu events, %llu matches, %.1f candidates per "
	       "event of 600 rules\n", (unsigned long long)events,
	       (unsigned long long)matches, (double)cands / (double)events);
}
END_TEST

/* Hand-written rules for the corners the generator reaches only rarely. */
static const char corner_rules[] =
	"title: escaped star\nid: c-esc\ndetection:\n"
	"  s:\n    indicator: 'a\\*b*'\n  condition: s\n"
	"---\ntitle: null address\nid: c-nulladdr\ndetection:\n"
	"  s:\n    src_ip: null\n  condition: s\n"
	"---\ntitle: all of a text\nid: c-all\ndetection:\n"
	"  s:\n    indicator|all: ['*evil*', '*example*']\n  condition: s\n"
	"---\ntitle: not only\nid: c-not\ndetection:\n"
	"  s:\n    dst_port: 80\n  condition: not s\n"
	"---\ntitle: anchored by and\nid: c-and\nlogsource:\n  category: flow\n"
	"detection:\n  a:\n    proto: 6\n  b:\n    dst_ip|cidr: 10.0.0.0/8\n"
	"  condition: a and b\n"
	"---\ntitle: overlapping literals\nid: c-ac\ndetection:\n"
	"  s:\n    indicator: ['*he*', '*she*', '*hers*', '*his*']\n"
	"  condition: s\n"
	"---\ntitle: question mark only\nid: c-q\ndetection:\n"
	"  s:\n    name: '?\?'\n  condition: s\n";

static bool matches_rule(const struct cep_ruleset *rs,
			 struct cep__index_scratch *s, const char *json,
			 const char *id)
{
	struct cep_event ev;
	const uint32_t *cand;
	char err[128];
	uint32_t n;

	ck_assert_int_eq(cep_event_from_json(json, strlen(json), &ev, err,
					     sizeof err), 0);
	n = cep__index_candidates(rs->index, s, &ev, &cand);
	for (uint32_t i = 0; i < n; i++) {
		const struct cep__rule *r = &rs->rules[cand[i]];

		if (!strcmp(r->id, id))
			return cep__detection_match(&r->det, &ev);
	}
	/* Not a candidate: the plain matcher must agree it cannot match. */
	for (size_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].id, id))
			ck_assert(!cep__detection_match(&rs->rules[i].det, &ev));
	return false;
}

START_TEST(index_handles_escapes_nulls_all_not_and_overlapping_literals)
{
	struct cep__index_scratch *s;
	struct cep__index_stats st;
	struct cep_ruleset *rs;
	char dir[128];

	cep_test_tmpdir(dir, sizeof dir, "ceptor-index");
	rs = compile_yaml(dir, corner_rules);
	ck_assert_int_eq(cep__index_scratch_create(rs->index, &s), 0);
	cep__index_stats(rs->index, &st);
	ck_assert_uint_eq(st.rules, 7);
	ck_assert_uint_eq(st.unanchored, 2); /* not s; '??' */

#define EV "{\"ts\":\"2026-01-01T00:00:00Z\",\"kind\":\"flow\","
	ck_assert(matches_rule(rs, s, EV "\"indicator\":\"A*Bcd\"}", "c-esc"));
	ck_assert(!matches_rule(rs, s, EV "\"indicator\":\"AxBcd\"}", "c-esc"));
	ck_assert(matches_rule(rs, s, EV "\"indicator\":\"x\"}", "c-nulladdr"));
	ck_assert(!matches_rule(rs, s, EV "\"src_ip\":\"10.0.0.1\"}",
				"c-nulladdr"));
	ck_assert(matches_rule(rs, s, EV "\"indicator\":\"Evil.Example\"}",
			       "c-all"));
	ck_assert(!matches_rule(rs, s, EV "\"indicator\":\"evil.test\"}",
				"c-all"));
	ck_assert(matches_rule(rs, s, EV "\"dst_port\":81}", "c-not"));
	ck_assert(!matches_rule(rs, s, EV "\"dst_port\":80}", "c-not"));
	ck_assert(matches_rule(rs, s, EV "\"proto\":6,\"dst_ip\":\"10.9.8.7\"}",
			       "c-and"));
	ck_assert(!matches_rule(rs, s, EV "\"proto\":6,\"dst_ip\":\"11.9.8.7\"}",
				"c-and"));
	/* Aho-Corasick: "his" inside "ushers" is not there; "she", "he" and
	 * "hers" are, each found through the failure links. */
	ck_assert(matches_rule(rs, s, EV "\"indicator\":\"USHERS\"}", "c-ac"));
	ck_assert(matches_rule(rs, s, EV "\"indicator\":\"xhisx\"}", "c-ac"));
	ck_assert(!matches_rule(rs, s, EV "\"indicator\":\"hxixs\"}", "c-ac"));
	ck_assert(matches_rule(rs, s, EV "\"name\":\"ab\"}", "c-q"));
#undef EV
	cep__index_scratch_destroy(s);
	cep_ruleset_destroy(rs);
	cep_test_rmtree(dir);
}
END_TEST

START_TEST(index_of_the_default_pack_offers_few_candidates)
{
	const char *root = getenv("ROOT"), *dirs[1];
	char path[512], err[128];
	struct cep__index_scratch *s;
	struct cep_ruleset *rs = NULL;
	struct cep_event ev;
	const uint32_t *cand;
	static const char udp[] = "{\"ts\":\"2026-01-01T00:00:00Z\","
		"\"kind\":\"packet\",\"proto\":17,\"src_ip\":\"192.0.2.1\","
		"\"dst_ip\":\"192.0.2.2\",\"dst_port\":53}";

	snprintf(path, sizeof path, "%s/rules/default", root && *root ? root : ".");
	dirs[0] = path;
	ck_assert_int_eq(cep_ruleset_compile(dirs, 1, stderr, &rs), 0);
	ck_assert_int_eq(cep__index_scratch_create(rs->index, &s), 0);
	ck_assert_int_eq(cep_event_from_json(udp, strlen(udp), &ev, err,
					     sizeof err), 0);
	/* A UDP packet between ordinary hosts reaches no rule at all. */
	ck_assert_uint_eq(cep__index_candidates(rs->index, s, &ev, &cand), 0);
	cep__index_scratch_destroy(s);
	cep_ruleset_destroy(rs);
}
END_TEST

static Suite *index_suite(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, index_candidates_give_exactly_the_plain_loop_matches);
	tcase_add_test(tc, index_dense_prefixes_and_literals_give_the_plain_loop_matches);
	tcase_add_test(tc, index_handles_escapes_nulls_all_not_and_overlapping_literals);
	tcase_add_test(tc, index_of_the_default_pack_offers_few_candidates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(index_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
