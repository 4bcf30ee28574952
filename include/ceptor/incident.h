/*
 * incident.h - incidents: signals about one entity joined, scored and
 * numbered, ready to share.
 *
 * The correlation core turns events into signals (signal.h).  This module
 * joins the signals about one entity into one incident, keeps its evidence (count, first and last seen, the distinct upstream
 * sources with their Admiralty grades, when each last spoke for or against
 * it), and computes a confidence, a score and a priority class.
 *
 * Keying.  A signal's key is its group key, or, for a detection (no group
 * key), its event's indicator when that is a network block (an indicator
 * list's CIDR entry), else its src_ip, else indicator, else for an
 * operator report that names its system's class and software
 * "reporter=R,system=CLASS/SOFTWARE", else report_id, else source
 * ("src_ip=192.0.2.7").  When that key names one entity, the entity, in
 * normal form, is what joins:
 *   src_ip=A, dst_ip=A, addr=A, indicator=A (A an address)  -> "ip:A"
 *                              (A re-formatted: dotted quad, RFC 5952)
 *   the same fields, or prefix=, with a block N/L           -> "prefix:N/L"
 *                              (host bits cleared; a /32 or /128 is "ip:")
 *   indicator=D (not an address)                            -> "indicator:d"
 *                              (lowercased)
 *   report_id=R                                             -> "report:R"
 *   reporter=R,system=S (either order)                      -> "system:S@R"
 * so that a sinkhole-feed rule, a flow rule and an operator report about
 * one C2 address, whatever their rule ids and whichever side the address
 * was on, are one incident.  Two lookups widen the join: an address with
 * no current incident of its own joins the current incident of the most
 * specific block holding it (the flows to one address of a listed /24 are
 * evidence about the /24); an operator-system signal joins its report's
 * incident when that report already has one (a first fragment that named
 * no system, then its update).  R is a pseudonym in ceptord (reporters are
 * replaced before detection, lib/pseudonym.h), so the entity never names
 * an operator.  Any other key (several fields, such as
 * "src_ip=A,dst_port=445", or a field that is no entity, such as
 * "source=tap" or "sector=...") keeps the incident per (rule id, key).
 * Exercise evidence (CEP_EV_EXERCISE) and real evidence never join: the
 * same entity has one incident of each.
 * Either way a signal joins the current incident of its entity (or rule
 * and key) only while that incident's last_seen is at most `horizon`
 * (cep_incidents_config, default 24 h of event time) before the signal's
 * last event; later evidence opens a new incident, and the old one is left
 * as it was.  An incident records the rules that contributed (rules[], at
 * most CEP_INCIDENT_MAX_RULES, later ones counted in dropped_rules) and
 * takes rule_id, title, key and type from the most severe of them (the
 * first to arrive among equals).
 *
 * Upstream.  Evidence is grouped by who originally said it, not by which
 * collector carried it: the upstream key of a signal is its event's
 * `reporter` (the operator who reported) when set, else its `source` (the
 * collector instance).  Two collectors relaying one reporter count once.
 *
 * Admiralty, two axes kept apart.  Per upstream u:
 *   rel_u  = the analyst's override for u (cep_incidents_set_reliability),
 *            else the best reliability its evidence carried (A best);
 *   cred_u = the best credibility its evidence carried (1 best), lifted by
 *            agreement: with n upstreams supporting the incident, n >= 3
 *            gives at most 1 ("confirmed by other sources"), n = 2 at most
 *            2, n = 1 leaves the evidence's own grade.  The incident's
 *            credibility is the best cred_u.
 *
 * Confidence, a probability in [0, 1]:
 *   w_u   = R(rel_u) * C(cred_u)                  (weight tables in incident.c)
 *   d(a)  = (1 + a / TAU)^-P                      (polynomial decay; TAU and
 *                                                  P below)
 *   e_u   = w_u * d(ref - last_u)                 (ref: the incident's
 *            last_seen, an event time; last_u: u's latest supporting event)
 *   k_u   = c_u * d(ref - clast_u)                (c_u: u's strongest
 *            contradiction, clast_u its latest)
 *   support       S = 1 - prod_u (1 - e_u)        (noisy-OR)
 *   contradiction X = 1 - prod_u (1 - k_u)
 *   confidence      = S * (1 - X)
 *   score    = S(severity) * confidence * K(sector) * B(sector)
 *   priority = P1 .. P5 by score thresholds (0.5, 0.3, 0.15, 0.05)
 *
 * K and B come from the sector interdependency graph (engine/core/sectors.h,
 * rules/sectors.yml) when the table has one (cep_incidents_config.sectors,
 * cep_incidents_set_sectors()), else from fixed tables in incident.c with
 * the same K (so unit tests and `ceptorctl rules test` need no file).
 *
 * Sector.  An incident takes the sector of the event that opened it.  While
 * it is "unknown" and a table has a graph, the first signal whose event
 * names a critical-system class (event field `system`) gives it the first
 * sector, in event.h order, that runs that class (cep_sectors_for_system()):
 * a report about "plant_control" with no sector is scored and shared as an
 * electricity incident (and, when that happens after its first
 * publication, predicted afresh).  The fixed tables know no systems.
 *
 * Predicted impact.  When an incident is first handed out, and whenever its
 * priority class rises after that, cep_incidents_collect() walks the graph
 * from its sector (cep_sectors_impact(): strongest path per sector,
 * attenuated by edge weight, cut below the file's threshold, sorted by
 * strength * K descending) and keeps the result in impact[]; it sets
 * `advise` on that version, which tells the publisher to send an advisory to
 * each predicted sector.  Other versions keep the last prediction (so every
 * version's document carries it) with `advise` clear.  Expected time of
 * arrival: first_seen + the path's delay.  Without a graph there is no
 * prediction, and only outages spill over: incidents of type dos,
 * power_loss, comm_loss, facility_damage, a disaster, or an operator's IT
 * failure (misconfig, defect, maintenance, outsourcing, mgmt_failure); a
 * scan, a C2 contact or a vulnerability predicts nothing.
 *
 * Hence: more independent upstreams never lower it and raise it strictly
 * when their evidence is no later than ref; one upstream repeating itself
 * stays at its own weight; older evidence weighs less, and a source's
 * decay restarts when it brings fresh evidence; a contradiction lowers it.
 * Everything is recomputed at each change from per-upstream state that is
 * itself order-free (best grades, latest times, strongest contradiction),
 * with upstreams kept sorted by key, so the result is a function of the set
 * of evidence, bit for bit, whatever the order of arrival (as long as the
 * incident has at most CEP_INCIDENT_MAX_SOURCES upstreams; later ones are
 * counted in dropped_sources and ignored; and as long as the evidence lies
 * within one horizon: which incident a signal joins depends on what came
 * before it).  Event time, never the wall
 * clock, drives the decay, so a replay gives the same numbers.
 *
 * Contradiction: a CEP_SIGNAL_CLEAR signal contradicts with the weight
 * R(rel) * C(cred) of its event, as its upstream; any other producer (an
 * operator's retraction, a feed's false-positive list) calls
 * cep_incidents_contradict() with its own weight.  A contradiction needs an
 * incident to contradict: one that arrives before any supporting signal is
 * dropped (the one exception to order-freedom).  The event.h vocabulary has
 * no "resolved" or "false alarm" trigger, so reports cannot contradict by
 * themselves yet.
 *
 * The JSON document (cep_incident_to_json) carries an "explanation": every
 * upstream with its grades, weight, age, decay, decayed weight and share of
 * the confidence (the shares sum to it; a contradiction's share is
 * negative).  The README, "How confidence and priority are computed", has
 * the tables.  The upstream key is written as it is: a reporter's name must
 * be replaced by its pseudonym (DESIGN.md section 6) before the document
 * leaves the site, which the sharing stage has to do.
 *
 * Identifiers carry the priority class at opening and the year of the first
 * event: "P2-2026-000042".  Numbers come from a per-class counter that is
 * saved to a state file before any message carrying a new number leaves, so
 * a restarted engine never reuses one (consumers drop repeats by
 * (id, version), so a reused id would hide a real incident).  When ids are
 * given out fast, each save reserves numbers ahead (up to 4,096 per class)
 * so that the fsync is not paid per publish round; the reserve is given
 * back at cep_incidents_destroy(), and after a crash its unused numbers are
 * skipped: numbers may have gaps, never repeats.
 *
 * Life: a new incident is "open"; every change bumps version and marks it
 * dirty; cep_incidents_collect() hands the dirty ones out for publishing,
 * at most once per call, so a burst of identical hits between two publish
 * rounds yields one message, not thousands.  An incident with no evidence
 * for `close_after` (default 6 h of event time) is "closed" by
 * cep_incidents_tick() and published once more; evidence within the
 * horizon reopens it ("updated", version bumped); a CEP_SIGNAL_CLEAR closes
 * it at once.
 *
 * Rate limit.  "Now" is the newest event time the table has seen (signals
 * and cep_incidents_tick()), never the wall clock, so a replay publishes
 * the same versions.  A changed incident is handed out again only when now
 * is at least its hold past its last publication; until then it stays dirty
 * and waits for a later collect.  The hold starts at `min_update_interval`
 * (default 1 s) and doubles at each republication that comes less than two
 * holds after the previous one (an incident that changes at every chance),
 * up to `max_update_interval` (default 60 s); a calmer republication resets
 * it.  A change of priority class, and closing or reopening, go out at the
 * next collect whatever the hold (and reset it).  So 100,000 identical hits
 * over 100 s of event time are one incident and about ten versions.
 * cep_incidents_flush() releases every held incident (at the end of input
 * and at shutdown, so the last state always goes out).
 *
 * Thread safety: a table belongs to one thread (the core's).  Incidents
 * handed out are borrowed: valid until the next call on the table.
 */
