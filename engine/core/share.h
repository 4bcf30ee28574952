/*
 * share.h - who may see an incident (DESIGN.md section 6): the streams
 * each version goes to, decided from its marking, its sectors and the
 * site's handling arrangements.
 *
 *   concerned  = its own sector
 *              + the sectors its impact prediction names
 *              + the sectors that run its critical-system class
 *                (`systems:` in rules/sectors.yml: a SCADA advisory
 *                reaches the sectors listed for plant_control, and no
 *                one else)
 *   TLP:CLEAR, GREEN   -> every concerned sector's incidents stream, and
 *                         the council's summary stream
 *   TLP:AMBER          -> its own sector, the other concerned sectors
 *                         that have a handling arrangement, and the
 *                         council
 *   TLP:AMBER+STRICT   -> its own sector only (TLP 2.0: the recipient
 *                         organisation only): no council, no advisories
 *   TLP:RED            -> only where every piece of its RED evidence may
 *                         go (each piece: the recipients its source named,
 *                         else its own sector; cep_incident.red_to), among
 *                         sectors with an arrangement; nowhere when the
 *                         pieces name no common recipient; not the
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
