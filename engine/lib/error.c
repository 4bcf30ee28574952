/*
 * error.c - names for ceptor's error codes (see include/ceptor/error.h).
 */
#include <string.h>

#include "ceptor/error.h"

static const char *const project_errors[] = {
	[CEP_EMALFORMED - CEP_EBASE] = "malformed input",
	[CEP_ETRUNCATED - CEP_EBASE] = "input truncated",
	[CEP_EVERSION - CEP_EBASE] = "incompatible layout version",
	[CEP_ECONFIG - CEP_EBASE] = "invalid configuration",
	[CEP_ERULE - CEP_EBASE] = "rule set failed to compile",
	[CEP_EREDIS - CEP_EBASE] = "redis error",
	[CEP_ECLOSED - CEP_EBASE] = "closed by the other side",
	[CEP_ETOOLONG - CEP_EBASE] = "value too long for its field",
	[CEP_EUNKNOWN - CEP_EBASE] = "unknown token",
};

const char *cep_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err > CEP_EBASE && err < CEP_ELAST) {
		const char *s = project_errors[err - CEP_EBASE];
		return s ? s : "unknown error";
	}
	if (err < CEP_EBASE)
		return strerror(err); /* errno range */
	return "unknown error";
}