#ifndef CEPTOR_INCIDENT_H
#define CEPTOR_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceptor/signal.h"

enum cep_incident_status {
	CEP_INCIDENT_OPEN = 1,
	CEP_INCIDENT_UPDATED,
	CEP_INCIDENT_CLOSED,
};

#define CEP_INCIDENT_ID_MAX 24
#define CEP_INCIDENT_MAX_SOURCES 16
#define CEP_INCIDENT_UPSTREAM_MAX 40 /* sizeof cep_event.reporter */

/* The age decay d(a) = (1 + a / TAU)^-P: a source whose latest evidence is
 * one hour older than the incident's keeps 0.85 of its weight, twelve hours
 * 0.25, a day 0.11, a week 0.006. */
#define CEP_INCIDENT_DECAY_TAU_S 43200.0 /* seconds */
#define CEP_INCIDENT_DECAY_P 2.0

/*
 * One upstream's evidence, order-free: best grades, latest times, counts,
 * strongest contradiction.  rel_used and cred_used are what the last
 * rescore used (override and agreement applied).
 */
struct cep_incident_source {
	char name[CEP_INCIDENT_UPSTREAM_MAX]; /* upstream key: reporter, else
						 source */
	uint64_t last_ts;     /* event time of its latest supporting evidence */
	uint64_t contra_ts;   /* event time of its latest contradiction */
	double contra_weight; /* strongest contradiction, [0, 1]; 0: none */
	uint32_t signals;     /* supporting signals counted as evidence */
	uint32_t override_gen; /* private to incident.c: override cache stamp */
	uint16_t contradictions;
	uint8_t supports;     /* 1: it has given supporting evidence */
	uint8_t reliability;  /* best its evidence carried; 0 unset */
	uint8_t credibility;  /* best its evidence carried; 0 unset */
	uint8_t override_rel; /* private to incident.c: cached override */
	uint8_t rel_used;     /* after the override table */
	uint8_t cred_used;    /* after agreement */
	uint8_t reporter;     /* the key is an operator: published as it is
				 when it is a keyed pseudonym ("op-" + hex,
				 which ceptord makes of every reporter), else
				 as "reporter-N" */
};

