/*
 * main.c - ceptor-web: a small page for analysts.
 *
 *   ceptor-web [-c CONFIG] [--listen ADDR:PORT] [--allow-remote]
 *              [--redis URL] [--spool DIR] [--sectors FILE]
 *
 * One process, one thread: an HTTP server (web/http.h) on a loopback
 * address by default, serving
 *
 *   /               the page (web/static/index.html), its /app.js and
 *                   /style.css, all built into the binary (web/assets.h)
 *   /api/incidents  the ranked open incidents, from Redis
 *   /api/graph      the sector graph, hit and predicted sectors marked
 *   /api/status     collector health, from SPOOL/status.json
 *
 * (web/api.h builds the documents), anything else 404.  The page polls the
 * three documents every 2 s and draws them with textContent and SVG
 * elements, never with markup from the data, and the
 * Content-Security-Policy allows only this origin's script and style: a
 * title such as "<script>..." reaches the analyst as text.
 *
 * With -c, Redis, the spool directory and the sector graph come from
 * ceptord's own configuration file (the options still override it);
 * without, the defaults are ceptord's: redis://127.0.0.1:6379, its default
 * state directory, rules/sectors.yml.
 *
 * The page has no login.  So ceptor-web refuses to listen on an address
 * other than loopback unless --allow-remote says that this is meant (for
 * instance behind a reverse proxy that authenticates).
 *
 * Exit status: 0 after SIGINT or SIGTERM; 1 when the sectors file does not
 * load or the address cannot be bound; 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "core/sectors.h"
#include "lib/config.h"
#include "lib/file.h"
#include "web/api.h"
#include "web/assets.h"
#include "web/http.h"

#define CEPTOR_WEB_VERSION "0.1.0-dev"
#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_REDIS "redis://127.0.0.1:6379"

/* Only this origin's script, style and data; no frames, no plugins. */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	    "connect-src 'self'; img-src 'self'; base-uri 'none'; "     \
	    "form-action 'none'; frame-ancestors 'none'"

static const char usage_text[] =
	"usage: ceptor-web [-c CONFIG] [--listen ADDR:PORT] [--allow-remote]\n"
	"                  [--redis URL] [--spool DIR] [--sectors FILE]\n"
	"\n"
	"Serves the analysts' page: ranked open incidents (from Redis), the\n"
	"sector graph with their predicted spread, and collector health\n"
	"(from ceptord's SPOOL/status.json), refreshed every 2 s.\n"
	"\n"
	"  -c CONFIG           ceptord's configuration: Redis, spool and "
	"sectors\n"
	"                      from it (the options below override it)\n"
	"  --listen ADDR:PORT  where to listen (default " DEFAULT_LISTEN
	"; port 0:\n"
	"                      any free one, printed at start)\n"
	"  --allow-remote      allow an address other than loopback (the "
	"page has\n"
	"                      no login: put an authenticating proxy in "
	"front)\n"
	"  --redis URL         redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] "
	"(default\n"
	"                      " DEFAULT_REDIS ")\n"
	"  --spool DIR         ceptord's state directory (default: "
	"ceptord's,\n"
	"                      /var/lib/ceptor/spool as root)\n"
	"  --sectors FILE      the sector graph (default "
	CEP_SECTORS_DEFAULT_PATH ")\n"
	"  --version, --help\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void handle(void *arg, const struct cep_http_request *req,
		   struct cep_http_response *res)
{
	struct cep_webapi *api = arg;
	const struct cep_web_asset *asset;
	static const char not_found[] = "404 Not Found\n";

