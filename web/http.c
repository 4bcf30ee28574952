/*
 * http.c - the small HTTP/1.1 server of ceptor-web (http.h has the
 * contract).
 *
 * Each connection goes through two states in one slot of a fixed table:
 * READ (collect the request head until the blank line) and WRITE (send the
 * prepared response, then close).  poll() watches the listening socket
 * while a slot is free, every READ slot for POLLIN and every WRITE slot for
 * POLLOUT; its timeout is the nearest connection deadline, so a silent
 * client costs nothing until it is cut.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "web/http.h"

enum { CONN_FREE = 0, CONN_READ, CONN_WRITE };

struct conn {
	int fd;
	int state;
	uint64_t deadline_ms;
	size_t have;             /* bytes of head[] read */
	char head[CEP_HTTP_HEAD_MAX];
	char *out;               /* the whole response (head + body) */
	size_t out_len, out_sent;
};

struct cep_http_server {
	int fd;
	cep_http_handler_fn handler;
	void *arg;
	const char *csp;
	char name[80];
	struct conn conns[CEP_HTTP_CONN_MAX];
};

const char *cep_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int cep_http_parse_listen(const char *text, struct sockaddr_storage *sa,
			  unsigned *salen, bool *loopback, char *err,
			  size_t errsize)
{
	char host[64];
	const char *colon, *port_s;
	size_t hlen;
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errsize, "'%s': expected [IPV6]:PORT",
				 text);
			return -EINVAL;
		}
		hlen = (size_t)(close - text - 1);
		if (hlen >= sizeof host)
			goto bad_addr;
		memcpy(host, text + 1, hlen);
		port_s = close + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon) {
			snprintf(err, errsize, "'%s': expected ADDR:PORT",
				 text);
			return -EINVAL;
		}
		hlen = (size_t)(colon - text);
		if (hlen >= sizeof host)
			goto bad_addr;
		memcpy(host, text, hlen);
		port_s = colon + 1;
	}
	host[hlen] = '\0';
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 0 || port > 65535) {
		snprintf(err, errsize, "'%s': the port must be 0..65535", text);
		return -EINVAL;
	}
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");

	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*salen = sizeof *v4;
		*loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		const uint8_t *b = v6->sin6_addr.s6_addr;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*salen = sizeof *v6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) &&
			     b[12] == 127);
		return 0;
	}
bad_addr:
	snprintf(err, errsize,
		 "'%s': the address must be a numeric IPv4 or IPv6 address "
		 "(or localhost)", text);
	return -EINVAL;
}

static void name_of(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof a);
		snprintf(buf, size, "[%s]:%u", a, ntohs(v6->sin6_port));
	} else {
		const struct sockaddr_in *v4 = (const void *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof a);
		snprintf(buf, size, "%s:%u", a, ntohs(v4->sin_port));
	}
}

int cep_http_server_create(const struct sockaddr_storage *sa, unsigned salen,
			   cep_http_handler_fn handler, void *arg,
			   const char *csp, struct cep_http_server **out,
			   char *err, size_t errsize)
{
	struct cep_http_server *s;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	int one = 1, rc;

	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errsize, "out of memory");
		return -ENOMEM;
	}
	s->handler = handler;
	s->arg = arg;
	s->csp = csp;
	for (size_t i = 0; i < CEP_HTTP_CONN_MAX; i++)
		s->conns[i].fd = -1;
	s->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (s->fd < 0)
		goto fail;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s->fd, (const struct sockaddr *)sa, salen) ||
	    listen(s->fd, 64) ||
	    getsockname(s->fd, (struct sockaddr *)&bound, &blen))
		goto fail;
	name_of(&bound, s->name, sizeof s->name);
	*out = s;
	return 0;
fail:
	rc = -errno;
	name_of(sa, s->name, sizeof s->name);
	snprintf(err, errsize, "cannot listen on %s: %s", s->name,
		 strerror(errno));
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return rc;
}

const char *cep_http_server_name(const struct cep_http_server *s)
{
	return s->name;
}

