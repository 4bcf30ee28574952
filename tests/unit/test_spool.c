/*
 * test_spool.c - the publisher's outage file: order, damage, ceiling, lock.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "publish/spool.h"
#include "tests/lib/tmpdir.h"

static char dir[64];

static void setup(void)
{
	cep_test_tmpdir(dir, sizeof dir, "ceptor-spool");
}

static void teardown(void)
{
	cep_test_rmtree(dir);
}

static char *spool_file(void)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, CEP_SPOOL_FILE);
	return path;
}

/* Append message number i: stream, then id=i and a body. */
static void append_msg(struct cep_spool *s, int i)
{
	char id[16], body[64];
	snprintf(id, sizeof id, "%d", i);
	snprintf(body, sizeof body, "body of message %d", i);
	const char *argv[] = { "ceptor:{telecom}:incidents", "id", id, "body",
			       body };
	size_t len[5];
	for (int k = 0; k < 5; k++)
		len[k] = strlen(argv[k]);
	ck_assert_int_eq(cep_spool_append(s, 5, argv, len), 0);
}

struct seen {
	int n;
	int ids[64];
	int bad;
};

static int collect(void *arg, size_t argc, const char *const *argv,
		   const size_t *argvlen)
{
	struct seen *sn = arg;
	char body[64];
	if (argc != 5 || strcmp(argv[0], "ceptor:{telecom}:incidents") ||
	    strcmp(argv[1], "id") || strcmp(argv[3], "body") ||
	    argvlen[2] != strlen(argv[2]))
		sn->bad++;
	int id = atoi(argv[2]);
	snprintf(body, sizeof body, "body of message %d", id);
	if (strcmp(argv[4], body))
		sn->bad++;
	if (sn->n < 64)
		sn->ids[sn->n] = id;
	sn->n++;
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

START_TEST(spool_round_trip_keeps_records_and_their_order)
{
	struct cep_spool *s;
	struct seen sn = { 0 };
	struct cep_spool_replay_result res;

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	ck_assert_int_eq(cep_spool_pending(s), 0);
	for (int i = 0; i < 10; i++)
		append_msg(s, i);
	ck_assert_int_eq(cep_spool_pending(s), 1);
	ck_assert_int_eq(cep_spool_sync(s), 0);
	ck_assert_int_eq((long)file_size(spool_file()),
			 (long)cep_spool_bytes(s));
	cep_spool_close(s);

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	ck_assert_int_eq(cep_spool_open_damage(s, NULL), 0);
	ck_assert_int_eq(cep_spool_replay(s, collect, &sn, &res), 0);
	ck_assert_int_eq(res.damage, 0);
	ck_assert_int_eq((int)res.records, 10);
	ck_assert_int_eq(sn.n, 10);
	ck_assert_int_eq(sn.bad, 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(sn.ids[i], i);
	cep_spool_close(s);
}
END_TEST

struct binary_seen {
	int n;
	int ok;
};

static int check_binary(void *arg, size_t argc, const char *const *av,
			const size_t *al)
{
	struct binary_seen *st = arg;
	st->n++;
	st->ok = argc == 3 && al[2] == 5 && !memcmp(av[2], "a\0b\r\n", 5) &&
		 av[2][5] == '\0';
	return 0;
}

START_TEST(spool_keeps_binary_values_with_nul_bytes)
{
	struct cep_spool *s;
	struct binary_seen st = { 0, 0 };
	const char *argv[] = { "k", "f", "a\0b\r\n" };
	size_t len[] = { 1, 1, 5 };
	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	ck_assert_int_eq(cep_spool_append(s, 3, argv, len), 0);
	ck_assert_int_eq(cep_spool_replay(s, check_binary, &st, NULL), 0);
	ck_assert_int_eq(st.n, 1);
	ck_assert_int_eq(st.ok, 1);
	cep_spool_close(s);
}
END_TEST

START_TEST(spool_open_detects_a_torn_tail_and_reports_its_offset)
{
	struct cep_spool *s;
	struct seen sn = { 0 };
	uint64_t third, off = 0;

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	append_msg(s, 0);
	append_msg(s, 1);
	third = cep_spool_bytes(s);
	append_msg(s, 2);
	ck_assert_int_eq(cep_spool_sync(s), 0);
	cep_spool_close(s);
	/* A crash in the middle of writing the third record. */
	ck_assert_int_eq(truncate(spool_file(), file_size(spool_file()) - 3), 0);

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	ck_assert_int_eq(cep_spool_open_damage(s, &off), -CEP_ETRUNCATED);
	ck_assert_uint_eq(off, third);
	ck_assert_uint_eq(cep_spool_bytes(s), third);
	/* The damaged file was kept for a human. */
	char pat[128];
	glob_t g;
	snprintf(pat, sizeof pat, "%.100s.corrupt-*", spool_file());
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	ck_assert_int_eq((int)g.gl_pathc, 1);
	globfree(&g);
	/* A record appended now is reachable after the two good ones. */
	append_msg(s, 7);
	ck_assert_int_eq(cep_spool_replay(s, collect, &sn, NULL), 0);
	ck_assert_int_eq(sn.n, 3);
	ck_assert_int_eq(sn.ids[0], 0);
	ck_assert_int_eq(sn.ids[1], 1);
	ck_assert_int_eq(sn.ids[2], 7);
	ck_assert_int_eq(sn.bad, 0);
	cep_spool_close(s);
}
END_TEST

START_TEST(spool_replay_stops_at_a_corrupted_checksum_with_its_offset)
{
	struct cep_spool *s;
	struct seen sn = { 0 };
	struct cep_spool_replay_result res;
	uint64_t second;

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	append_msg(s, 0);
	second = cep_spool_bytes(s);
	append_msg(s, 1);
	append_msg(s, 2);
	ck_assert_int_eq(cep_spool_sync(s), 0);
	/* Flip one payload byte of the second record behind the spool's back. */
	int fd = open(spool_file(), O_RDWR);
	ck_assert_int_ge(fd, 0);
	char b;
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)second + 20), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)second + 20), 1);
	close(fd);

	ck_assert_int_eq(cep_spool_replay(s, collect, &sn, &res), 0);
	ck_assert_int_eq(res.damage, -CEP_EMALFORMED);
	ck_assert_uint_eq(res.bad_offset, second);
	ck_assert_int_eq((int)res.records, 1);
	ck_assert_int_eq(sn.n, 1);
	ck_assert_int_eq(sn.ids[0], 0);
	cep_spool_close(s);

	/* Reopening finds the same damage and cuts the file back to record 0. */
	uint64_t off;
	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	ck_assert_int_eq(cep_spool_open_damage(s, &off), -CEP_EMALFORMED);
	ck_assert_uint_eq(off, second);
	ck_assert_uint_eq(cep_spool_bytes(s), second);
	cep_spool_close(s);
}
END_TEST

