/*
 * log.h - one line per problem, to stderr.
 *
 * Every binary names itself once with cep_log_init(); each line then reads
 * "PROGRAM: LEVEL: message".  The hot path never logs per event: it bumps a
 * counter and the counters are reported at the end or by `ceptorctl status`.
 * Lines are written with a single write(2), so lines from several threads
 * do not interleave.
 */
#ifndef CEPTOR_LIB_LOG_H
#define CEPTOR_LIB_LOG_H

enum cep_log_level {
	CEP_LOG_ERROR = 0,
	CEP_LOG_WARN,
	CEP_LOG_INFO,
	CEP_LOG_DEBUG,
};

/* cep_log_init - set the program name and the most verbose level shown. */
void cep_log_init(const char *program, int level);

/* cep_log - format and write one line if level is enabled. */
void cep_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define cep_error(...) cep_log(CEP_LOG_ERROR, __VA_ARGS__)
#define cep_warn(...) cep_log(CEP_LOG_WARN, __VA_ARGS__)
#define cep_info(...) cep_log(CEP_LOG_INFO, __VA_ARGS__)
#define cep_debug(...) cep_log(CEP_LOG_DEBUG, __VA_ARGS__)

#endif /* CEPTOR_LIB_LOG_H */
