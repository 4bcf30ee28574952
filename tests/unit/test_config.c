/*
 * test_config.c - ceptord's YAML configuration and its error messages.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "collectors/feed/feed.h"
#include "lib/config.h"
#include "lib/file.h"

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof path, "/tmp/ceptor-config-%d.yml", (int)getpid());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load the text; return the diagnostics in diag (caller frees). */
static int load(struct cep_config *cfg, const char *text, char **diag)
{
	size_t len;
	FILE *d = open_memstream(diag, &len);
	write_file(text);
	cep_config_init(cfg);
	int rc = cep_config_load(cfg, path, d);
	fclose(d);
	unlink(path);
	return rc;
}

START_TEST(config_reads_collectors_with_their_grades)
{
	struct cep_config cfg;
	char *diag;
	int rc = load(&cfg,
		      "site: tokyo\n"
		      "redis: redis://127.0.0.1:7000\n"
		      "rules: [rules/default, /etc/ceptor/rules]\n"
		      "ring_capacity: 4096\n"
		      "spool_max: 64M\n"
		      "collectors:\n"
		      "  - kind: pcap\n"
		      "    name: tap-1\n"
		      "    files: [a.pcap, b.pcapng]\n"
		      "    filter: tcp\n"
		      "    reliability: B\n"
		      "    credibility: 2\n"
		      "    tlp: AMBER+STRICT\n"
		      "    sector: electricity\n"
		      "    overflow: drop\n"
		      "  - kind: ring\n"
		      "    ring: /ceptor-edge\n",
		      &diag);
	ck_assert_msg(rc == 0, "diagnostics: %s", diag);
	ck_assert_str_eq(cfg.site, "tokyo");
	ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:7000");
	ck_assert_uint_eq(cfg.nrule_dirs, 2);
	ck_assert_uint_eq(cfg.ring_capacity, 4096);
	ck_assert_uint_eq(cfg.spool_max_bytes, 64ull << 20);
	ck_assert_uint_eq(cfg.ninputs, 2);
	const struct cep_config_input *in = &cfg.inputs[0];
	ck_assert_int_eq(in->kind, CEP_INPUT_PCAP);
	ck_assert_str_eq(in->src.name, "tap-1");
	ck_assert_uint_eq(in->nfiles, 2);
	ck_assert_str_eq(in->files[1], "b.pcapng");
	ck_assert_str_eq(in->bpf, "tcp");
	ck_assert_uint_eq(in->src.reliability, CEP_REL_B);
	ck_assert_uint_eq(in->src.credibility, 2);
	ck_assert_uint_eq(in->src.tlp, CEP_TLP_AMBER_STRICT);
	ck_assert_uint_eq(in->src.sector, CEP_SECTOR_ELECTRICITY);
	ck_assert_uint_eq(in->src.overflow, CEP_OVERFLOW_DROP);
	ck_assert_str_eq(cfg.inputs[1].ring, "/ceptor-edge");
	/* Defaults for what the file does not say. */
	ck_assert_str_eq(cfg.inputs[1].src.name, "ring1");
	ck_assert_uint_eq(cfg.inputs[1].src.reliability, CEP_REL_F);
	ck_assert_uint_eq(cfg.inputs[1].src.tlp, CEP_TLP_AMBER);
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_reports_every_problem_with_its_line)
{
	struct cep_config cfg;
	char *diag;
	int rc = load(&cfg,
		      "site: x\n"
		      "colectors: []\n"
		      "ring_capacity: 1000\n"
		      "collectors:\n"
		      "  - kind: pcap\n"
		      "    reliability: G\n"
		      "    tlp: PURPLE\n"
		      "  - kind: carrier-pigeon\n",
		      &diag);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_assert_msg(strstr(diag, ":2: unknown key \"colectors\""), "%s", diag);
	ck_assert_msg(strstr(diag, ":3: ring_capacity must be a power of two"), "%s", diag);
	ck_assert_msg(strstr(diag, ":6: reliability must be one of A..F"), "%s", diag);
	ck_assert_msg(strstr(diag, ":7: tlp must be one of"), "%s", diag);
	ck_assert_msg(strstr(diag, ":8: collector kind must be pcap, flow, feed or ring"), "%s", diag);
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_reports_yaml_syntax_errors_with_the_line)
{
	struct cep_config cfg;
	char *diag;
	int rc = load(&cfg, "site: x\nrules: [a, b\nredis: none\n", &diag);
	ck_assert_int_eq(rc, -CEP_ECONFIG);
	ck_assert_msg(strstr(diag, path) != NULL, "%s", diag);
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_redis_none_disables_publishing)
{
	struct cep_config cfg;
	char *diag;
	ck_assert_int_eq(load(&cfg, "redis: none\n", &diag), 0);
	ck_assert_ptr_null(cfg.redis_url);
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_publish_prompt_is_on_unless_turned_off)
{
	struct cep_config cfg;
	char *diag;
	ck_assert_int_eq(load(&cfg, "publish_interval_ms: 5000\n", &diag), 0);
	ck_assert_int_eq(cfg.publish_prompt, 1);
	ck_assert_uint_eq(cfg.publish_interval_ms, 5000);
	free(diag);
	cep_config_fini(&cfg);
	ck_assert_int_eq(load(&cfg, "publish_prompt: false\n", &diag), 0);
	ck_assert_int_eq(cfg.publish_prompt, 0);
	free(diag);
	cep_config_fini(&cfg);
	ck_assert_int_ne(load(&cfg, "site: a\npublish_prompt: 1\n", &diag), 0);
	ck_assert_msg(strstr(diag, ":2: publish_prompt must be true or false") != NULL,
		      "%s", diag);
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_missing_file_is_an_errno)
{
	struct cep_config cfg;
	char *diag;
	size_t len;
	FILE *d = open_memstream(&diag, &len);
	cep_config_init(&cfg);
	ck_assert_int_lt(cep_config_load(&cfg, "/nonexistent/ceptor.yml", d), 0);
	fclose(d);
	ck_assert_ptr_nonnull(strstr(diag, "/nonexistent/ceptor.yml"));
	free(diag);
	cep_config_fini(&cfg);
}
END_TEST