/* A rule that contributed to an incident. */
#define CEP_INCIDENT_MAX_RULES 8
struct cep_incident_rule {
	char id[CEP_RULE_ID_MAX];
	char title[CEP_RULE_TITLE_MAX];
	char key[CEP_SIGNAL_KEY_MAX]; /* its key for this incident */
	uint64_t signals;     /* its signals counted as evidence */
	uint8_t level;        /* enum cep_level */
	uint8_t type;         /* enum cep_type it detects (else its first
				 event's) */
};

/* A sector an incident is predicted to spread to (see "Predicted impact"). */
struct cep_incident_impact {
	uint8_t sector;       /* enum cep_sector */
	uint8_t via;          /* the sector before it on the strongest path */
	uint8_t hops;         /* edges on that path */
	uint32_t delay_s;     /* the path's delay; expected at first_seen + it */
	double strength;      /* product of the path's weights */
	double impact;        /* strength * K(sector) */
};

/* cep_incident.red_to holds a set once RED evidence arrived. */
#define CEP_INCIDENT_RED_SET 0x8000u

/* At most every sector but the incident's own and "unknown". */
#define CEP_INCIDENT_IMPACT_MAX (CEP_SECTOR_COUNT - 2)

struct cep_incident {
	char id[CEP_INCIDENT_ID_MAX];
	char rule_id[CEP_RULE_ID_MAX];
	char title[CEP_RULE_TITLE_MAX];
	char key[CEP_SIGNAL_KEY_MAX];
	/* The normal form of the entity ("ip:192.0.2.7", "indicator:...",
	 * "report:..."); "" when the incident is keyed by (rule_id, key). */
	char entity[CEP_SIGNAL_KEY_MAX];
	uint32_t version;     /* 1 at the first publication */
	uint8_t status;       /* enum cep_incident_status */
	uint8_t priority;     /* 1..5 (P1 is the most important) */
	uint8_t severity;     /* enum cep_level */
	uint8_t sector;       /* enum cep_sector */
	uint8_t type;         /* enum cep_type */
	uint8_t tlp;          /* strictest of the evidence's markings */
	uint8_t entity_af;    /* the entity's address, when it has one */
	uint8_t exercise;     /* produced by an exercise: exercise streams */
	uint8_t system;       /* enum cep_system: the first its evidence named */
	uint8_t advised;      /* the priority of the last prediction; 0: none */
	uint8_t advise;       /* this version carries a new prediction: the
				 publisher sends advisories for impact[] */
	uint8_t nimpact;      /* entries in impact[] */
	uint8_t entity_ip[16];
	uint8_t credibility;  /* derived: best credibility after agreement */
	uint8_t agreeing;     /* upstreams with supporting evidence */
	uint16_t dropped_sources; /* signals from upstreams past the limit */
	uint16_t red_to;      /* with CEP_INCIDENT_RED_SET: the sectors (bit s)
				 every piece of its TLP:RED evidence may go to
				 (each piece's named recipients, else its own
				 sector; the intersection over the pieces) */
	double confidence;    /* [0, 1]: support * (1 - contradiction) */
	double support;       /* noisy-OR of the decayed weights */
	double contradiction; /* noisy-OR of the decayed contradictions */
	double score;         /* severity x confidence x criticality x blast */
	uint64_t first_seen;  /* event time, ns */
	uint64_t last_seen;   /* event time, ns: the decay's reference */
	uint64_t count;       /* the largest count a signal reported */
	uint64_t evidence;    /* signals joined */
	uint32_t nsources;    /* upstreams, for or against, sorted by name */
	struct cep_incident_source sources[CEP_INCIDENT_MAX_SOURCES];
	struct cep_incident_impact impact[CEP_INCIDENT_IMPACT_MAX];
	struct cep_incident_rule rules[CEP_INCIDENT_MAX_RULES]; /* in order of
				 arrival */
	uint8_t nrules;
	uint8_t lead;         /* rules[lead]: the most severe, first among
				 equals; gives rule_id, title, key, type */
	uint16_t dropped_rules; /* signals of rules past the limit */
	bool dirty;           /* changed since last collected */
	/* Private to incident.c: the rate limit and the entity index. */
	bool superseded;      /* a newer incident holds its entity or key */
	uint8_t pub_priority; /* class at the last publication */
	uint8_t pub_closed;   /* closed at the last publication */
	uint64_t pub_ts;      /* the table's now at the last publication */
	uint64_t hold_ns;     /* the current hold */
	bool held;            /* dirty and waiting for its hold to end */
	uint64_t dirty_seq;   /* when it became dirty: the order of hand-out */
};

