/*
 * log.c - see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/log.h"

static const char *log_program = "ceptor";
static int log_level = CEP_LOG_INFO;

void cep_log_init(const char *program, int level)
{
	log_program = program;
	log_level = level;
}

void cep_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof line, "%s: %s: ", log_program,
		     names[level < 0 ? 0 : level > 3 ? 3 : level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* One write per line keeps concurrent lines whole. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