static void conn_close(struct conn *c)
{
	char sink[4096];

	if (c->fd >= 0) {
		/* Take what the client may still have sent (a body after a
		 * GET), so that close() sends FIN rather than RST, which
		 * could cut the response short on the client's side; a
		 * bounded amount, so a client that keeps sending cannot keep
		 * us here. */
		for (int i = 0; i < 16; i++)
			if (recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
				break;
		close(c->fd);
	}
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* Turn a response into the bytes to send; the connection goes to WRITE.
 * With allow set, an Allow header is added (405). */
static void conn_respond(struct cep_http_server *s, struct conn *c,
			 struct cep_http_response *res, bool head_only,
			 bool allow)
{
	char head[1024];
	int n;

	if (!res->content_type)
		res->content_type = "text/plain; charset=utf-8";
	n = snprintf(head, sizeof head,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "%s%s%s"
		     "%s"
		     "Connection: close\r\n\r\n",
		     res->status, cep_http_reason(res->status),
		     res->content_type, res->len,
		     s->csp ? "Content-Security-Policy: " : "",
		     s->csp ? s->csp : "", s->csp ? "\r\n" : "",
		     allow ? "Allow: GET, HEAD\r\n" : "");
	size_t body = head_only ? 0 : res->len;
	c->out = malloc((size_t)n + body);
	if (!c->out) {
		conn_close(c);
		goto done;
	}
	memcpy(c->out, head, (size_t)n);
	if (body)
		memcpy(c->out + n, res->body, body);
	c->out_len = (size_t)n + body;
	c->out_sent = 0;
	c->state = CONN_WRITE;
done:
	free(res->owned);
	res->owned = NULL;
}

/* A plain-text error response. */
static void conn_error(struct cep_http_server *s, struct conn *c, int status,
		       bool head_only)
{
	struct cep_http_response res = { 0 };
	char text[64];

	/* conn_respond() copies the body: a local buffer will do. */
	res.status = status;
	snprintf(text, sizeof text, "%d %s\n", status,
		 cep_http_reason(status));
	res.body = text;
	res.len = strlen(text);
	conn_respond(s, c, &res, head_only, status == 405);
}

static bool is_token_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch);
}

/* The head is complete in c->head[0..c->have): parse and answer. */
/*
 * DNS rebinding: a hostile page can point its own name at 127.0.0.1 and
 * have the analyst's browser read this server.  A server on a loopback
 * address therefore answers only requests whose Host names a loopback
 * address with its port (127.0.0.1, localhost, [::1]); a browser sends
 * the page's own name.  A request without Host (HTTP/1.0 tools) passes.
 * Not checked when bound elsewhere (--allow-remote: names are the
 * operator's).
 */
static bool host_ok(const struct cep_http_server *s, const char *p,
		    const char *end)
{
	const char *port = strrchr(s->name, ':');
	char want[96];

	if (!port || (strncmp(s->name, "127.", 4) && strncmp(s->name, "[::1]", 5)))
		return true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len > 5 && !strncasecmp(p, "host:", 5)) {
			const char *v = p + 5;
			size_t n = len - 5;
			while (n && (*v == ' ' || *v == '\t'))
				v++, n--;
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			static const char *const names[] = { "127.0.0.1", "localhost",
							     "[::1]" };
			for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
				int w = snprintf(want, sizeof want, "%s%s", names[i], port);
				if ((size_t)w == n && !strncasecmp(v, want, n))
					return true;
			}
			return (size_t)strlen(s->name) == n && !strncmp(v, s->name, n);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return true;
}

