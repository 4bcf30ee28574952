/*
 * log.h - one line per problem, to stderr or to syslog.
 *
 * Every binary names itself once with cep_log_init(); each line then reads
 * "PROGRAM: LEVEL: message" on stderr.  With cep_log_syslog(true) the same
 * lines go to syslog(3) instead, facility LOG_DAEMON, identity PROGRAM with
 * the process id, and the level as the syslog priority (error LOG_ERR,
 * warning LOG_WARNING, info LOG_INFO, debug LOG_DEBUG), so the message
 * carries neither the program name nor the level.  Under systemd, stderr
 * already reaches the journal with the unit's name; syslog is for hosts
 * that collect syslog (rsyslog forwarding to a SIEM, say).
 *
 * The hot path never logs per event: it bumps a counter and the counters
 * are reported at the end or by `ceptorctl status`.  On stderr a line is
 * written with a single write(2), so lines from several threads do not
 * interleave; syslog(3) is thread-safe and sends one datagram per line.
 *
 * Threads: cep_log_init(), cep_log_set_level() and cep_log_syslog() are
 * called by main before any other thread starts; cep_log() from any thread.
 */
#ifndef CEPTOR_LIB_LOG_H
#define CEPTOR_LIB_LOG_H

#include <stdbool.h>

enum cep_log_level {
	CEP_LOG_ERROR = 0,
	CEP_LOG_WARN,
	CEP_LOG_INFO,
	CEP_LOG_DEBUG,
};

/* The names cep_log_level_parse() takes, for usage and error messages. */
#define CEP_LOG_LEVEL_NAMES "error, warn, info, debug"

/* cep_log_init - set the program name and the most verbose level shown.
 * Borrows program: it must outlive logging (argv[0] or a literal). */
void cep_log_init(const char *program, int level);

/* cep_log_set_level - the most verbose level shown; clamped to
 * CEP_LOG_ERROR..CEP_LOG_DEBUG. */
void cep_log_set_level(int level);

/*
 * cep_log_syslog - send the lines to syslog (true) or to stderr (false,
 * the default).  Switching on opens the connection to the local syslog
 * daemon at once (openlog with LOG_NDELAY), so a daemon that later gives up
 * file system access keeps it; when no daemon listens, glibc drops the
 * lines silently, which is why stderr stays the default.
 */
void cep_log_syslog(bool on);

/*
 * cep_log_level_parse - "error", "warn" (or "warning"), "info" or "debug"
 * to its enum cep_log_level; -1 for anything else.
 */
int cep_log_level_parse(const char *name);

/* cep_log - format and write one line if level is enabled. */
void cep_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define cep_error(...) cep_log(CEP_LOG_ERROR, __VA_ARGS__)
#define cep_warn(...) cep_log(CEP_LOG_WARN, __VA_ARGS__)
#define cep_info(...) cep_log(CEP_LOG_INFO, __VA_ARGS__)
#define cep_debug(...) cep_log(CEP_LOG_DEBUG, __VA_ARGS__)

#endif /* CEPTOR_LIB_LOG_H */
