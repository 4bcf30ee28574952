/*
 * alert.h - the second channel: P1 and P2 incidents also leave through
 * syslog and/or a configured command (a mailer, a pager gateway), so that
 * a Redis outage never silences the most important ones (issue 6,
 * DESIGN.md section 6).
 *
 *   core thread                       alert thread
 *   cep_alert_post(inc, json) --->  [ queue, ALERT_QUEUE_MAX ] ---> syslog(3)
 *   (copies, never blocks; a full                                  /bin/sh -c CMD
 *    queue drops the oldest and                                    (the JSON on
 *    counts it)                                                     its stdin)
 *
 * Every version of an incident whose class is P1 .. `alert_priority`
 * (default P2) is sent, exercises excepted (they must never page anyone).
 * The command runs once per message with the incident's JSON document
 * (one line) on its standard input and CEPTOR_ID, CEPTOR_VERSION,
 * CEPTOR_PRIORITY, CEPTOR_SECTOR in its environment; a command that runs
 * longer than `alert_timeout` is killed.  Its failures are counted and
 * logged (one line per failure, not per message after the first ten).
 * The syslog line is "PRIORITY ID vVERSION STATUS SECTOR: TITLE
 * (confidence C)" at LOG_ALERT for P1, LOG_CRIT for P2 (facility
 * LOG_DAEMON).
 *
 * Thread safety: cep_alert_post(), cep_alert_drain() and
 * cep_alert_stats() from one thread (the core); the alert thread is private.  cep_alert_destroy() sends what
 * is queued (bounded by the command timeout each) before it returns.
 */
#ifndef CEPTOR_ALERT_H
#define CEPTOR_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "ceptor/incident.h"

#define CEP_ALERT_QUEUE_MAX 1024

struct cep_alert_config {
	bool syslog;              /* send to syslog(3) */
	const char *command;      /* run through /bin/sh -c; NULL: none */
	unsigned max_priority;    /* 1..5: P1 .. this class; 0: 2 */
	unsigned timeout_ms;      /* per command; 0: 10000 */
};

struct cep_alert_stats {
	uint64_t sent;     /* messages handed to every configured channel */
	uint64_t failed;   /* command runs that failed or timed out */
	uint64_t dropped;  /* messages lost to a full queue */
};

struct cep_alert;

/* cep_alert_create - start the alert thread; @cfg is copied.  Returns 0,
 * -ENOMEM, or a negative errno from pthread_create. */
int cep_alert_create(const struct cep_alert_config *cfg, struct cep_alert **out);

/* cep_alert_destroy - send what is queued, stop the thread, free.  NULL is
 * a no-op. */
void cep_alert_destroy(struct cep_alert *a);

/* cep_alert_post - queue @inc (its class and fields are copied, with the
 * JSON document @json) when its class is within the configured range and
 * it is no exercise.  Returns true when queued. */
bool cep_alert_post(struct cep_alert *a, const struct cep_incident *inc,
		    const char *json);

/* cep_alert_drain - wait until every queued message has been sent (each
 * bounded by the command timeout).  NULL is a no-op. */
void cep_alert_drain(struct cep_alert *a);

void cep_alert_stats(struct cep_alert *a, struct cep_alert_stats *out);

#endif /* CEPTOR_ALERT_H */
