/*
 * source.c - a collector instance's defaults, stamped onto its events
 * (include/ceptor/collector.h).
 */
#include <string.h>

#include "ceptor/collector.h"
#include "ceptor/error.h"

int cep_source_init(struct cep_source *src, const char *name)
{
	memset(src, 0, sizeof *src);
	src->reliability = CEP_REL_F;
	src->credibility = CEP_CRED_MAX;
	src->tlp = CEP_TLP_AMBER;
	src->sector = CEP_SECTOR_UNKNOWN;
	src->overflow = CEP_OVERFLOW_BLOCK;
	return cep_event_set_text(src->name, sizeof src->name, name);
}

void cep_source_stamp(const struct cep_source *src, struct cep_event *ev)
{
	/* Both fields are 24 bytes and NUL-padded, so a plain copy is exact. */
	_Static_assert(sizeof src->name == sizeof ev->source, "name sizes");
	memcpy(ev->source, src->name, sizeof ev->source);
	if (!ev->reliability)
		ev->reliability = src->reliability;
	if (!ev->credibility)
		ev->credibility = src->credibility;
	if (!ev->tlp)
		ev->tlp = src->tlp;
	if (!ev->sector)
		ev->sector = src->sector;
	if (!cep_event_recipients(ev))
		cep_event_set_recipients(ev, src->recipients);
}

int cep_source_set(struct cep_source *src, const char *key, const char *value)
{
	int v;

	if (strcmp(key, "name") == 0)
		return cep_event_set_text(src->name, sizeof src->name, value);
	if (strcmp(key, "recipients") == 0) {
		/* "finance,telecom": sector tokens separated by commas. */
		uint32_t set = 0;
		char tok[32];
		for (const char *p = value; *p;) {
			size_t n = strcspn(p, ", ");
			if (n >= sizeof tok)
				return -CEP_EUNKNOWN;
			if (n) {
				memcpy(tok, p, n);
				tok[n] = '\0';
				int sct = !strcmp(tok, "unknown") ? 0 : cep_sector_parse(tok);
				if (sct < 0)
					return -CEP_EUNKNOWN;
				set |= 1u << sct;
			}
			p += n;
			p += strspn(p, ", ");
		}
		src->recipients = (uint16_t)set;
		return 0;
	}
	if (strcmp(key, "overflow") == 0) {
		if (strcmp(value, "block") == 0)
			src->overflow = CEP_OVERFLOW_BLOCK;
		else if (strcmp(value, "drop") == 0)
			src->overflow = CEP_OVERFLOW_DROP;
		else
			return -CEP_EUNKNOWN;
		return 0;
	}
	if (strcmp(key, "reliability") == 0)
		v = cep_reliability_parse(value);
	else if (strcmp(key, "credibility") == 0)
		v = cep_credibility_parse(value);
	else if (strcmp(key, "tlp") == 0)
		v = cep_tlp_parse(value);
	else if (strcmp(key, "sector") == 0)
		v = cep_sector_parse(value);
	else
		return -CEP_EUNKNOWN;
	if (v < 0)
		return v;
	if (key[0] == 'r')
		src->reliability = (uint8_t)v;
	else if (key[0] == 'c')
		src->credibility = (uint8_t)v;
	else if (key[0] == 't')
		src->tlp = (uint8_t)v;
	else
		src->sector = (uint8_t)v;
	return 0;
}
