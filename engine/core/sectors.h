/*
 * sectors.h - the sector interdependency model: criticality K, blast
 * radius B, impact prediction and restoration order (DESIGN.md section 5).
 *
 * The model is a small directed, weighted graph over the ten sectors of
 * event.h, read from rules/sectors.yml.  An edge u -> v says "an outage of
 * u spreads to v": its weight in (0, 1] is how much of v's function an
 * outage of u takes away (1: v stops with it), its delay is how long v's
 * buffers (batteries, generators, reservoirs, stock) hold before the
 * effect shows.  The file lists edges the way people state them, under the
 * dependent sector ("water needs electricity").
 *
 * Propagation (cep_sectors_impact, cep_sectors_spread): the strength of a
 * path is the product of its edge weights, its delay the sum of its edge
 * delays.  Each reached sector keeps its strongest path (ties: the shorter
 * delay); paths weaker than the threshold (default 0.05) are cut.  Because
 * every weight is at most 1, extending a path never makes it stronger, so
 * a best-first walk (Dijkstra on (strength desc, delay asc)) finds the
 * strongest paths and terminates on cycles: each sector is settled once.
 *
 *   hit ---0.9, 2h---> telecom ---0.9, 0h---> finance     finance: 0.81 @ 2h
 *     \------------------0.7, 1h------------/             (0.81 > 0.7 wins)
 *
 * Blast radius of sector s, computed once at load:
 *
 *   R(s) = sum over sectors v reached from s of strength(s, v) * K(v)
 *   B(s) = floor + (1 - floor) * R(s) / max over sectors t of R(t)
 *
 * so B is in [floor, 1]: the sector whose outage reaches furthest (by
 * criticality-weighted strength) has 1, a sector nothing depends on has
 * the floor (blast_floor in the file, default 0.5; the same range as the
 * fixed table it replaces, so priority thresholds keep their meaning).
 *
 * Restoration (cep_sectors_restoration): with a set D of sectors down, a
 * sector v outside D is hit with strength P_D(v) = max over d in D of
 * strength(d, v) (the strongest path from any down sector; a path through
 * another down sector is never stronger than that sector's own).  Restoring
 * d alone relieves
 *
 *   relief(d) = sum over v not in D of K(v) * (P_D(v) - P_{D \ {d}}(v))
 *
 * which is >= 0 and counts only sectors that are themselves up.  Sectors
 * are ranked by relief, then by their own what-if impact R(d), then by
 * their order in event.h.
 *
 * Ownership and threads: cep_sectors_load() returns a graph that is never
 * modified afterwards; every query takes it const, keeps no state and may
 * run on any number of threads at once.  Reloading means loading a new
 * graph and swapping the pointer (the caller's business, e.g. with RCU).
 *
 * Failure: the loader reports every problem it finds (not just the first)
 * as "FILE:LINE: reason" and then fails with -CEP_ECONFIG; a file that
 * cannot be read gives -errno.  Queries do not fail: an out-of-range or
 * unknown sector gets the "unknown" values (K = unknown_criticality,
 * B = floor, no impact).
 */
#ifndef CEPTOR_CORE_SECTORS_H
#define CEPTOR_CORE_SECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ceptor/event.h"

#define CEP_SECTORS_DEFAULT_PATH "rules/sectors.yml"
#define CEP_SECTORS_THRESHOLD 0.05      /* default path-strength cut */
#define CEP_SECTORS_BLAST_FLOOR 0.5     /* default B of a sector with no reach */
#define CEP_SECTORS_UNKNOWN_K 0.5       /* default K of sector "unknown" */
/* Room for every sector but one: the most an impact query can return. */
#define CEP_SECTORS_MAX (CEP_SECTOR_COUNT - 1)

/* A set of sectors: bit (1 << sector). */
#define CEP_SECTOR_BIT(s) (UINT32_C(1) << (s))

struct cep_sectors; /* the compiled graph; immutable */

/* One edge as loaded: an outage of `from` spreads to `to`. */
struct cep_sectors_edge {
	uint8_t from, to;  /* enum cep_sector */
	double weight;     /* (0, 1] */
	uint32_t delay_s;  /* seconds */
	unsigned line;     /* where the file states it */
};

/* A sector an outage is predicted to reach, by its strongest path. */
struct cep_sectors_hit {
	uint8_t sector;    /* enum cep_sector */
	uint8_t via;       /* the sector before it on that path */
	uint8_t hops;      /* edges on that path, >= 1 */
	double strength;   /* product of the path's weights, [threshold, 1] */
	double impact;     /* strength * K(sector) */
	uint32_t delay_s;  /* sum of the path's delays, seconds */
};

