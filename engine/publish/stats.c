/*
 * stats.c - incident statistics kept in Redis (see stats.h for the keys,
 * the idempotence and the attribution rule).
 *
 * The outage table is a small ring of the last CEP_STATS_OUTAGES incidents
 * with a predicted impact, looked up linearly by identity: outages are
 * rare next to events, and a scan of 256 entries per new incident costs
 * less than keeping a hash table right.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptor/event.h"
#include "ceptor/incident.h"
#include "ceptor/publish.h"
#include "lib/hash.h"
#include "publish/stats.h"

#define NS 1000000000ull

struct outage {
	uint64_t ident;      /* cep_stats_identity's hash; 0: empty slot */
	uint64_t first_seen, last_seen;
	uint8_t sector;
	uint8_t nimpact;
	struct {
		uint8_t sector;
		uint32_t delay_s;
		double impact;
	} impact[CEP_INCIDENT_IMPACT_MAX];
};

struct cep_stats {
	char site[64];
	uint32_t hour_ttl_s, day_ttl_s;
	struct outage out[CEP_STATS_OUTAGES];
	size_t next;         /* the slot the next new outage takes */
};

int cep_stats_create(const struct cep_stats_config *cfg,
		     struct cep_stats **out)
{
	struct cep_stats *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s)
		return -ENOMEM;
	snprintf(s->site, sizeof s->site, "%s",
		 cfg && cfg->site ? cfg->site : "");
	s->hour_ttl_s = cfg && cfg->hour_ttl_s ? cfg->hour_ttl_s
					       : CEP_STATS_HOUR_TTL_S;
	s->day_ttl_s = cfg && cfg->day_ttl_s ? cfg->day_ttl_s
					     : CEP_STATS_DAY_TTL_S;
	*out = s;
	return 0;
}

void cep_stats_destroy(struct cep_stats *s)
{
	free(s);
}

static uint64_t identity(const char *site, const struct cep_incident *inc)
{
	uint64_t h = cep_hash_str(site, 0x63657074u);
	h = cep_hash_str(inc->rule_id, h);
	h = cep_hash_str(inc->key, h);
	h = cep_hash_u64(h ^ inc->first_seen);
	return h ? h : 1; /* 0 marks an empty slot */
}

char *cep_stats_identity(const char *site, const struct cep_incident *inc,
			 char buf[17])
{
	snprintf(buf, 17, "%016llx",
		 (unsigned long long)identity(site, inc));
	return buf;
}

char *cep_stats_bucket(uint64_t ns, int hour, char *buf, size_t size)
{
	time_t t = (time_t)(ns / NS);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, hour ? "h:%Y%m%d%H" : "d:%Y%m%d", &tm);
	return buf;
}

void cep_stats_note(struct cep_stats *s, const struct cep_incident *inc)
{
	if (inc->exercise || inc->nimpact == 0)
		return;
	uint64_t id = identity(s->site, inc);
	struct outage *o = NULL;
	for (size_t i = 0; i < CEP_STATS_OUTAGES && !o; i++)
		if (s->out[i].ident == id)
			o = &s->out[i];
	if (!o) {
		o = &s->out[s->next];
		s->next = (s->next + 1) % CEP_STATS_OUTAGES;
	}
	o->ident = id;
	o->first_seen = inc->first_seen;
	o->last_seen = inc->last_seen;
	o->sector = inc->sector;
	o->nimpact = inc->nimpact;
	for (uint8_t k = 0; k < inc->nimpact; k++) {
		o->impact[k].sector = inc->impact[k].sector;
		o->impact[k].delay_s = inc->impact[k].delay_s;
		o->impact[k].impact = inc->impact[k].impact;
	}
}

static int it_failure(int type)
{
	return cep_type_cause(type) == CEP_CAUSE_UNINTENTIONAL ||
	       type == CEP_TYPE_POWER_LOSS || type == CEP_TYPE_COMM_LOSS ||
	       type == CEP_TYPE_FACILITY_DAMAGE;
}

int cep_stats_attribution(const struct cep_stats *s,
			  const struct cep_incident *inc)
{
	int best = -1;
	double best_impact = -1;

	if (inc->exercise || !it_failure(inc->type))
		return -1;
	for (size_t i = 0; i < CEP_STATS_OUTAGES; i++) {
		const struct outage *o = &s->out[i];
		if (!o->ident || o->sector == inc->sector)
			continue;
		for (uint8_t k = 0; k < o->nimpact; k++) {
			if (o->impact[k].sector != inc->sector)
				continue;
			uint64_t expected = o->first_seen +
					    (uint64_t)o->impact[k].delay_s * NS;
			uint64_t end = expected > o->last_seen ? expected
							       : o->last_seen;
			end += (uint64_t)CEP_STATS_ATTRIB_SLACK_S * NS;
			if (inc->first_seen >= o->first_seen &&
			    inc->first_seen <= end &&
			    o->impact[k].impact > best_impact) {
				best = o->sector;
				best_impact = o->impact[k].impact;
			}
		}
	}
	return best;
}

/* SADD KEY MEMBER and EXPIRE KEY TTL; 0 or -ENOMEM. */
static int count_in(cep_stats_cmd_fn *cmd, void *arg, const char *key,
		    const char *member, const char *ttl)
{
	const char *sadd[3] = { "SADD", key, member };
	const char *expire[3] = { "EXPIRE", key, ttl };
	int rc = cmd(arg, sadd, 3);
	if (rc == 0)
		rc = cmd(arg, expire, 3);
	return rc;
}

int cep_stats_record(struct cep_stats *s, cep_stats_cmd_fn *cmd, void *arg,
		     const struct cep_incident *inc)
{
	char member[17], bucket[24], key[CEP_STATS_KEY_MAX], ttl[16];
	int from, cause, n = 0, rc;

	if (inc->version != 1 || inc->exercise)
		return 0;
	cep_stats_identity(s->site, inc, member);
	from = cep_stats_attribution(s, inc);
	cause = cep_type_cause(inc->type);
	for (int hour = 1; hour >= 0; hour--) {
		const char *sub[6];
		size_t nsub = 0;
		char b_sector[40], b_cause[40], b_type[40], b_attr[64];

		cep_stats_bucket(inc->first_seen, hour, bucket, sizeof bucket);
		snprintf(ttl, sizeof ttl, "%u",
			 hour ? s->hour_ttl_s : s->day_ttl_s);
		snprintf(b_sector, sizeof b_sector, "sector:%s",
			 cep_sector_name(inc->sector));
		snprintf(b_cause, sizeof b_cause, "cause:%s",
			 cause ? cep_cause_name(cause) : "none");
		snprintf(b_type, sizeof b_type, "type:%s",
			 inc->type ? cep_type_name(inc->type) : "none");
		sub[nsub++] = "all";
		sub[nsub++] = b_sector;
		sub[nsub++] = b_cause;
		sub[nsub++] = b_type;
		if (from >= 0) {
			snprintf(b_attr, sizeof b_attr, "attributed:%s:%s",
				 cep_sector_name(from),
				 cep_sector_name(inc->sector));
			sub[nsub++] = "attributed";
			sub[nsub++] = b_attr;
		}
		for (size_t i = 0; i < nsub; i++) {
			snprintf(key, sizeof key, "ceptor:{stats:%s}:%s", bucket,
				 sub[i]);
			if ((rc = count_in(cmd, arg, key, member, ttl)))
				return rc;
			n += 2;
		}
	}
	return n;
}