	if (!strcmp(req->path, "/api/incidents")) {
		cep_webapi_incidents(api, res);
	} else if (!strcmp(req->path, "/api/graph")) {
		cep_webapi_graph(api, res);
	} else if (!strcmp(req->path, "/api/status")) {
		cep_webapi_status(api, res);
	} else if ((asset = cep_web_asset_lookup(req->path))) {
		res->status = 200;
		res->content_type = asset->content_type;
		res->body = asset->data;
		res->len = asset->len;
	} else {
		res->status = 404;
		res->content_type = "text/plain; charset=utf-8";
		res->body = not_found;
		res->len = sizeof not_found - 1;
	}
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ceptor-web: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(ceptor-web --help for usage)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "allow-remote", no_argument, NULL, 'A' },
		{ "redis", required_argument, NULL, 'r' },
		{ "spool", required_argument, NULL, 's' },
		{ "sectors", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_at = DEFAULT_LISTEN, *redis = NULL, *spool = NULL;
	const char *sectors = NULL, *config = NULL;
	struct cep_config cfg;
	char spool_buf[4096];
	bool allow_remote = false, loopback;
	struct sockaddr_storage sa;
	unsigned salen;
	struct cep_sectors *graph = NULL;
	struct cep_webapi *api = NULL;
	struct cep_http_server *srv = NULL;
	char err[512];
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:l:Ar:s:g:Vh", opts, NULL)) !=
	       -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'A':
			allow_remote = true;
			break;
		case 'r':
			redis = optarg;
			break;
		case 's':
			spool = optarg;
			break;
		case 'g':
			sectors = optarg;
			break;
		case 'V':
			printf("ceptor-web %s\n", CEPTOR_WEB_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("%s", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (cep_http_parse_listen(listen_at, &sa, &salen, &loopback, err,
				  sizeof err))
		return usage_error("--listen %s", err);
	if (!loopback && !allow_remote)
		return usage_error("--listen %s: not a loopback address; the "
				   "page has no login, so add --allow-remote "
				   "to serve it to other hosts", listen_at);

	/* The engine's configuration, then the options over it. */
	cep_config_init(&cfg);
	if (config && cep_config_load(&cfg, config, stderr)) {
		fprintf(stderr, "ceptor-web: -c %s: cannot use this "
			"configuration\n", config);
		cep_config_fini(&cfg);
		return 1;
	}
	if (!redis)
		redis = cfg.redis_url ? cfg.redis_url : DEFAULT_REDIS;
	if (!spool) {
		if (cfg.spool_dir)
			snprintf(spool_buf, sizeof spool_buf, "%s",
				 cfg.spool_dir);
		else
			cep_file_default_spool(spool_buf, sizeof spool_buf);
		spool = spool_buf;
	}
	if (!sectors)
		sectors = cfg.sectors_path ? cfg.sectors_path
					   : CEP_SECTORS_DEFAULT_PATH;

	rc = cep_sectors_load(sectors, stderr, &graph);
	if (rc) {
		fprintf(stderr, "ceptor-web: --sectors %s: %s\n", sectors,
			rc == -CEP_ECONFIG ? "the sector graph has errors"
					   : strerror(-rc));
		rc = 1;
		goto done;
	}
	if (cep_webapi_create(redis, spool, graph, &api, err, sizeof err)) {
		rc = usage_error("--redis: %s", err);
		goto done;
	}
	if (cep_http_server_create(&sa, salen, handle, api, CSP, &srv, err,
				   sizeof err)) {
		fprintf(stderr, "ceptor-web: %s\n", err);
		rc = 1;
		goto done;
	}

	/* No SA_RESTART: a signal must wake poll(). */
	struct sigaction act = { .sa_handler = on_signal };
	sigemptyset(&act.sa_mask);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "ceptor-web: serving http://%s/ (Redis %s, status "
		"%s/status.json, sectors %s)\n",
		cep_http_server_name(srv), cep_webapi_redis_name(api), spool,
		sectors);
	rc = cep_http_server_run(srv, &stop_flag);
	if (rc) {
		fprintf(stderr, "ceptor-web: poll: %s\n", strerror(-rc));
		rc = 1;
	}
	fprintf(stderr, "ceptor-web: stopped\n");
done:
	cep_http_server_destroy(srv);
	cep_webapi_destroy(api);
	cep_sectors_destroy(graph);
	cep_config_fini(&cfg);
	return rc;
}
