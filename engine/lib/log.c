/*
 * log.c - see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/log.h"

static const char *log_program = "ceptor";
static int log_level = CEP_LOG_INFO;
static bool log_to_syslog;

void cep_log_init(const char *program, int level)
{
	log_program = program;
	cep_log_set_level(level);
}

void cep_log_set_level(int level)
{
	log_level = level < CEP_LOG_ERROR ? CEP_LOG_ERROR :
		    level > CEP_LOG_DEBUG ? CEP_LOG_DEBUG : level;
}

void cep_log_syslog(bool on)
{
	if (on && !log_to_syslog)
		openlog(log_program, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_to_syslog)
		closelog();
	log_to_syslog = on;
}

int cep_log_level_parse(const char *name)
{
	static const struct { const char *name; int level; } names[] = {
		{ "error", CEP_LOG_ERROR }, { "warn", CEP_LOG_WARN },
		{ "warning", CEP_LOG_WARN }, { "info", CEP_LOG_INFO },
		{ "debug", CEP_LOG_DEBUG },
	};

	for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].level;
	return -1;
}

void cep_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
					  LOG_DEBUG };
	char line[1024];
	va_list ap;
	int n = 0;

	if (level > log_level)
		return;
	level = level < 0 ? 0 : level > 3 ? 3 : level;
	/* syslog carries the program and the level itself. */
	if (!log_to_syslog)
		n = snprintf(line, sizeof line, "%s: %s: ", log_program,
			     names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	if (log_to_syslog) {
		line[n] = '\0';
		syslog(priorities[level], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* One write per line keeps concurrent lines whole. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
