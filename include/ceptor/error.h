/*
 * error.h - the one table of ceptor's error codes.
 *
 * Every int-returning function in ceptor returns 0 on success or a negative
 * number on failure: either a negated errno value (-ENOMEM, -EINVAL, ...) or
 * one of the project codes below, which live above the errno range so that
 * the two never collide.  cep_strerror() names both kinds.
 *
 * Thread safety: everything here may be called from any thread.
 */
#ifndef CEPTOR_ERROR_H
#define CEPTOR_ERROR_H

enum cep_error {
	CEP_EBASE = 1000,
	CEP_EMALFORMED,  /* input does not follow its format */
	CEP_ETRUNCATED,  /* input ends before a record it announced */
	CEP_EVERSION,    /* a shared structure of another layout version */
	CEP_ECONFIG,     /* configuration invalid */
	CEP_ERULE,       /* rule set failed to compile */
	CEP_EREDIS,      /* Redis answered with an error or went away */
	CEP_ECLOSED,     /* the other side closed (ring, connection) */
	CEP_ETOOLONG,    /* a value does not fit its fixed-size field */
	CEP_EUNKNOWN,    /* a token that is not in its vocabulary */
	CEP_ELAST
};

/*
 * cep_strerror - describe an error code.
 * @err: a value returned by a ceptor function (negative) or its absolute
 *       value; 0 gives "success".
 * Returns a static string; never NULL.
 */
const char *cep_strerror(int err);

#endif /* CEPTOR_ERROR_H */
