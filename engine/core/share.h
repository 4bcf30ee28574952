/*
 * share.h - who may see an incident (DESIGN.md section 6): the streams
 * each version goes to, decided from its marking, its sectors and the
 * site's handling arrangements.
 *
 *   concerned  = its own sector
 *              + the sectors its impact prediction names
 *              + the sectors that run its critical-system class
 *                (`systems:` in rules/sectors.yml: a SCADA advisory
 *                reaches electricity, gas and water, and no one else)
 *   TLP:CLEAR, GREEN   -> every concerned sector's incidents stream, and
 *                         the council's summary stream
 *   TLP:AMBER, AMBER+STRICT
 *                      -> the concerned sectors that have a handling
 *                         arrangement, and the council
 *   TLP:RED            -> only the sectors its RED evidence's sources
 *                         named (cep_incident.red_to; its own sector when
 *                         none was named) that have an arrangement; not the
 *                         council, no advisories
 *   advisories (early warnings of predicted impact)
 *                      -> predicted sectors with an arrangement only
 *
 * Sectors left out for want of an arrangement are reported in `withheld`
 * so the engine can count them.  The arrangements are the site's
 * configuration (`agreements:`, lib/config.h); a site that lists none
 * treats every sector as under one.
 *
 * Thread safety: a pure function of its arguments.
 */
#ifndef CEPTOR_CORE_SHARE_H
#define CEPTOR_CORE_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "ceptor/incident.h"

struct cep_sectors;

struct cep_share_plan {
	uint32_t incidents;  /* sectors (bit s) whose incidents stream gets it */
	uint32_t advisories; /* sectors that get an advisory (when advise) */
	uint32_t withheld;   /* concerned sectors that get no incident
				message for want of an arrangement */
	bool council;        /* the council's summary stream */
};

/*
 * cep_share_plan - where @inc goes, under the handling arrangements
 * @agreed (bit s: sector s has one); @g may be NULL (no system classes).
 * Advisories are planned for every predicted sector with an arrangement;
 * the caller sends them only for a version with inc->advise set.
 */
void cep_share_plan(const struct cep_incident *inc,
		    const struct cep_sectors *g, uint32_t agreed,
		    struct cep_share_plan *out);

#endif /* CEPTOR_CORE_SHARE_H */
