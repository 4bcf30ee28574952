/*
 * event.c - vocabularies of the event record and its JSON Lines codec.
 *
 * The codec is the one place where the record meets text, so it is strict:
 * the writer emits exactly one canonical form, and the reader accepts that
 * form (plus a little leniency where feeds need it: unknown members are
 * skipped, numbers may come as strings from tools that quote everything)
 * and reports anything else with the member's name and its byte offset.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "ceptor/signal.h"
#include "lib/json.h"

/* The ring's layout version depends on these offsets; change them only
 * together with CEP_RING_VERSION. */
_Static_assert(offsetof(struct cep_event, src_ip) == 24, "layout");
_Static_assert(offsetof(struct cep_event, kind) == 64, "layout");
_Static_assert(offsetof(struct cep_event, src_af) == 72, "layout");
_Static_assert(offsetof(struct cep_event, flags) == 80, "layout");
_Static_assert(offsetof(struct cep_event, source) == 88, "layout");
_Static_assert(offsetof(struct cep_event, report_id) == 240, "layout");

/* ---- vocabularies ---------------------------------------------------- */

static const char *const kind_names[CEP_KIND_COUNT] = {
	"", "packet", "flow", "feed", "report", "intel", "incident",
};

static const char *const type_names[CEP_TYPE_COUNT] = {
	"", "intrusion", "tampering", "command_exec", "malware", "dos", "leak",
	"theft", "scan", "c2", "sinkhole", "brute_force", "phishing", "vuln",
	"misconfig", "defect", "maintenance", "audit_gap", "outsourcing",
	"mgmt_failure", "insider", "earthquake", "flood", "lightning", "fire",
	"power_loss", "comm_loss", "facility_damage", "traffic",
};

static const char *const sector_names[CEP_SECTOR_COUNT] = {
	"unknown", "telecom", "finance", "aviation", "rail", "electricity",
	"gas", "government", "medical", "water", "logistics",
};

static const char *const rel_names[CEP_REL_COUNT] = {
	"", "A", "B", "C", "D", "E", "F",
};

static const char *const cred_names[CEP_CRED_MAX + 1] = {
	"", "1", "2", "3", "4", "5", "6",
};

static const char *const tlp_names[CEP_TLP_COUNT] = {
	"", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED",
};

static const char *const system_names[CEP_SYSTEM_COUNT] = {
	"", "network_systems", "operation_support", "banking_core",
	"settlement", "trading", "flight_operations", "air_traffic_control",
	"train_traffic_control", "power_management", "plant_control",
	"remote_monitoring", "e_government", "health_records",
	"water_control", "cargo_tracking", "warehouse_management",
};

static const char *const trigger_names[CEP_TRIGGER_COUNT] = {
	"", "serious_failure", "attack_detected", "damage_detected",
	"secondary_damage",
};

static const char *const cause_names[CEP_CAUSE_COUNT] = {
	"", "cyber", "unintentional", "disaster",
};

static const char *const level_names[CEP_LEVEL_COUNT] = {
	"", "informational", "low", "medium", "high", "critical",
};

static const char *name_of(const char *const *names, int count, int v)
{
	if (v < 0 || v >= count)
		return "?";
	return names[v];
}

/* Values start at 1: 0 is "unset" and is not a token (except sector 0,
 * "unknown", which is handled by its own parser). */