START_TEST(config_shipped_example_is_valid)
{
	struct cep_config cfg;
	cep_config_init(&cfg);
	/* Tests run from the repository root (tests/run.sh). */
	ck_assert_int_eq(cep_config_load(&cfg, "deploy/ceptor.yml", stderr), 0);
	ck_assert_uint_eq(cfg.ninputs, 3);
	cep_config_fini(&cfg);
	cep_config_init(&cfg);
	ck_assert_int_eq(cep_config_load(&cfg, "deploy/demo.yml", stderr), 0);
	cep_config_fini(&cfg);
}
END_TEST

/* The config accepts exactly the formats the feed collector reads. */
START_TEST(config_feed_formats_are_the_collectors)
{
	static const char *const names[] = {
		"jsonl", "csv-shadowserver", "csv", "iplist", "report", "redis",
		"xml", "", "JSONL",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		ck_assert_msg(cep_config_feed_format_ok(names[i]) ==
				      (cep_feed_format_parse(names[i]) > 0),
			      "format \"%s\"", names[i]);
	for (int f = 1; *cep_feed_format_name(f) != '?'; f++)
		ck_assert_msg(cep_config_feed_format_ok(cep_feed_format_name(f)),
			      "format %s", cep_feed_format_name(f));
}
END_TEST

START_TEST(source_set_takes_tokens_and_refuses_others)
{
	struct cep_source src;
	ck_assert_int_eq(cep_source_init(&src, "tap"), 0);
	ck_assert_int_eq(cep_source_set(&src, "reliability", "A"), 0);
	ck_assert_int_eq(cep_source_set(&src, "credibility", "3"), 0);
	ck_assert_int_eq(cep_source_set(&src, "tlp", "TLP:GREEN"), 0);
	ck_assert_int_eq(cep_source_set(&src, "sector", "water"), 0);
	ck_assert_int_eq(cep_source_set(&src, "overflow", "drop"), 0);
	ck_assert_uint_eq(src.reliability, CEP_REL_A);
	ck_assert_uint_eq(src.credibility, 3);
	ck_assert_uint_eq(src.tlp, CEP_TLP_GREEN);
	ck_assert_uint_eq(src.sector, CEP_SECTOR_WATER);
	ck_assert_uint_eq(src.overflow, CEP_OVERFLOW_DROP);
	ck_assert_int_eq(cep_source_set(&src, "credibility", "7"), -CEP_EUNKNOWN);
	ck_assert_int_eq(cep_source_set(&src, "colour", "red"), -CEP_EUNKNOWN);
	ck_assert_int_eq(cep_source_set(&src, "name", "a-name-far-too-long-for-the-field"),
			 -CEP_ETOOLONG);
	struct cep_event ev;
	memset(&ev, 0, sizeof ev);
	ev.tlp = CEP_TLP_RED; /* the event's own marking wins */
	cep_source_stamp(&src, &ev);
	ck_assert_uint_eq(ev.tlp, CEP_TLP_RED);
	ck_assert_uint_eq(ev.reliability, CEP_REL_A);
	ck_assert_str_eq(ev.source, "");
}
END_TEST

/* Whole-file reads: the bytes and a NUL after them, empty files, a size
 * bound that refuses one byte more, and a missing file as its errno. */
START_TEST(file_read_takes_the_whole_file_within_its_bound)
{
	char dir[] = "/tmp/ceptor-file-XXXXXX", fpath[64];
	char *text;
	size_t len;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fpath, sizeof fpath, "%s/f", dir);
	ck_assert_int_eq(cep_file_read(fpath, 0, &text, &len), -ENOENT);
	ck_assert_ptr_null(text);
	f = fopen(fpath, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(cep_file_read(fpath, 10, &text, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(text, "");
	free(text);
	f = fopen(fpath, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	ck_assert_int_eq(cep_file_read(fpath, 0, &text, &len), 0);
	ck_assert_uint_eq(len, 200000);
	ck_assert_uint_eq(strlen(text), 200000);
	ck_assert_int_eq(text[199999], 'a' + 199999 % 26);
	free(text);
	ck_assert_int_eq(cep_file_read(fpath, 200000, &text, &len), 0);
	free(text);
	ck_assert_int_eq(cep_file_read(fpath, 199999, &text, &len), -EFBIG);
	ck_assert_ptr_null(text);
	unlink(fpath);
	rmdir(dir);
}
END_TEST

/* ceptord, ceptorctl and ceptor-web meet in one default spool. */
START_TEST(file_default_spool_follows_xdg_state_home)
{
	char buf[256];

	if (geteuid() == 0) {
		cep_file_default_spool(buf, sizeof buf);
		ck_assert_str_eq(buf, "/var/lib/ceptor/spool");
		return;
	}
	setenv("XDG_STATE_HOME", "/x/state", 1);
	cep_file_default_spool(buf, sizeof buf);
	ck_assert_str_eq(buf, "/x/state/ceptor/spool");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	cep_file_default_spool(buf, sizeof buf);
	ck_assert_str_eq(buf, "/home/u/.local/state/ceptor/spool");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, config_reads_collectors_with_their_grades);
	tcase_add_test(tc, config_reports_every_problem_with_its_line);
	tcase_add_test(tc, config_reports_yaml_syntax_errors_with_the_line);
	tcase_add_test(tc, config_redis_none_disables_publishing);
	tcase_add_test(tc, config_missing_file_is_an_errno);
	tcase_add_test(tc, config_shipped_example_is_valid);
	tcase_add_test(tc, source_set_takes_tokens_and_refuses_others);
	tcase_add_test(tc, config_feed_formats_are_the_collectors);
	tcase_add_test(tc, config_publish_prompt_is_on_unless_turned_off);
	tcase_add_test(tc, file_read_takes_the_whole_file_within_its_bound);
	tcase_add_test(tc, file_default_spool_follows_xdg_state_home);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
