/*
 * assets.h - the page ceptor-web serves, built into the binary.
 *
 * The files of web/static/ are assembled into the program at build time
 * (assets.c, with the assembler's .incbin), so ceptor-web needs no
 * installed files and loads nothing from elsewhere: the page, its script
 * and its style sheet all come from the same binary and the same origin,
 * which lets the Content-Security-Policy forbid everything else.
 *
 * Thread safety: read-only data; any thread.
 */
#ifndef CEPTOR_WEB_ASSETS_H
#define CEPTOR_WEB_ASSETS_H

#include <stddef.h>

struct cep_web_asset {
	const char *path;         /* "/", "/app.js", ... */
	const char *content_type; /* with charset */
	const char *data;         /* static; not NUL-terminated */
	size_t len;
};

/*
 * cep_web_asset_lookup - the asset served at @path ("/index.html" is "/"),
 * or NULL.  Returns a borrowed pointer to static data.
 */
const struct cep_web_asset *cep_web_asset_lookup(const char *path);

#endif /* CEPTOR_WEB_ASSETS_H */