struct cep_incidents;
struct cep_sectors; /* engine/core/sectors.h */

struct cep_incidents_config {
	const char *state_path; /* id counters; NULL: start at 1, warn */
	/* The sector graph for K, B and impact; borrowed, must outlive the
	 * table or be replaced first (cep_incidents_set_sectors()).  NULL:
	 * the fixed tables, no prediction. */
	const struct cep_sectors *sectors;
	/* Event-time spans in ns; 0 takes the default (see the top). */
	uint64_t horizon_ns;             /* 24 h: joining window */
	uint64_t close_after_ns;         /* 6 h: quiet period before closing */
	uint64_t min_update_interval_ns; /* 1 s: the hold, at first */
	uint64_t max_update_interval_ns; /* 60 s: the longest hold */
};

#define CEP_INCIDENT_HORIZON_NS (24ull * 3600 * 1000000000)
#define CEP_INCIDENT_CLOSE_AFTER_NS (6ull * 3600 * 1000000000)
#define CEP_INCIDENT_MIN_UPDATE_NS 1000000000ull
#define CEP_INCIDENT_MAX_UPDATE_NS (60ull * 1000000000)

/*
 * cep_incidents_create - an empty table.  Reads the id counters from
 * cfg->state_path when the file exists.  Returns 0, -ENOMEM, or
 * -CEP_EMALFORMED / -errno when the state file exists but cannot be read
 * (refusing to start is better than reusing ids).
 */
