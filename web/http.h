/*
 * http.h - a small HTTP/1.1 server for ceptor-web: one thread, one poll()
 * loop, GET and HEAD only, one request per connection.
 *
 * It serves a handful of documents to analysts' browsers on a trusted
 * network (by default loopback only), so it is built for being correct and
 * hard to wedge rather than for speed:
 *
 *   accept -> read the request head into a fixed 8 KiB buffer
 *          -> parse the request line; headers are read and ignored
 *          -> handler(method, path) fills a response
 *          -> write "HTTP/1.1 status", Content-Type, Content-Length,
 *             Cache-Control: no-store, X-Content-Type-Options: nosniff,
 *             Content-Security-Policy, Connection: close, then the body
 *             (none for HEAD)
 *          -> close
 *
 * Limits that keep one client from holding the server: a request head
 * larger than CEP_HTTP_HEAD_MAX gets 431 and the connection closes; a
 * connection that has not sent its whole head, or not taken its whole
 * response, within CEP_HTTP_TIMEOUT_MS is closed; at most CEP_HTTP_CONN_MAX
 * connections are served at once and further ones wait in the listen
 * backlog.  Malformed request lines get 400, methods other than GET and
 * HEAD get 405 (with Allow), request targets that are not an absolute path
 * get 400.  The handler decides 200, 404 and the rest.
 *
 * Thread safety: a server belongs to the thread that created it.  The
 * handler runs on that thread, one request at a time; while it runs (for
 * instance waiting on Redis) no other connection is served.
 */
#ifndef CEPTOR_WEB_HTTP_H
#define CEPTOR_WEB_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define CEP_HTTP_HEAD_MAX 8192     /* request line + headers, bytes */
#define CEP_HTTP_TIMEOUT_MS 10000  /* per connection, accept to close */
#define CEP_HTTP_CONN_MAX 64       /* connections served at once */

/* What the handler is asked for.  Both strings are borrowed from the
 * server; valid for the handler call. */
struct cep_http_request {
	const char *method; /* "GET" or "HEAD" */
	const char *path;   /* the target's path, from '/', query cut off */
	const char *query;  /* after '?', or "" */
};

/*
 * What the handler answers.  The server sets status 500, an empty body and
 * no content type before the call.  The body is either borrowed (body,
 * which must stay valid until the server is destroyed: static data) or
 * owned (set owned to a malloc'd buffer and body to it; the server frees
 * it once sent).
 */
struct cep_http_response {
	int status;
	const char *content_type;
	const char *body;
	size_t len;
	char *owned;
};

typedef void (*cep_http_handler_fn)(void *arg,
				    const struct cep_http_request *req,
				    struct cep_http_response *res);

struct cep_http_server;

/*
 * cep_http_parse_listen - read "ADDR:PORT" or "[IPV6]:PORT" (numeric
 * addresses, or "localhost") into a socket address.
 * @text: borrowed.
 * @sa, @salen: receive the address (struct sockaddr_storage is enough).
 * @loopback: set to whether the address is a loopback one (127.0.0.0/8,
 * ::1, or ::ffff:127.0.0.0/104).
 * Returns 0; -EINVAL with a one-line reason in err.
 */
struct sockaddr_storage;
int cep_http_parse_listen(const char *text, struct sockaddr_storage *sa,
			  unsigned *salen, bool *loopback, char *err,
			  size_t errsize);

/*
 * cep_http_server_create - bind and listen on @sa.
 * @handler, @arg: called for each well-formed GET or HEAD request.
 * @csp: the Content-Security-Policy sent with every response (borrowed;
 * must outlive the server), or NULL for none.
 * @out: the new server; release with cep_http_server_destroy().
 * Returns 0; -errno when the socket cannot be bound (err says why).
 */
int cep_http_server_create(const struct sockaddr_storage *sa, unsigned salen,
			   cep_http_handler_fn handler, void *arg,
			   const char *csp, struct cep_http_server **out,
			   char *err, size_t errsize);

/*
 * cep_http_server_name - "127.0.0.1:8080" or "[::1]:8080": the address
 * actually bound (the port the kernel chose for port 0).  Borrowed; valid
 * while the server lives.
 */
const char *cep_http_server_name(const struct cep_http_server *s);

/*
 * cep_http_server_run - serve until *stop becomes nonzero (set it from a
 * signal handler; poll() wakes on the signal).  Returns 0, or -errno when
 * poll() itself fails.
 */
int cep_http_server_run(struct cep_http_server *s,
			volatile sig_atomic_t *stop);

/* cep_http_server_destroy - close every connection and the socket;
 * accepts NULL. */
void cep_http_server_destroy(struct cep_http_server *s);

/* cep_http_reason - the reason phrase of a status code ("Not Found"). */
const char *cep_http_reason(int status);

#endif /* CEPTOR_WEB_HTTP_H */
