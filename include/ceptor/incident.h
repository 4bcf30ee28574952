/*
 * incident.h - incidents: signals about one entity joined, scored and
 * numbered, ready to share.
 *
 * The correlation core turns events into signals (signal.h).  This module
 * joins the signals that share (rule id, group key) into one incident (a
 * detection signal has no group key: its event's src_ip, else indicator,
 * else report_id, else source stands in),
 * keeps its evidence (count, first and last seen, the distinct sources with
 * their Admiralty grades), and computes:
 *
 *   confidence = 1 - prod over distinct sources s of (1 - R(rel_s) * C(cred_s))
 *                (noisy-OR: independent sources raise it, a source repeating
 *                itself does not; bounded in [0, 1])
 *   score      = S(severity) * confidence * K(sector) * B(sector)
 *                (severity, confidence, sector criticality, blast radius)
 *   priority   = P1 .. P5 by score thresholds (0.5, 0.3, 0.15, 0.05)
 *
 * The weight tables R, C, S, K, B are in incident.c and in the README.
 * The full model (decay with age, contradiction, the interdependency graph
 * from rules/sectors.yml) replaces K and B with the analysis issue; the
 * formula's shape stays.
 *
 * Identifiers carry the priority class at opening and the year of the first
 * event: "P2-2026-000042".  Numbers come from a per-class counter that is
 * saved to a state file before any message carrying a new number leaves, so
 * a restarted engine never reuses one (consumers drop repeats by
 * (id, version), so a reused id would hide a real incident).
 *
 * Life: a new incident is "open"; every change bumps version and marks it
 * dirty; cep_incidents_collect() hands the dirty ones out for publishing,
 * at most once per call, so a burst of identical hits between two publish
 * rounds yields one message, not thousands.
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

struct cep_incident_source {
	char name[24];
	uint8_t reliability;
	uint8_t credibility;
	uint32_t signals;    /* signals this source contributed */
};

struct cep_incident {
	char id[CEP_INCIDENT_ID_MAX];
	char rule_id[CEP_RULE_ID_MAX];
	char title[CEP_RULE_TITLE_MAX];
	char key[CEP_SIGNAL_KEY_MAX];
	uint32_t version;     /* 1 at the first publication */
	uint8_t status;       /* enum cep_incident_status */
	uint8_t priority;     /* 1..5 (P1 is the most important) */
	uint8_t severity;     /* enum cep_level */
	uint8_t sector;       /* enum cep_sector */
	uint8_t type;         /* enum cep_type */
	uint8_t tlp;          /* strictest of the evidence's markings */
	uint8_t entity_af;    /* the entity's address, when it has one */
	uint8_t exercise;     /* produced by an exercise: exercise streams */
	uint8_t entity_ip[16];
	double confidence;    /* [0, 1] */
	double score;         /* severity x confidence x criticality x blast */
	uint64_t first_seen;  /* event time, ns */
	uint64_t last_seen;
	uint64_t count;       /* the largest count a signal reported */
	uint64_t evidence;    /* signals joined */
	uint32_t nsources;
	struct cep_incident_source sources[CEP_INCIDENT_MAX_SOURCES];
	bool dirty;           /* changed since last collected */
};

struct cep_incidents;

struct cep_incidents_config {
	const char *state_path; /* id counters; NULL: start at 1, warn */
};

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
 * none matches.  A CEP_SIGNAL_CLEAR signal (alert_clear) closes the
 * incident its alert opened, adding no evidence, and is ignored when there
 * is none; the next alert for it reopens it as updated.  Returns 0 or
 * -ENOMEM.
 */
int cep_incidents_signal(struct cep_incidents *t, const struct cep_signal *s);

/*
 * cep_incidents_collect - hand out up to max incidents that changed since
 * the last call, bumping their version and clearing their dirty mark.  Id
 * counters are saved (and fsync'd) before it returns any new id.  Returns
 * the number written to out (borrowed pointers, valid until the next call on
 * the table), or -errno when the counters could not be saved (nothing is
 * handed out then).
 */
int cep_incidents_collect(struct cep_incidents *t, struct cep_incident **out,
			  size_t max);

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
 * cep_incident_to_json - the whole incident as one JSON object.  When stream
 * is not NULL it is written first as "stream" (the --stdout form).  Returns
 * the length or -ENOSPC; CEP_INCIDENT_JSON_MAX is always enough: every text
 * field escaped at its worst (6 bytes per byte) and all sources come to
 * under 12 KiB.
 */
#define CEP_INCIDENT_JSON_MAX 16384
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

/* Names of the incident vocabulary. */
const char *cep_incident_status_name(int status);

/* cep_incident_priority_of - the class 1..5 of a score (thresholds above). */
int cep_incident_priority_of(double score);

#endif /* CEPTOR_INCIDENT_H */