START_TEST(spool_ceiling_refuses_further_records_and_counts_them)
{
	struct cep_spool *s;
	struct cep_spool *probe;
	uint64_t one;

	/* Measure one record, then allow exactly two. */
	ck_assert_int_eq(cep_spool_open(dir, 0, &probe), 0);
	append_msg(probe, 0);
	one = cep_spool_bytes(probe) - CEP_SPOOL_HEADER;
	cep_spool_close(probe);
	unlink(spool_file());

	ck_assert_int_eq(cep_spool_open(dir, CEP_SPOOL_HEADER + 2 * one, &s), 0);
	append_msg(s, 0);
	append_msg(s, 1);
	const char *argv[] = { "ceptor:{telecom}:incidents", "id", "2", "body",
			       "body of message 2" };
	size_t len[5];
	for (int k = 0; k < 5; k++)
		len[k] = strlen(argv[k]);
	ck_assert_int_eq(cep_spool_append(s, 5, argv, len), -ENOSPC);
	ck_assert_int_eq(cep_spool_append(s, 5, argv, len), -ENOSPC);
	ck_assert_uint_eq(cep_spool_refused(s), 2);
	ck_assert_uint_eq(cep_spool_bytes(s), CEP_SPOOL_HEADER + 2 * one);

	struct seen sn = { 0 };
	ck_assert_int_eq(cep_spool_replay(s, collect, &sn, NULL), 0);
	ck_assert_int_eq(sn.n, 2);
	/* Once delivered and truncated, there is room again. */
	ck_assert_int_eq(cep_spool_truncate(s), 0);
	ck_assert_int_eq(cep_spool_append(s, 5, argv, len), 0);
	cep_spool_close(s);
}
END_TEST