static int parse_in(const char *const *names, int count, const char *s)
{
	for (int i = 1; i < count; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -CEP_EUNKNOWN;
}

const char *cep_kind_name(int v) { return name_of(kind_names, CEP_KIND_COUNT, v); }
int cep_kind_parse(const char *s) { return parse_in(kind_names, CEP_KIND_COUNT, s); }
const char *cep_type_name(int v) { return name_of(type_names, CEP_TYPE_COUNT, v); }
int cep_type_parse(const char *s) { return parse_in(type_names, CEP_TYPE_COUNT, s); }
const char *cep_sector_name(int v) { return name_of(sector_names, CEP_SECTOR_COUNT, v); }
const char *cep_reliability_name(int v) { return name_of(rel_names, CEP_REL_COUNT, v); }
int cep_reliability_parse(const char *s) { return parse_in(rel_names, CEP_REL_COUNT, s); }
const char *cep_credibility_name(int v) { return name_of(cred_names, CEP_CRED_MAX + 1, v); }
int cep_credibility_parse(const char *s) { return parse_in(cred_names, CEP_CRED_MAX + 1, s); }
const char *cep_tlp_name(int v) { return name_of(tlp_names, CEP_TLP_COUNT, v); }
const char *cep_system_name(int v) { return name_of(system_names, CEP_SYSTEM_COUNT, v); }
int cep_system_parse(const char *s) { return parse_in(system_names, CEP_SYSTEM_COUNT, s); }
const char *cep_trigger_name(int v) { return name_of(trigger_names, CEP_TRIGGER_COUNT, v); }
int cep_trigger_parse(const char *s) { return parse_in(trigger_names, CEP_TRIGGER_COUNT, s); }
const char *cep_cause_name(int v) { return name_of(cause_names, CEP_CAUSE_COUNT, v); }
const char *cep_level_name(int v) { return name_of(level_names, CEP_LEVEL_COUNT, v); }
int cep_level_parse(const char *s) { return parse_in(level_names, CEP_LEVEL_COUNT, s); }

/* Sector 0 is a real token ("unknown"), so parse returns it as 0. */
int cep_sector_parse(const char *s)
{
	if (strcmp(s, "unknown") == 0)
		return CEP_SECTOR_UNKNOWN;
	return parse_in(sector_names, CEP_SECTOR_COUNT, s);
}

int cep_tlp_parse(const char *s)
{
	if (strncmp(s, "TLP:", 4) == 0)
		s += 4;
	return parse_in(tlp_names, CEP_TLP_COUNT, s);
}

int cep_type_cause(int type)
{
	if (type >= CEP_TYPE_INTRUSION && type <= CEP_TYPE_VULN)
		return CEP_CAUSE_CYBER;
	if (type >= CEP_TYPE_MISCONFIG && type <= CEP_TYPE_INSIDER)
		return CEP_CAUSE_UNINTENTIONAL;
	if (type >= CEP_TYPE_EARTHQUAKE && type <= CEP_TYPE_FACILITY_DAMAGE)
		return CEP_CAUSE_DISASTER;
	return CEP_CAUSE_NONE;
}

/* ---- addresses and time ---------------------------------------------- */

char *cep_ip_format(int af, const uint8_t ip[16], char *buf)
{
	buf[0] = '\0';
	if (af == CEP_AF_INET) {
		/* Dotted quad by hand: the --dump path formats two per event. */
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = ip[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
	} else if (af == CEP_AF_INET6) {
		inet_ntop(AF_INET6, ip, buf, CEP_IP_STRLEN); /* RFC 5952 form */
	}
	return buf;
}

int cep_ip_parse(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return CEP_AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return CEP_AF_INET6;
	return -CEP_EMALFORMED;
}

/* Consecutive events mostly share their second, so each thread keeps the
 * text of the last second it formatted (gmtime and strftime dominated the
 * cost of --dump before). */
static _Thread_local struct {
	time_t sec;
	char text[20]; /* "YYYY-MM-DDTHH:MM:SS" */
	bool valid;
} time_cache;

char *cep_time_format(uint64_t ts, char *buf)
{
	time_t sec = (time_t)(ts / 1000000000u);
	uint32_t ns = (uint32_t)(ts % 1000000000u);
	int digits = 9;

	if (!time_cache.valid || time_cache.sec != sec) {
		struct tm tm;
		char tmp[64];
		gmtime_r(&sec, &tm);
		/* 64 bits of nanoseconds end in 2554: always 4 year digits. */
		strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
		memcpy(time_cache.text, tmp, 19);
		time_cache.sec = sec;
		time_cache.valid = true;
	}
	memcpy(buf, time_cache.text, 19);
	if (ns % 1000 == 0) {
		ns /= 1000;
		digits = 6;
	}
	buf[19] = '.';
	for (int i = digits; i > 0; i--) {
		buf[19 + i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	buf[20 + digits] = 'Z';
	buf[21 + digits] = '\0';
	return buf;
}

static int digits(const char *s, size_t len, size_t at, size_t n,
		  unsigned *out)
{
	unsigned v = 0;
	if (at + n > len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so that parsing needs no time zone
 * state and no timegm(). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int cep_time_parse(const char *s, size_t len, uint64_t *ts)
{
	unsigned y, mo, d, h, mi, sec, frac = 0;
	size_t at;

	if (digits(s, len, 0, 4, &y) || len < 19 || s[4] != '-' ||
	    digits(s, len, 5, 2, &mo) || s[7] != '-' ||
	    digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' &&
					 s[10] != ' ') ||
	    digits(s, len, 11, 2, &h) || s[13] != ':' ||
	    digits(s, len, 14, 2, &mi) || s[16] != ':' ||
	    digits(s, len, 17, 2, &sec))
		return -CEP_EMALFORMED;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -CEP_EMALFORMED;
	at = 19;
	if (at < len && s[at] == '.') {
		unsigned n = 0;
		at++;
		while (at < len && s[at] >= '0' && s[at] <= '9') {
			if (n < 9) {
				frac = frac * 10 + (unsigned)(s[at] - '0');
				n++;
			}
			at++;
		}
		if (n == 0)
			return -CEP_EMALFORMED;
		while (n++ < 9)
			frac *= 10;
	}
	int64_t offset = 0;
	if (at == len) {
		if (s[10] != ' ')
			return -CEP_EMALFORMED; /* RFC 3339 needs a zone */
	} else if (s[at] == 'Z' || s[at] == 'z') {
		at++;
	} else if (s[at] == '+' || s[at] == '-') {
		unsigned oh, om;
		if (digits(s, len, at + 1, 2, &oh) || at + 3 >= len ||
		    s[at + 3] != ':' || digits(s, len, at + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -CEP_EMALFORMED;
		offset = (int64_t)(oh * 3600 + om * 60);
		if (s[at] == '-')
			offset = -offset;
		at += 6;
	} else {
		return -CEP_EMALFORMED;
	}
	if (at != len)
		return -CEP_EMALFORMED;
	int64_t days = days_from_civil(y, mo, d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
	if (secs < 0)
		return -CEP_EMALFORMED;
	*ts = (uint64_t)secs * 1000000000u + frac;
	return 0;
}

int cep_event_set_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size) {
		memset(dst, 0, size);
		return -CEP_ETOOLONG;
	}
	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
	return 0;
}

/* ---- JSON ------------------------------------------------------------ */

/* The boolean members that mirror the CEP_EV_* flag bits, in bit order. */
static const char *const flag_names[CEP_EV_FLAG_BITS] = {
	"fragment", "truncated", "exercise", "may_spread", "damage_likely",
	"tunnel",
};

int cep_event_to_json(const struct cep_event *ev, char *buf, size_t size)
{
	struct cep_jw w;
	char tmp[CEP_TIME_STRLEN > CEP_IP_STRLEN ? CEP_TIME_STRLEN : CEP_IP_STRLEN];

	cep_jw_init(&w, buf, size);
	cep_jw_begin(&w);
	cep_jw_str(&w, "ts", cep_time_format(ev->ts, tmp));
	cep_jw_str(&w, "source", ev->source);
	cep_jw_str(&w, "kind", cep_kind_name(ev->kind));
	cep_jw_str(&w, "type", cep_type_name(ev->type));
	cep_jw_str(&w, "sector", cep_sector_name(ev->sector));
	if (ev->src_af)
		cep_jw_str(&w, "src_ip", cep_ip_format(ev->src_af, ev->src_ip, tmp));
	if (ev->dst_af)
		cep_jw_str(&w, "dst_ip", cep_ip_format(ev->dst_af, ev->dst_ip, tmp));
	if (ev->src_port)
		cep_jw_u64(&w, "src_port", ev->src_port);
	if (ev->dst_port)
		cep_jw_u64(&w, "dst_port", ev->dst_port);
	if (ev->proto)
		cep_jw_u64(&w, "proto", ev->proto);
	if (ev->bytes)
		cep_jw_u64(&w, "bytes", ev->bytes);
	if (ev->packets)
		cep_jw_u64(&w, "packets", ev->packets);
	if (ev->tcp_flags)
		cep_jw_u64(&w, "tcp_flags", ev->tcp_flags);
	if (ev->icmp_type)
		cep_jw_u64(&w, "icmp_type", ev->icmp_type);
	if (ev->icmp_code)
		cep_jw_u64(&w, "icmp_code", ev->icmp_code);
	if (ev->vlan)
		cep_jw_u64(&w, "vlan", ev->vlan);
	if (ev->count)
		cep_jw_u64(&w, "count", ev->count);
	if (ev->reliability)
		cep_jw_str(&w, "reliability", cep_reliability_name(ev->reliability));
	if (ev->credibility)
		cep_jw_str(&w, "credibility", cep_credibility_name(ev->credibility));
	if (ev->tlp)
		cep_jw_str(&w, "tlp", cep_tlp_name(ev->tlp));
	if (ev->system)
		cep_jw_str(&w, "system", cep_system_name(ev->system));
	if (ev->trigger)
		cep_jw_str(&w, "trigger", cep_trigger_name(ev->trigger));
	if (ev->reporter[0])
		cep_jw_str(&w, "reporter", ev->reporter);
	if (ev->indicator[0])
		cep_jw_str(&w, "indicator", ev->indicator);
	if (ev->name[0])
		cep_jw_str(&w, "name", ev->name);
	if (ev->report_id[0])
		cep_jw_str(&w, "report_id", ev->report_id);
	for (int i = 0; i < CEP_EV_FLAG_BITS; i++)
		if (ev->flags & (1u << i))
			cep_jw_bool(&w, flag_names[i], true);
	uint32_t to = cep_event_recipients(ev);
	if (to) {
		cep_jw_open(&w, "recipients", '[');
		for (int sct = 0; sct < CEP_SECTOR_COUNT; sct++)
			if (to & (1u << sct))
				cep_jw_str(&w, NULL, sct ? cep_sector_name(sct)
							 : "unknown");
		cep_jw_close(&w, ']');
	}
	if (ev->seq)
		cep_jw_u64(&w, "seq", ev->seq);
	return cep_jw_end(&w);
}

/* How each member is read. */
enum field_kind {
	F_TS, F_TEXT, F_IP, F_U8, F_U16, F_U32, F_U64, F_TOKEN, F_FLAG,
	F_SECTORS,
};

typedef int (*parse_fn)(const char *);

struct field {
	const char *name;
	size_t nlen;     /* strlen(name) */
	enum field_kind how;
	size_t off;      /* offset of the member in struct cep_event */
	size_t size;     /* text capacity, or the af member's offset for F_IP */
	parse_fn parse;  /* F_TOKEN */
	uint32_t bit;    /* F_FLAG */
};

#define OFF(m) offsetof(struct cep_event, m)
#define SZ(m) sizeof(((struct cep_event *)0)->m)
#define N(name) name, sizeof(name) - 1

static const struct field fields[] = {
	{ N("ts"), F_TS, OFF(ts), 0, NULL, 0 },
	{ N("source"), F_TEXT, OFF(source), SZ(source), NULL, 0 },
	{ N("kind"), F_TOKEN, OFF(kind), 0, cep_kind_parse, 0 },
	{ N("type"), F_TOKEN, OFF(type), 0, cep_type_parse, 0 },
	{ N("sector"), F_TOKEN, OFF(sector), 0, cep_sector_parse, 0 },
	{ N("src_ip"), F_IP, OFF(src_ip), OFF(src_af), NULL, 0 },
	{ N("dst_ip"), F_IP, OFF(dst_ip), OFF(dst_af), NULL, 0 },
	{ N("src_port"), F_U16, OFF(src_port), 0, NULL, 0 },
	{ N("dst_port"), F_U16, OFF(dst_port), 0, NULL, 0 },
	{ N("proto"), F_U8, OFF(proto), 0, NULL, 0 },
	{ N("bytes"), F_U64, OFF(bytes), 0, NULL, 0 },
	{ N("packets"), F_U64, OFF(packets), 0, NULL, 0 },
	{ N("tcp_flags"), F_U8, OFF(tcp_flags), 0, NULL, 0 },
	{ N("icmp_type"), F_U8, OFF(icmp_type), 0, NULL, 0 },
	{ N("icmp_code"), F_U8, OFF(icmp_code), 0, NULL, 0 },
	{ N("vlan"), F_U16, OFF(vlan), 0, NULL, 0 },
	{ N("count"), F_U32, OFF(count), 0, NULL, 0 },
	{ N("reliability"), F_TOKEN, OFF(reliability), 0, cep_reliability_parse, 0 },
	{ N("credibility"), F_TOKEN, OFF(credibility), 0, cep_credibility_parse, 0 },
	{ N("tlp"), F_TOKEN, OFF(tlp), 0, cep_tlp_parse, 0 },
	{ N("system"), F_TOKEN, OFF(system), 0, cep_system_parse, 0 },
	{ N("trigger"), F_TOKEN, OFF(trigger), 0, cep_trigger_parse, 0 },
	{ N("reporter"), F_TEXT, OFF(reporter), SZ(reporter), NULL, 0 },
	{ N("indicator"), F_TEXT, OFF(indicator), SZ(indicator), NULL, 0 },
	{ N("name"), F_TEXT, OFF(name), SZ(name), NULL, 0 },
	{ N("report_id"), F_TEXT, OFF(report_id), SZ(report_id), NULL, 0 },
	{ N("fragment"), F_FLAG, 0, 0, NULL, CEP_EV_FRAGMENT },
	{ N("truncated"), F_FLAG, 0, 0, NULL, CEP_EV_TRUNCATED },
	{ N("exercise"), F_FLAG, 0, 0, NULL, CEP_EV_EXERCISE },
	{ N("may_spread"), F_FLAG, 0, 0, NULL, CEP_EV_MAY_SPREAD },
	{ N("damage_likely"), F_FLAG, 0, 0, NULL, CEP_EV_DAMAGE_LIKELY },
	{ N("tunnel"), F_FLAG, 0, 0, NULL, CEP_EV_TUNNEL },
	{ N("recipients"), F_SECTORS, 0, 0, NULL, 0 },
	{ N("seq"), F_U32, OFF(seq), 0, NULL, 0 },
};

static const struct field *field_find(const struct cep_json_value *key)
{
	/* Lengths first: most members are told apart without a compare. */
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (key->len == fields[i].nlen &&
		    memcmp(key->p, fields[i].name, key->len) == 0)
			return &fields[i];
	return NULL;
}

int cep_event_parse_sectors(const struct cep_json_value *v, uint32_t *out)
{
	const char *p, *end;
	char tok[32];

	*out = 0;
	if (v->type == CEP_JSON_STRING) {
		p = v->p, end = v->p + v->len;
	} else if (v->type == CEP_JSON_ARRAY) {
		p = v->p + 1, end = v->p + v->len - 1;
	} else {
		return -CEP_EMALFORMED;
	}
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
				   *p == '\r' || *p == ','))
			p++;
		if (p >= end)
			break;
		bool quoted = *p == '"';
		if (quoted != (v->type == CEP_JSON_ARRAY))
			return -CEP_EMALFORMED;
		p += quoted;
		size_t n = 0;
		while (p < end && *p != '"' && *p != ',' && *p != ' ')
			if (n + 1 < sizeof tok)
				tok[n++] = *p++;
			else
				return -CEP_EMALFORMED;
		tok[n] = '\0';
		if (quoted && (p >= end || *p++ != '"'))
			return -CEP_EMALFORMED;
		int sct = !strcmp(tok, "unknown") ? 0 : cep_sector_parse(tok);
		if (sct < 0)
			return -CEP_EMALFORMED;
		*out |= 1u << sct;
	}
	return 0;
}

static int read_field(const struct field *f, const struct cep_json_value *v,
		      struct cep_event *ev, const char **why)
{
	uint8_t *base = (uint8_t *)ev;
	char text[80];
	uint64_t u;
	int rc;

	switch (f->how) {
	case F_TS:
		if (v->type != CEP_JSON_STRING)
			return *why = "must be an RFC 3339 string", -CEP_EMALFORMED;
		if (cep_time_parse(v->p, v->len, &ev->ts))
			return *why = "is not an RFC 3339 time", -CEP_EMALFORMED;
		return 0;
	case F_TEXT:
		if (v->type != CEP_JSON_STRING)
			return *why = "must be a string", -CEP_EMALFORMED;
		/* NUL-padded, as event.h promises, even when a member repeats. */
		memset(base + f->off, 0, f->size);
		rc = cep_json_unescape(v, (char *)base + f->off, f->size);
		if (rc == -CEP_ETOOLONG)
			return *why = "is longer than its field", rc;
		if (rc < 0)
			return *why = "has a bad escape", rc;
		return 0;
	case F_IP:
		if (v->type != CEP_JSON_STRING ||
		    cep_json_unescape(v, text, sizeof text) < 0)
			return *why = "must be an address string", -CEP_EMALFORMED;
		rc = cep_ip_parse(text, base + f->off);
		if (rc < 0)
			return *why = "is not an IPv4 or IPv6 address", rc;
		base[f->size] = (uint8_t)rc;
		return 0;
	case F_TOKEN:
		if (v->type != CEP_JSON_STRING ||
		    cep_json_unescape(v, text, sizeof text) < 0)
			return *why = "must be a token string", -CEP_EMALFORMED;
		if (text[0] == '\0') /* written for unset kind/type */
			return 0;
		rc = f->parse(text);
		if (rc < 0)
			return *why = "is not a known token", -CEP_EUNKNOWN;
		base[f->off] = (uint8_t)rc;
		return 0;
	case F_FLAG:
		if (v->type != CEP_JSON_TRUE && v->type != CEP_JSON_FALSE)
			return *why = "must be true or false", -CEP_EMALFORMED;
		if (v->type == CEP_JSON_TRUE)
			ev->flags |= f->bit;
		return 0;
	case F_SECTORS: {
		uint32_t set;
		if (cep_event_parse_sectors(v, &set))
			return *why = "must be a list of sector tokens",
			       -CEP_EMALFORMED;
		cep_event_set_recipients(ev, set);
		return 0;
	}
	default:
		break;
	}
	/* Integers; some tools quote every value, so "443" is accepted. */
	struct cep_json_value num = *v;
	if (num.type == CEP_JSON_STRING)
		num.type = CEP_JSON_NUMBER;
	if (cep_json_to_u64(&num, &u))
		return *why = "must be a non-negative integer", -CEP_EMALFORMED;
	switch (f->how) {
	case F_U8:
		if (u > UINT8_MAX)
			return *why = "is out of range (0..255)", -CEP_EMALFORMED;
		base[f->off] = (uint8_t)u;
		break;
	case F_U16:
		if (u > UINT16_MAX)
			return *why = "is out of range (0..65535)", -CEP_EMALFORMED;
		*(uint16_t *)(base + f->off) = (uint16_t)u;
		break;
	case F_U32:
		if (u > UINT32_MAX)
			return *why = "is out of range (32 bits)", -CEP_EMALFORMED;
		*(uint32_t *)(base + f->off) = (uint32_t)u;
		break;
	default:
		*(uint64_t *)(base + f->off) = u;
		break;
	}
	return 0;
}

/* The offset of a value's first byte: a string's span starts after its
 * opening quote. */
static size_t value_offset(const char *line, const struct cep_json_value *v)
{
	return (size_t)(v->p - line) - (v->type == CEP_JSON_STRING ? 1 : 0);
}

int cep_event_from_json(const char *line, size_t len, struct cep_event *ev,
			char *err, size_t errsize)
{
	struct cep_json_reader r;
	struct cep_json_value key, val;
	int rc;

	memset(ev, 0, sizeof *ev);
	cep_json_reader_init(&r, line, len);
	while ((rc = cep_json_next(&r, &key, &val)) == 1) {
		const struct field *f = field_find(&key);
		const char *why = NULL;
		if (!f)
			continue; /* unknown members: forward compatibility */
		rc = read_field(f, &val, ev, &why);
		if (rc) {
			if (err)
				snprintf(err, errsize, "field \"%s\" at offset %zu %s",
					 f->name, value_offset(line, &val), why);
			return rc;
		}
	}
	if (rc < 0) {
		if (err)
			snprintf(err, errsize, "offset %zu: %s", r.err_off, r.err);
		return rc;
	}
	return 0;
}
