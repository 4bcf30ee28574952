/*
 * share.c - who may see an incident (see share.h).
 */
#include <string.h>

#include "core/sectors.h"
#include "core/share.h"

void cep_share_plan(const struct cep_incident *inc,
		    const struct cep_sectors *g, uint32_t agreed,
		    struct cep_share_plan *out)
{
	uint32_t concerned = CEP_SECTOR_BIT(inc->sector), predicted = 0, mask;

	memset(out, 0, sizeof *out);
	for (uint8_t k = 0; k < inc->nimpact; k++)
		predicted |= CEP_SECTOR_BIT(inc->impact[k].sector);
	if (inc->tlp == CEP_TLP_RED) {
		concerned = inc->red_to ? inc->red_to : concerned;
		out->incidents = concerned & agreed;
		out->withheld = concerned & ~agreed;
		return;
	}
	concerned |= predicted;
	if (inc->system && g && cep_sectors_for_system(g, inc->system, &mask) > 0)
		concerned |= mask;
	if (inc->tlp >= CEP_TLP_AMBER) {
		out->incidents = concerned & agreed;
		out->withheld = concerned & ~agreed;
	} else {
		out->incidents = concerned;
	}
	out->advisories = predicted & agreed;
	out->council = true;
}