START_TEST(spool_truncate_leaves_only_the_header)
{
	struct cep_spool *s;
	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	for (int i = 0; i < 5; i++)
		append_msg(s, i);
	ck_assert_int_eq(cep_spool_sync(s), 0);
	ck_assert_int_eq(cep_spool_truncate(s), 0);
	ck_assert_int_eq(cep_spool_pending(s), 0);
	ck_assert_int_eq((int)file_size(spool_file()), CEP_SPOOL_HEADER);
	struct seen sn = { 0 };
	ck_assert_int_eq(cep_spool_replay(s, collect, &sn, NULL), 0);
	ck_assert_int_eq(sn.n, 0);
	cep_spool_close(s);
}
END_TEST

START_TEST(spool_is_locked_against_a_second_opener)
{
	struct cep_spool *a, *b;
	ck_assert_int_eq(cep_spool_open(dir, 0, &a), 0);
	ck_assert_int_eq(cep_spool_open(dir, 0, &b), -EBUSY);
	cep_spool_close(a);
	ck_assert_int_eq(cep_spool_open(dir, 0, &b), 0);
	cep_spool_close(b);
}
END_TEST

/* Records the mark of each record as it is handed over. */
struct marks {
	struct cep_spool *s;
	int n;
	uint64_t mark[16];
	struct seen sn;
};

static int collect_marks(void *arg, size_t argc, const char *const *argv,
			 const size_t *argvlen)
{
	struct marks *m = arg;
	if (m->n < 16)
		m->mark[m->n] = cep_spool_replay_mark(m->s);
	m->n++;
	return collect(&m->sn, argc, argv, argvlen);
}

START_TEST(spool_replay_resumes_after_the_consumed_records)
{
	struct cep_spool *s;
	struct marks m = { 0 };

	ck_assert_int_eq(cep_spool_open(dir, 0, &s), 0);
	for (int i = 0; i < 10; i++)
		append_msg(s, i);
	m.s = s;
	ck_assert_int_eq(cep_spool_replay(s, collect_marks, &m, NULL), 0);
	ck_assert_int_eq(m.n, 10);
	ck_assert_uint_gt(m.mark[0], CEP_SPOOL_HEADER);
	ck_assert_uint_eq(m.mark[9], cep_spool_bytes(s));

	/* Four delivered: the next replay starts at the fifth record, and
	 * records appended meanwhile follow the rest. */
	cep_spool_consume(s, m.mark[3]);
	ck_assert_int_eq(cep_spool_pending(s), 1);
	append_msg(s, 10);
	memset(&m, 0, sizeof m);
	m.s = s;
	ck_assert_int_eq(cep_spool_replay(s, collect_marks, &m, NULL), 0);
	ck_assert_int_eq(m.sn.n, 7);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(m.sn.ids[i], 4 + i);

	/* All delivered: nothing pending, though the bytes stay until the
	 * truncate, which also puts the head back. */
	cep_spool_consume(s, m.mark[6]);
	ck_assert_int_eq(cep_spool_pending(s), 0);
	ck_assert_uint_gt(cep_spool_bytes(s), CEP_SPOOL_HEADER);
	ck_assert_int_eq(cep_spool_truncate(s), 0);
	ck_assert_int_eq(cep_spool_pending(s), 0);
	append_msg(s, 11);
	ck_assert_int_eq(cep_spool_pending(s), 1);
	memset(&m, 0, sizeof m);
	m.s = s;
	ck_assert_int_eq(cep_spool_replay(s, collect_marks, &m, NULL), 0);
	ck_assert_int_eq(m.sn.n, 1);
	ck_assert_int_eq(m.sn.ids[0], 11);
	cep_spool_close(s);
}
END_TEST

START_TEST(crc32_matches_the_zlib_check_value)
{
	ck_assert_uint_eq(cep_crc32(0, "123456789", 9), 0xCBF43926u);
}
END_TEST

static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, spool_round_trip_keeps_records_and_their_order);
	tcase_add_test(tc, spool_keeps_binary_values_with_nul_bytes);
	tcase_add_test(tc, spool_open_detects_a_torn_tail_and_reports_its_offset);
	tcase_add_test(tc, spool_replay_stops_at_a_corrupted_checksum_with_its_offset);
	tcase_add_test(tc, spool_ceiling_refuses_further_records_and_counts_them);
	tcase_add_test(tc, spool_truncate_leaves_only_the_header);
	tcase_add_test(tc, spool_is_locked_against_a_second_opener);
	tcase_add_test(tc, spool_replay_resumes_after_the_consumed_records);
	tcase_add_test(tc, crc32_matches_the_zlib_check_value);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(spool_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
