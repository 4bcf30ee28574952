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
	uint32_t own = CEP_SECTOR_BIT(inc->sector), concerned = own;
	uint32_t predicted = 0, mask;

	memset(out, 0, sizeof *out);
	for (uint8_t k = 0; k < inc->nimpact; k++)
		predicted |= CEP_SECTOR_BIT(inc->impact[k].sector);
	if (inc->tlp == CEP_TLP_RED) {
		/* Where every piece of RED evidence may go; nowhere when they
		 * name no common recipient (counted as the own sector
		 * withheld). */
		concerned = inc->red_to & CEP_INCIDENT_RED_SET
				    ? inc->red_to & ~CEP_INCIDENT_RED_SET
				    : own;
		out->incidents = concerned & agreed;
		out->withheld = concerned ? concerned & ~agreed : own;
		return;
	}
	if (inc->tlp == CEP_TLP_AMBER_STRICT) {
		/* TLP 2.0: the recipient organisation only. */
		out->incidents = own;
		return;
	}
	concerned |= predicted;
	if (inc->system && g && cep_sectors_for_system(g, inc->system, &mask) > 0)
		concerned |= mask;
	if (inc->tlp >= CEP_TLP_AMBER) {
		/* Its own sector always: the arrangement governs spreading
		 * it further. */
		out->incidents = (concerned & agreed) | own;
		out->withheld = concerned & ~agreed & ~own;
	} else {
		out->incidents = concerned;
	}
	out->advisories = predicted & agreed;
	out->council = true;
}
