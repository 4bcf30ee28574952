/*
 * signal.h - what the detection stage hands to the incident stage.
 *
 * A signal is one piece of evidence produced by the correlation core: a
 * detection rule that matched an event on its own, or a correlation rule
 * whose window condition became true for one group (kind ALERT), whose
 * expected follow-up event did not come (ABSENCE), or whose alert ended
 * (CLEAR); `corr` says which type of correlation it was.  It is a plain
 * value that owns copies of everything it names, so it stays valid after
 * the rule set it came from has been swapped out and freed by RCU: nothing
 * in it points into a rule set.
 *
 * The incident stage (incident.h) joins signals about one entity into one
 * incident, across rules: key is the rule's group-by values, for example
 * "src_ip=192.0.2.7", or "" for a detection rule without grouping, in which
 * case the event's source address (else indicator, report id) is the
 * entity; keys of several fields stay per (rule_id, key).
 *
 * Thread safety: plain values; the producer and consumer hand them over by
 * copy.
 */
#ifndef CEPTOR_SIGNAL_H
#define CEPTOR_SIGNAL_H

#include <stdint.h>

#include "ceptor/event.h"

/* Sigma levels, in the order of their severity. */
enum cep_level {
	CEP_LEVEL_NONE = 0,
	CEP_LEVEL_INFORMATIONAL,
	CEP_LEVEL_LOW,
	CEP_LEVEL_MEDIUM,
	CEP_LEVEL_HIGH,
	CEP_LEVEL_CRITICAL,
	CEP_LEVEL_COUNT
};

/* Where the signal came from. */
enum cep_signal_origin {
	CEP_SIGNAL_DETECTION = 1, /* a detection rule matched one event */
	CEP_SIGNAL_CORRELATION,   /* a correlation condition became true */
};

/*
 * What a correlation signal means (cep_signal.kind).  ALERT is 0 so that
 * detection signals, and every consumer written before kinds existed, read
 * a plain "the condition holds".  ABSENCE and CLEAR are new evidence of a
 * different sort: an expected event did not come, and an alert_clear
 * condition that had alerted has dropped back to its clear level (the
 * incident it raised may be resolved).
 */
enum cep_signal_kind {
	CEP_SIGNAL_ALERT = 0, /* the condition became true (or, final: its
				 window closed with a larger count) */
	CEP_SIGNAL_ABSENCE,   /* absence: the window of an A ended without a B */
	CEP_SIGNAL_CLEAR,     /* alert_clear: the count fell to `clear` */
};

/* The correlation type of a rule (cep_signal.corr); 0 for a detection. */
enum cep_corr_type {
	CEP_CORR_NONE = 0,
	CEP_CORR_VALUE_COUNT,
	CEP_CORR_EVENT_COUNT,
	CEP_CORR_VALUE_SUM,
	CEP_CORR_VALUE_AVG,
	CEP_CORR_TEMPORAL,
	CEP_CORR_TEMPORAL_ORDERED,
	CEP_CORR_ABSENCE,        /* ceptor: A not followed by B within T */
	CEP_CORR_ALERT_CLEAR,    /* ceptor: alert at one count, clear at another */
	CEP_CORR_BACKOFF,        /* ceptor: alert at N, N*M, N*M^2, ... */
	CEP_CORR_CORROBORATION,  /* ceptor: K distinct sources, one entity */
	CEP_CORR_COUNT
};

#define CEP_RULE_ID_MAX 64
#define CEP_RULE_TITLE_MAX 128
#define CEP_SIGNAL_KEY_MAX 128

struct cep_signal {
	char rule_id[CEP_RULE_ID_MAX];     /* the rule's `id` (or `name`) */
	char title[CEP_RULE_TITLE_MAX];    /* the rule's `title` */
	char key[CEP_SIGNAL_KEY_MAX];      /* group-by values, "f=v,f2=v2" */
	uint8_t origin;   /* enum cep_signal_origin */
	uint8_t level;    /* enum cep_level of the rule */
	uint8_t type;     /* enum cep_type the rule says it detects, or 0 */
	uint8_t final;    /* 1: the window closed; count is final */
	uint8_t kind;     /* enum cep_signal_kind; ALERT for a detection */
	uint8_t corr;     /* enum cep_corr_type of the rule; 0: detection */
	uint8_t tlp_lower; /* the rule's `tlp_lower_to` (enum cep_tlp), or 0:
			      the most permissive marking the incident stage
			      may give this evidence (never below the
			      event's own RED) */
	uint8_t pad;
	uint64_t first_ts; /* event time of the first contributing event */
	uint64_t last_ts;  /* event time of the last contributing event */
	uint64_t count;    /* what the condition tested, by corr type:
			      event_count, alert_clear, backoff: events in
			      the window; value_count, corroboration: distinct
			      values; value_sum: the sum; value_avg: the
			      average, rounded down; temporal: distinct rules
			      seen; temporal_ordered: rules seen in order;
			      absence: A events left unanswered; CLEAR: the
			      count it fell to.  1 for a detection */
	struct cep_event ev; /* the event that made the condition true */
};

const char *cep_level_name(int level);
int cep_level_parse(const char *s);

#endif /* CEPTOR_SIGNAL_H */