int cep_incidents_create(const struct cep_incidents_config *cfg,
			 struct cep_incidents **out);

/* cep_incidents_destroy - free the table; accepts NULL. */
void cep_incidents_destroy(struct cep_incidents *t);

/*
 * cep_incidents_signal - join a signal to its incident, opening one when
 * none matches.  The signal's upstream (its event's reporter, else source)
 * joins the incident's upstreams or refreshes its entry.  A
 * CEP_SIGNAL_CLEAR signal (alert_clear) closes the incident its alert
 * opened and contradicts it as its upstream, adding no evidence, and is
 * ignored when there is none; the next alert for it reopens it as updated.
 * The signal's time moves the table's event clock (see "Rate limit").
 * Runs in O(CEP_INCIDENT_MAX_SOURCES) and allocates only when it opens an
 * incident.  Returns 0 or -ENOMEM.
 */
int cep_incidents_signal(struct cep_incidents *t, const struct cep_signal *s);

/*
 * cep_incidents_contradict - record that upstream says incident (rule_id,
 * key) is not so (an incident keyed by its entity is found by the entity
 * of key when rule_id is one of its rules[]), with strength weight in [0, 1], as of event time ts.  Per
 * upstream the strongest weight and the latest time count, so repeating a
 * contradiction does nothing; it decays with age like support does.  key is
 * the incident's key (cep_incident.key).  Marks the incident changed; does
 * not close it.  Returns 0, -ENOENT when there is no such incident,
 * -EINVAL when weight is outside [0, 1], or -ENOSPC when the incident
 * already has CEP_INCIDENT_MAX_SOURCES other upstreams (the contradiction
 * is dropped and counted).
 */
int cep_incidents_contradict(struct cep_incidents *t, const char *rule_id,
			     const char *key, const char *upstream,
			     double weight, uint64_t ts);

/*
 * cep_incidents_set_reliability - override the reliability of an upstream
 * (a reporter's or a collector's name) with grade (CEP_REL_A..CEP_REL_F),
 * or remove the override with CEP_REL_NONE.  This is the hook for analyst
 * feedback (an incident marked confirmed or false positive moves the grade
 * of the upstreams that contributed).  It takes effect in each incident at
 * its next change; it republishes nothing by itself.  Returns 0, -EINVAL
 * (grade out of range), -CEP_ETOOLONG (name does not fit an upstream key) or
 * -ENOMEM.
 */
int cep_incidents_set_reliability(struct cep_incidents *t,
				  const char *upstream, int grade);

