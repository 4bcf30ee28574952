/*
 * assets.c - web/static/ built into the binary (assets.h).
 *
 * Each file becomes a symbol pair NAME_start / NAME_end in .rodata through
 * the assembler's .incbin, whose path is relative to the directory the
 * compiler runs in: the top of the tree, where make runs.  The Makefile
 * makes this object depend on the files, since -MMD cannot see them.
 */
#include <string.h>

#include "web/assets.h"

#define ASSET(name, file)                                                 \
	__asm__(".section .rodata\n"                                      \
		".global cep__web_" #name "_start\n"                      \
		".global cep__web_" #name "_end\n"                        \
		".balign 16\n"                                            \
		"cep__web_" #name "_start:\n"                             \
		".incbin \"" file "\"\n"                                  \
		"cep__web_" #name "_end:\n"                               \
		".previous\n");                                           \
	extern const char cep__web_##name##_start[], cep__web_##name##_end[]

ASSET(index, "web/static/index.html");
ASSET(app, "web/static/app.js");
ASSET(style, "web/static/style.css");

const struct cep_web_asset *cep_web_asset_lookup(const char *path)
{
	static struct cep_web_asset assets[3];

	if (!assets[0].path) {
		assets[0] = (struct cep_web_asset){
			"/", "text/html; charset=utf-8", cep__web_index_start,
			(size_t)(cep__web_index_end - cep__web_index_start)
		};
		assets[1] = (struct cep_web_asset){
			"/app.js", "text/javascript; charset=utf-8",
			cep__web_app_start,
			(size_t)(cep__web_app_end - cep__web_app_start)
		};
		assets[2] = (struct cep_web_asset){
			"/style.css", "text/css; charset=utf-8",
			cep__web_style_start,
			(size_t)(cep__web_style_end - cep__web_style_start)
		};
	}
	if (!strcmp(path, "/index.html"))
		path = "/";
	for (size_t i = 0; i < sizeof assets / sizeof *assets; i++)
		if (!strcmp(path, assets[i].path))
			return &assets[i];
	return NULL;
}
