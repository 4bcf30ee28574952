/*
 * ctl.h - the commands of ceptorctl that live in their own files
 * (every .c file of engine/ctl links into the one binary; ceptorctl.c
 * dispatches).
 *
 * Each entry point takes the arguments after its command words, prints
 * what the user asked for on stdout and problems on stderr, and returns
 * the process exit status: 0 success, 1 the thing checked failed, 2 a
 * usage error.
 */
#ifndef CEPTOR_CTL_CTL_H
#define CEPTOR_CTL_CTL_H

/*
 * cep_ctl_rules_test - `ceptorctl rules test DIR CASES...`.
 * @argc, @argv: the arguments after "rules test": one rule directory (or
 * file), then one or more case files or directories of *.yml case files
 * (rules/LANGUAGE.md, "Testing rules").  Each case runs its events through
 * the live engine's stages (compile, cep_detect, cep_incidents) and checks
 * the signals and incidents it expects.  Prints one PASS/FAIL line per case
 * and a summary.  Returns 0 when every case passed, 1 when one failed or a
 * case file is malformed, 2 on a usage error or rules that do not compile.
 */
int cep_ctl_rules_test(int argc, char **argv);

/*
 * cep_ctl_impact - `ceptorctl impact [--sectors FILE] [--what-if S[,S...]]
 * [--down S1,S2...] [--json]` (engine/ctl/impact.c).
 * @argc, @argv: the arguments after "impact".  Loads the interdependency
 * graph (default rules/sectors.yml) and prints, with no option, each
 * sector's criticality, blast radius and reach; with --what-if, the
 * sectors an outage would spread to (strength, impact, expected delay,
 * path); with --down, the down sectors ranked by the downstream impact
 * their restoration alone relieves, and the sectors hit meanwhile.
 * Returns 0, 1 when the sectors file has problems (printed as FILE:LINE),
 * 2 on a usage error.
 */
int cep_ctl_impact(int argc, char **argv);

/*
 * cep_ctl_graph - `ceptorctl graph [--sectors FILE] [--highlight S,...]
 * [--redis URL] [-o FILE.dot|FILE.svg|FILE.png]` (engine/ctl/impact.c).
 * @argc, @argv: the arguments after "graph".  Writes the graph as Graphviz
 * DOT (stdout, or -o FILE.dot), or renders it through `dot` for .svg and
 * .png; with --redis, the sectors of the open outage incidents in the
 * streams are highlighted as out.  Returns 0, 1 when the sectors file has
 * problems, Redis cannot be read or rendering failed (`dot` missing
 * included), 2 on a usage error.
 */
int cep_ctl_graph(int argc, char **argv);

/*
 * cep_ctl_stats - `ceptorctl stats [--hours N | --days N] [--until TIME]
 * [--json] [--redis URL]` (engine/ctl/stats.c).
 * @url: the Redis URL from ceptorctl's own options (--redis after the
 * command overrides it); borrowed.
 * @argc, @argv: the arguments from "stats" on (argv[0] is "stats").
 * Sums the statistics buckets ceptord keeps (engine/publish/stats.h) over
 * the last N hours (default 24) or days up to TIME (default now), and
 * prints incidents by sector, cause and type, and the IT failures
 * attributed to another sector's outage (--json: one JSON object).
 * Returns 0, 1 when Redis cannot be used, 2 on a usage error.
 */
int cep_ctl_stats(const char *url, int argc, char **argv);

/*
 * cep_ctl_feedback - `ceptorctl feedback [-c CONFIG | --spool DIR]
 * INCIDENT-ID confirmed|false-positive` (engine/ctl/feedback.c).
 * @argc, @argv: the arguments from "feedback" on (argv[0] is "feedback").
 * Appends the verdict as one JSON line to SPOOL/feedback.jsonl, which
 * ceptord applies on its status tick.  Prints what it recorded.  Returns
 * 0, 1 when the id is malformed, the spool directory does not exist or the
 * line cannot be written, 2 on a usage error.
 * cep_ctl_id_valid - whether id has the form of an incident id
 * ("P2-2026-000001").
 */
int cep_ctl_feedback(int argc, char **argv);
int cep_ctl_id_valid(const char *id);

/*
 * cep_ctl_exercise - `ceptorctl exercise run SCENARIO.yml [--redis URL]
 * [--speed X] [--json] [--keep]` (engine/ctl/exercise.c).
 * @url: the Redis URL from ceptorctl's own options (--redis after the
 * command overrides it); borrowed.
 * @argc, @argv: the arguments from "exercise" on (argv[0] is "exercise").
 * Runs the scenario through a ceptord and collector processes started from
 * this binary's directory, every event marked exercise, watches the
 * ceptor-exercise: streams and prints which expected incidents and
 * advisories appeared, with priority and delay, and the extras.  Stops
 * every process it started, by pid, before it returns.  Returns 0 when
 * every expectation was met, 1 when one was missed or the run failed
 * (Redis, ceptord or a collector; said on stderr), 2 on a usage error or
 * a scenario with problems (printed as FILE:LINE).
 */
int cep_ctl_exercise(const char *url, int argc, char **argv);

/*
 * cep_ctl_lag - the consumer groups of every incident, advisory and
 * council stream (engine/ctl/lag.c): length, pending, lag, and the
 * entries trimmed before a group read them ("lost"), as a table or (json)
 * a JSON array on @out.  @maxlen: the length the streams are trimmed to
 * (0: not trimmed), for the "near trim" warning.  Warnings go to stderr.
 * Returns 0, 1 when a group lost entries or is near the trim length, -1
 * when Redis cannot be read.
 */
#include <stdbool.h>
#include <stdio.h>
int cep_ctl_lag(const char *url, unsigned long long maxlen, bool json,
		FILE *out);

#endif /* CEPTOR_CTL_CTL_H */