/*
 * cep_incidents_reliability - the analyst's override for upstream
 * (CEP_REL_A..CEP_REL_F), or CEP_REL_NONE when it has none.
 * cep_incidents_override - the i-th override (any order; i from 0): its
 * grade, with *name borrowed until the next change of overrides, or
 * CEP_REL_NONE past the last (to save them).
 */
int cep_incidents_reliability(const struct cep_incidents *t,
			      const char *upstream);
int cep_incidents_override(const struct cep_incidents *t, size_t i,
			   const char **name);

/*
 * cep_rel_step - the Admiralty reliability one grade better (dir < 0: C
 * gives B, never past A) or worse (dir > 0: C gives D, never past E).  A
 * grade that is not A..E (unset, or F "cannot be judged") is returned as
 * it is: there is nothing to move it from.
 */
int cep_rel_step(int grade, int dir);

/*
 * cep_incidents_find_id - the incident with identifier id (as published,
 * "P2-2026-000001"), or NULL when the table has none (ids are given at the
 * first collect; a restarted engine starts with an empty table).  O(n).
 * Borrowed, like collected incidents.
 */
struct cep_incident *cep_incidents_find_id(struct cep_incidents *t,
					   const char *id);

/*
 * cep_incidents_close_id - close the incident with identifier id (an
 * analyst marked it a false positive): status closed, rescored with the
 * current overrides, marked changed so the next collect republishes it;
 * later evidence within the horizon reopens it as usual.  Returns 0,
 * -ENOENT (no such incident) or -ENOMEM.
 */
int cep_incidents_close_id(struct cep_incidents *t, const char *id);

/*
 * cep_incidents_collect - hand out up to max incidents that changed since
 * the last call and that the rate limit lets go (see the top: held ones
 * stay changed for a later call), bumping their version and clearing their
 * dirty mark.  Id
 * counters are saved (and fsync'd) before it returns any new id.  Returns
 * the number written to out (borrowed pointers, valid until the next call on
 * the table), or -errno when the counters could not be saved (nothing is
 * handed out then).
 */
int cep_incidents_collect(struct cep_incidents *t, struct cep_incident **out,
			  size_t max);

/*
 * cep_incidents_tick - the table's event clock moves to now (an event time,
 * ns; an earlier one is ignored), and every incident that is not closed and
 * whose last_seen is more than close_after before now is closed and marked
 * changed: the next cep_incidents_collect() hands it out (once; it stays in
 * the table, and evidence within the horizon reopens it).  The engine calls
 * it before each publish round with its event time, so that closing and
 * held updates go on while no signal comes.  Costs O(incidents) when some
 * incident may be due to close, O(1) otherwise.  Returns the number closed,
 * or -ENOMEM (marking one changed failed; the rest wait for the next tick).
 */
int cep_incidents_tick(struct cep_incidents *t, uint64_t now);

/*
 * cep_incidents_due - whether cep_incidents_collect() would hand out
 * anything: a changed incident that the rate limit lets go, or a held one
 * whose hold has ended by @now (an event time; the table's own clock when
 * that is later).  Closing is not asked about: cep_incidents_tick() walks
 * the table to close, so the engine leaves closes to its rounds at
 * publish_interval_ms.  O(1): the engine asks after every batch of events,
 * and runs a publish round only when the answer is yes.  It may say yes
 * when a round then finds nothing (a stale entry), never no when a round
 * would hand out a change.
 */
bool cep_incidents_due(const struct cep_incidents *t, uint64_t now);

/*
 * cep_incidents_flush - let the next cep_incidents_collect() calls hand out
 * every changed incident, held ones included, until none is left (end of
 * input, shutdown).  Changes nothing else.
 */
void cep_incidents_flush(struct cep_incidents *t);

/*
 * cep_incidents_set_sectors - score with graph @g from now on (NULL: the
 * fixed tables).  Borrows g: it must stay alive until the table is
 * destroyed or another graph is set.  Open incidents keep their score and
 * prediction until their next change.  Call on the table's thread (the
 * core's, between two rounds on reload).
 */
void cep_incidents_set_sectors(struct cep_incidents *t,
			       const struct cep_sectors *g);

/* cep_incidents_count - incidents in the table. */
size_t cep_incidents_count(const struct cep_incidents *t);