static void conn_request(struct cep_http_server *s, struct conn *c)
{
	char *line = c->head, *eol, *sp1, *sp2, *q;
	struct cep_http_request req;
	struct cep_http_response res = { 0 };
	bool head_only;

	eol = memchr(line, '\n', c->have);
	if (!eol)
		return conn_error(s, c, 400, false);
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || strchr(sp2 + 1, ' '))
		return conn_error(s, c, 400, false);
	*sp1 = *sp2 = '\0';
	for (const char *p = line; *p; p++)
		if (!is_token_char(*p))
			return conn_error(s, c, 400, false);
	if (strncmp(sp2 + 1, "HTTP/1.", 7))
		return conn_error(s, c, 400, false);
	head_only = !strcmp(line, "HEAD");
	if (strcmp(line, "GET") && !head_only)
		return conn_error(s, c, 405, false);
	if (sp1[1] != '/')
		return conn_error(s, c, 400, head_only);
	for (const char *p = sp1 + 1; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return conn_error(s, c, 400, head_only);
	if (!host_ok(s, eol + 1, c->head + c->have))
		return conn_error(s, c, 421, head_only);
	q = strchr(sp1 + 1, '?');
	if (q)
		*q++ = '\0';
	req.method = line;
	req.path = sp1 + 1;
	req.query = q ? q : "";
	res.status = 500;
	s->handler(s->arg, &req, &res);
	if (res.len && !res.body)
		res.len = 0;
	conn_respond(s, c, &res, head_only, false);
}

static void conn_read(struct cep_http_server *s, struct conn *c)
{
	ssize_t n;

	n = recv(c->fd, c->head + c->have, sizeof c->head - 1 - c->have, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n < 0)
		return;
	c->have += (size_t)n;
	c->head[c->have] = '\0';
	/* The head ends at the first empty line ("\r\n\r\n", or "\n\n"
	 * from lenient clients). */
	if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n"))
		conn_request(s, c);
	else if (memchr(c->head, '\0', c->have))
		conn_error(s, c, 400, false);
	else if (c->have == sizeof c->head - 1)
		conn_error(s, c, 431, false);
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
		 MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out_sent += (size_t)n;
	if (c->out_sent == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

static void accept_all(struct cep_http_server *s)
{
	for (size_t i = 0; i < CEP_HTTP_CONN_MAX; i++) {
		struct conn *c = &s->conns[i];
		int fd;

		if (c->state != CONN_FREE)
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: none left; others: try next round */
		c->fd = fd;
		c->state = CONN_READ;
		c->have = 0;
		c->deadline_ms = cep_clock_mono_ms() + CEP_HTTP_TIMEOUT_MS;
	}
}

int cep_http_server_run(struct cep_http_server *s,
			volatile sig_atomic_t *stop)
{
	struct pollfd pfd[CEP_HTTP_CONN_MAX + 1];
	size_t slot[CEP_HTTP_CONN_MAX + 1];

	while (!*stop) {
		uint64_t now = cep_clock_mono_ms(), next = now + 60000;
		nfds_t n = 0;
		bool room = false;

		for (size_t i = 0; i < CEP_HTTP_CONN_MAX; i++) {
			struct conn *c = &s->conns[i];
			if (c->state == CONN_FREE) {
				room = true;
				continue;
			}
			if (now >= c->deadline_ms) {
				conn_close(c);
				room = true;
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			pfd[n].fd = c->fd;
			pfd[n].events = c->state == CONN_READ ? POLLIN : POLLOUT;
			slot[n++] = i;
		}
		if (room) {
			pfd[n].fd = s->fd;
			pfd[n].events = POLLIN;
			slot[n++] = CEP_HTTP_CONN_MAX;
		}
		int r = poll(pfd, n, (int)(next - now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nfds_t k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (slot[k] == CEP_HTTP_CONN_MAX) {
				accept_all(s);
				continue;
			}
			struct conn *c = &s->conns[slot[k]];
			if (c->state == CONN_READ)
				conn_read(s, c);
			else if (c->state == CONN_WRITE)
				conn_write(c);
			/* A response is often written at once: try now
			 * rather than after another poll round. */
			if (c->state == CONN_WRITE)
				conn_write(c);
		}
	}
	return 0;
}

void cep_http_server_destroy(struct cep_http_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CEP_HTTP_CONN_MAX; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_close(&s->conns[i]);
	close(s->fd);
	free(s);
}
