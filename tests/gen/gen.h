/*
 * gen.h - the commands of ceptor-gen that live in their own files.
 *
 * ceptor-gen writes every test fixture (captures, flow exports, feeds) from
 * its arguments alone, so that a bare clone can make all of them.  gen.c
 * holds the capture commands and the dispatch table; each other family of
 * fixtures is one file with one entry point, listed here and in the table.
 * Each takes the whole argv (argv[1] is the command's name) and returns the
 * process exit status: 0, 1 for an I/O failure, 2 for bad usage.
 */
#ifndef CEPTOR_TESTS_GEN_H
#define CEPTOR_TESTS_GEN_H

int gen_flow_main(int argc, char **argv); /* flows: tests/gen/gen_flow.c */
int gen_feed_main(int argc, char **argv); /* feeds: tests/gen/gen_feed.c */

#endif /* CEPTOR_TESTS_GEN_H */