/* One down sector ranked by what restoring it alone would relieve. */
struct cep_sectors_relief {
	uint8_t sector;    /* enum cep_sector */
	double relief;     /* see "Restoration" above; >= 0 */
	double impact;     /* R(sector): its own what-if impact */
};

/*
 * cep_sectors_load - read and compile a sectors file.
 * @path: the YAML file (rules/sectors.yml documents the format).
 * @diag: where problems go as "FILE:LINE: reason" (NULL: stderr).
 * @out: the new graph; release with cep_sectors_destroy().
 * Returns 0; -CEP_ECONFIG when the file has problems (all reported);
 * -errno when it cannot be read; -ENOMEM.
 */
int cep_sectors_load(const char *path, FILE *diag, struct cep_sectors **out);

/*
 * cep_sectors_parse - the same from text in memory; @name stands for the
 * file in messages.  Borrows text for the duration of the call.
 */
int cep_sectors_parse(const char *text, size_t len, const char *name,
		      FILE *diag, struct cep_sectors **out);

/* cep_sectors_destroy - free a graph; accepts NULL. */
void cep_sectors_destroy(struct cep_sectors *g);

/* cep_sectors_criticality - K(sector) in (0, 1]. */
double cep_sectors_criticality(const struct cep_sectors *g, int sector);

/* cep_sectors_blast - B(sector) in [floor, 1] (formula above). */
double cep_sectors_blast(const struct cep_sectors *g, int sector);

/*
 * cep_sectors_reach - R(sector): the sum of strength * K over the sectors
 * its outage reaches (0 when it reaches none).
 */
double cep_sectors_reach(const struct cep_sectors *g, int sector);

/* cep_sectors_threshold - the path-strength cut the file set. */
double cep_sectors_threshold(const struct cep_sectors *g);

/*
 * cep_sectors_impact - the sectors an outage of @sector is predicted to
 * reach, strongest path each, sorted by impact (strength * K) descending,
 * then delay ascending, then event.h order.  Writes at most @max entries
 * (CEP_SECTORS_MAX is always enough) and returns how many it wrote; 0 for
 * an unknown sector or one nothing depends on.
 */
int cep_sectors_impact(const struct cep_sectors *g, int sector,
		       struct cep_sectors_hit *out, size_t max);

/*
 * cep_sectors_spread - the same from several sectors out at once
 * (@sources, a set of CEP_SECTOR_BIT()s): each other sector keeps the
 * strongest path from any of them.  The sources themselves are not listed.
 */
int cep_sectors_spread(const struct cep_sectors *g, uint32_t sources,
		       struct cep_sectors_hit *out, size_t max);

/*
 * cep_sectors_restoration - rank the sectors of @down (a set of
 * CEP_SECTOR_BIT()s) by the downstream impact that restoring each alone
 * relieves (formula above).  Writes at most @max entries, best first, and
 * returns how many (the number of known sectors in @down, up to @max).
 */
int cep_sectors_restoration(const struct cep_sectors *g, uint32_t down,
			    struct cep_sectors_relief *out, size_t max);

/*
 * cep_sectors_for_system - the sectors that run a class of critical
 * system (enum cep_system).  Sets *mask to a set of CEP_SECTOR_BIT()s and
 * returns how many sectors it holds; -CEP_EUNKNOWN (mask 0) for
 * CEP_SYSTEM_NONE or a value out of range.
 */
int cep_sectors_for_system(const struct cep_sectors *g, int system,
			   uint32_t *mask);

/*
 * cep_sectors_edges - the edges as loaded, in file order.  Sets *edges to
 * a borrowed array, valid while the graph lives, and returns its length.
 */
size_t cep_sectors_edges(const struct cep_sectors *g,
			 const struct cep_sectors_edge **edges);

/*
 * cep_sectors_parse_list - parse "telecom,finance" (comma-separated sector
 * tokens, "unknown" not allowed) into a set.  Returns 0, or -CEP_EUNKNOWN
 * with *bad pointing at the first bad token's start (the caller's text).
 */
int cep_sectors_parse_list(const char *text, uint32_t *set, const char **bad);

/*
 * cep_sectors_format_delay - seconds as "0", "45s", "30m", "2h", "1h30m",
 * "2d", "1d6h" into buf; returns buf.
 */
char *cep_sectors_format_delay(uint32_t seconds, char *buf, size_t size);

#endif /* CEPTOR_CORE_SECTORS_H */
