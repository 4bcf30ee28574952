/*
 * stats.h - incident statistics kept in Redis: how many incidents, by
 * sector, cause and type, per hour and per day, and how many IT failures
 * are attributed to another sector's outage (DESIGN.md section 5).
 *
 * What it is for.  ceptord counts each incident once, when it is first
 * published (version 1), into buckets that `ceptorctl stats` reads back.
 * The counting commands go through the publisher (cep_publisher_add_cmd),
 * so a Redis outage spools them with the incidents and nothing is lost.
 *
 * Keys.  One bucket per UTC hour and per UTC day of the incident's
 * first_seen (event time, never the wall clock), each bucket under its own
 * hash tag so that all of a bucket's keys sit on one Redis Cluster shard
 * while different buckets spread over the shards:
 *
 *   ceptor:{stats:h:2026112614}:all                  every incident
 *   ceptor:{stats:h:2026112614}:sector:electricity   by sector
 *   ceptor:{stats:h:2026112614}:cause:disaster       cyber, unintentional,
 *                                                    disaster (none: traffic)
 *   ceptor:{stats:h:2026112614}:type:power_loss      by type
 *   ceptor:{stats:h:2026112614}:attributed           IT failures attributed
 *                                                    to another sector's outage
 *   ceptor:{stats:h:2026112614}:attributed:electricity:telecom
 *                                                    ... from A's outage to B
 *   ceptor:{stats:d:20261126}:...                    the same per day
 *
 * Each key is a SET of incident identities and a count is its SCARD.
 *
 * Idempotence.  Counting is SADD, so sending a command twice (the
 * publisher's at-least-once delivery, a spool replayed after a crash)
 * changes nothing.  The member is not the incident id but its identity:
 * 16 hex digits of a hash of (site, rule id, group key, first_seen).  A
 * restarted ceptord that reads the same input again numbers its incidents
 * afresh (ids are never reused), but they have the same identity, so the
 * counts stay those of one run.  Two incidents count as one only if the
 * same rule opened them for the same entity at the same nanosecond.
 *
 * Retention.  Every SADD is followed by an EXPIRE of its key: hour buckets
 * live `hour_ttl_s` (default 8 days), day buckets `day_ttl_s` (default 400
 * days) after their last change (config keys stats_hours, stats_days).
 * Exercise incidents are not counted.
 *
 * Attribution rule.  The engine cannot see whether two incidents are
 * causally joined, so the rule is temporal and model-based, and says so:
 * an incident X of sector B counts as an IT failure attributed to sector
 * A's outage when
 *   - X's type is an IT failure: an unintentional cause (misconfig, defect,
 *     maintenance, audit_gap, outsourcing, mgmt_failure, insider) or an IT
 *     effect of a disaster (power_loss, comm_loss, facility_damage);
 *   - an incident O of sector A != B, seen by this engine, has a predicted
 *     impact (an outage the sector graph spreads) that names B, with delay
 *     d_B;
 *   - X.first_seen lies in [O.first_seen, max(O.last_seen, O.first_seen +
 *     d_B) + CEP_STATS_ATTRIB_SLACK_S].
 * When several outages qualify, the one with the strongest predicted
 * impact on B is named.  The outages are remembered in memory (the last
 * CEP_STATS_OUTAGES of them), so an outage seen before a restart does not
 * attribute failures seen after it.  Within one publish round every
 * outage is noted before any incident is counted, so the order in which a
 * round hands them out does not matter.
 *
 * Threads: a cep_stats belongs to the thread that publishes (the core's).
 * Errors: 0 or a negative errno.
 */
#ifndef CEPTOR_PUBLISH_STATS_H
#define CEPTOR_PUBLISH_STATS_H

#include <stddef.h>
#include <stdint.h>

struct cep_incident;
struct cep_publisher;
struct cep_stats;

#define CEP_STATS_OUTAGES 256
#define CEP_STATS_ATTRIB_SLACK_S (6 * 3600)
#define CEP_STATS_HOUR_TTL_S (8u * 86400u)
#define CEP_STATS_DAY_TTL_S (400u * 86400u)
#define CEP_STATS_KEY_MAX 128

struct cep_stats_config {
	const char *site;     /* part of each incident's identity; borrowed */
	uint32_t hour_ttl_s;  /* 0 = CEP_STATS_HOUR_TTL_S */
	uint32_t day_ttl_s;   /* 0 = CEP_STATS_DAY_TTL_S */
};

/* cep_stats_create - an empty outage table; release with
 * cep_stats_destroy().  Returns 0 or -ENOMEM. */
int cep_stats_create(const struct cep_stats_config *cfg,
		     struct cep_stats **out);

/* cep_stats_destroy - accepts NULL. */
void cep_stats_destroy(struct cep_stats *s);

/*
 * cep_stats_note - remember inc as an outage when it has a predicted impact
 * (and is no exercise), or refresh what is remembered of it (last_seen, a
 * new prediction).  Call for every version handed out in a round before
 * cep_stats_record() is called for any of them.
 */
void cep_stats_note(struct cep_stats *s, const struct cep_incident *inc);

/*
 * cep_stats_attribution - whether inc is an IT failure attributed to a
 * remembered outage of another sector (the rule at the top).  Returns the
 * outage's sector (enum cep_sector, >= 0) or -1 when it is not.
 */
int cep_stats_attribution(const struct cep_stats *s,
			  const struct cep_incident *inc);

/*
 * cep_stats_record - queue the SADD and EXPIRE commands counting inc
 * through @cmd (cep_publisher_add_cmd's shape: the publisher, or ceptord's
 * outbox to its publisher thread), when inc is at version 1 and no
 * exercise; otherwise do nothing.  Returns the number of commands queued
 * (0 included), or what @cmd returned (-ENOMEM).
 */
typedef int cep_stats_cmd_fn(void *arg, const char *const *argv, size_t argc);
int cep_stats_record(struct cep_stats *s, cep_stats_cmd_fn *cmd, void *arg,
		     const struct cep_incident *inc);

/*
 * cep_stats_identity - the 16 hex digits (and NUL) an incident is counted
 * by, into buf[17].  Returns buf.
 */
char *cep_stats_identity(const char *site, const struct cep_incident *inc,
			 char buf[17]);

/*
 * cep_stats_bucket - the bucket name of time ns: "h:YYYYMMDDHH" (hour, 1)
 * or "d:YYYYMMDD" (day, 0), UTC, into buf (at least 16 bytes).
 * Returns buf.
 */
char *cep_stats_bucket(uint64_t ns, int hour, char *buf, size_t size);

#endif /* CEPTOR_PUBLISH_STATS_H */
