/*
 * api.h - the JSON documents ceptor-web serves: the ranked open incidents
 * (from Redis), the sector graph with the incidents' spread (from the
 * sectors file and the incidents), and collector health (from ceptord's
 * status document).  web/README.md shows each document.
 *
 * Incidents.  ceptord publishes every version of an incident to the
 * streams ceptor:{SECTOR}:incidents of its own sector and of each sector
 * its prediction names (DESIGN.md section 9), at least once.  This reads
 * the newest CEP_WEBAPI_SCAN messages of each sector's stream (and
 * "unknown"), the way `ceptorctl tail` does, keeps the highest version of
 * each id, drops ids whose latest version is closed, and ranks the rest:
 * priority class (P1 first), then score, then confidence, then the most
 * recently seen, then id.  The score, the type and the predicted impact
 * come from the message's `json` document; the other columns from its
 * flat fields.  The result is kept for CEP_WEBAPI_CACHE_MS, so that many
 * browsers polling cost Redis one read.
 *
 * Graph.  Every sector of the sectors file is a node (criticality K, blast
 * radius B), every edge as loaded (weight, delay).  A sector is "hit" when
 * an open incident is in it, "predicted" when it is not hit and an open
 * incident's prediction names it; with the number of incidents behind each.
 * An edge is "spread" when it lies on the strongest path (its `via`) by
 * which an open incident's prediction reaches a sector.
 *
 * Status.  SPOOL/status.json (engine/loop.h has the schema) cut to what
 * the page shows: the engine's state and counters, and per input the name,
 * kind, state, events (records enqueued), drops (ring drops plus the
 * producer's kernel and interface drops), ring fill and liveness.  The
 * document is "stale" when it is more than CEP_WEBAPI_STALE_MS old; then
 * no input is alive, whatever the file says.
 *
 * Failures are answers, not crashes: Redis unreachable or a status file
 * missing gives 503 with {"error": "..."} naming what failed; the graph
 * still answers without incidents (with "incidents_error").
 *
 * Thread safety: one struct cep_webapi belongs to one thread (the HTTP
 * server's).  Redis is read with a blocking hiredis connection, kept open
 * between requests and opened again after a failure, with a 1 s connect
 * and 2 s command timeout: a dead Redis delays an answer by that much.
 */
#ifndef CEPTOR_WEB_API_H
#define CEPTOR_WEB_API_H

#include "web/http.h"

#define CEP_WEBAPI_SCAN 2000       /* newest messages read per stream */
#define CEP_WEBAPI_CACHE_MS 500    /* incidents reused for this long */
#define CEP_WEBAPI_STALE_MS 5000   /* status older than this: stale */
#define CEP_WEBAPI_MAX_SHOWN 500   /* incidents listed at most */

struct cep_sectors;
struct cep_webapi;

/*
 * cep_webapi_create - the documents' state.
 * @redis_url: "redis://..." (publish.h's parser), borrowed for the call.
 * @spool: ceptord's state directory (status.json in it); borrowed, must
 * outlive the api.
 * @graph: the sector graph; borrowed, must outlive the api.
 * @err: a one-line reason on failure.
 * Returns 0 and *out (release with cep_webapi_destroy()); -CEP_ECONFIG
 * for a bad URL; -ENOMEM.  It does not connect: Redis may come later.
 */
int cep_webapi_create(const char *redis_url, const char *spool,
		      const struct cep_sectors *graph,
		      struct cep_webapi **out, char *err, size_t errsize);

/* cep_webapi_redis_name - "HOST:PORT" of the Redis URL, without its
 * credentials (for messages); borrowed, valid while the api lives. */
const char *cep_webapi_redis_name(const struct cep_webapi *a);

/* cep_webapi_destroy - close Redis, free; accepts NULL. */
void cep_webapi_destroy(struct cep_webapi *a);

/*
 * The three documents, written into *res (status, content type, owned
 * body): 200 with the document, or 503 with {"error": "..."}.
 */
void cep_webapi_incidents(struct cep_webapi *a, struct cep_http_response *res);
void cep_webapi_graph(struct cep_webapi *a, struct cep_http_response *res);
void cep_webapi_status(struct cep_webapi *a, struct cep_http_response *res);

#endif /* CEPTOR_WEB_API_H */