/*
 * cep_incident_stream - the Redis stream key of the incident's own sector,
 * "ceptor:{SECTOR}:incidents" ("ceptor-exercise:..." for exercises), into
 * buf.  cep_incident_council_stream gives the council summary stream.
 */
#define CEP_STREAM_KEY_MAX 64
void cep_incident_stream(const struct cep_incident *inc, char *buf,
			 size_t size);
void cep_incident_council_stream(const struct cep_incident *inc, char *buf,
				 size_t size);

/*
 * cep_incident_sector_stream - the incidents stream of another sector
 * (sector, enum cep_sector) with the incident's prefix; a predicted sector
 * gets the incident there too (DESIGN.md section 6).
 * cep_incident_advisory_stream - "ceptor:{SECTOR}:advisories" (or
 * "ceptor-exercise:...") of the advised sector.
 */
void cep_incident_sector_stream(const struct cep_incident *inc, int sector,
				char *buf, size_t size);
void cep_incident_advisory_stream(const struct cep_incident *inc, int sector,
				  char *buf, size_t size);

/*
 * cep_incident_to_json - the whole incident as one JSON object.  When stream
 * is not NULL it is written first as "stream" (the --stdout form).  Returns
 * the length or -ENOSPC.  The document includes "explanation" (see the top
 * of this file).  CEP_INCIDENT_JSON_MAX is always enough: every text field
 * escaped at its worst (6 bytes per byte), all sources and their
 * explanation come to under 24 KiB (a unit test writes that worst case).
 */
#define CEP_INCIDENT_JSON_MAX 32768
int cep_incident_to_json(const struct cep_incident *inc, const char *site,
			 const char *stream, char *buf, size_t size);

/*
 * cep_incident_fields - the flat fields of a stream message (DESIGN.md
 * section 9): id, version, status, priority, confidence, severity, sector,
 * title, tlp, first_seen, last_seen, sources, evidence, json.  Fills fv with
 * field/value pointer pairs into the caller's storage and returns the
 * number of pointers (2 per field).  json must be the incident's JSON.
 */
#define CEP_INCIDENT_FIELDS 14
struct cep_incident_fieldbuf {
	char version[16], priority[4], confidence[16], first_seen[40],
		last_seen[40], sources[16], evidence[24];
};
size_t cep_incident_fields(const struct cep_incident *inc, const char *json,
			   struct cep_incident_fieldbuf *fb,
			   const char *fv[2 * CEP_INCIDENT_FIELDS]);

/*
 * cep_incident_advisory_json - the advisory for impact entry @k of the
 * incident as one JSON object: kind "advisory", id and version of the
 * incident, sector (the advised one), source_sector, strength, impact,
 * delay_s, expected_at (RFC 3339, first_seen + delay_s), via, hops,
 * priority, title, tlp, type, first_seen, site, exercise when set.  With
 * stream not NULL it is written first (the --stdout form).  Returns the
 * length or -ENOSPC; CEP_ADVISORY_JSON_MAX is always enough.
 */
#define CEP_ADVISORY_JSON_MAX 2048
int cep_incident_advisory_json(const struct cep_incident *inc, size_t k,
			       const char *site, const char *stream, char *buf,
			       size_t size);

/*
 * cep_incident_advisory_fields - the flat fields of an advisory message:
 * id, version, sector (the advised one), source_sector, strength,
 * expected_at, priority, title, tlp, json (the advisory's JSON).  As
 * cep_incident_fields(): pointer pairs into fb and the caller's strings.
 */
#define CEP_ADVISORY_FIELDS 10
struct cep_advisory_fieldbuf {
	char version[16], priority[4], strength[16], expected_at[40];
};
size_t cep_incident_advisory_fields(const struct cep_incident *inc, size_t k,
				    const char *json,
				    struct cep_advisory_fieldbuf *fb,
				    const char *fv[2 * CEP_ADVISORY_FIELDS]);

/* Names of the incident vocabulary. */
const char *cep_incident_status_name(int status);

/* cep_incident_priority_of - the class 1..5 of a score (thresholds above). */
int cep_incident_priority_of(double score);

#endif /* CEPTOR_INCIDENT_H */
