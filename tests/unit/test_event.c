/*
 * test_event.c - the event record's vocabularies, addresses, time and its
 * JSON Lines form.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptor/error.h"
#include "ceptor/event.h"
#include "lib/json.h"

static struct cep_event full_event(void)
{
	struct cep_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts = 1764107000123456789ull;
	ev.bytes = 1514;
	ev.packets = 3;
	ck_assert_int_eq(cep_ip_parse("192.0.2.7", ev.src_ip), CEP_AF_INET);
	ev.src_af = CEP_AF_INET;
	ck_assert_int_eq(cep_ip_parse("2001:db8::1", ev.dst_ip), CEP_AF_INET6);
	ev.dst_af = CEP_AF_INET6;
	ev.src_port = 40000;
	ev.dst_port = 443;
	ev.count = 12;
	ev.kind = CEP_KIND_FLOW;
	ev.type = CEP_TYPE_C2;
	ev.sector = CEP_SECTOR_ELECTRICITY;
	ev.reliability = CEP_REL_B;
	ev.credibility = 2;
	ev.tlp = CEP_TLP_AMBER_STRICT;
	ev.proto = 6;
	ev.tcp_flags = 0x12;
	ev.icmp_type = 3;
	ev.icmp_code = 1;
	ev.system = CEP_SYSTEM_PLANT_CONTROL;
	ev.trigger = CEP_TRIGGER_DAMAGE_DETECTED;
	ev.vlan = 100;
	ev.flags = CEP_EV_FRAGMENT | CEP_EV_MAY_SPREAD;
	ev.seq = 77;
	cep_event_set_text(ev.source, sizeof ev.source, "tap-east");
	cep_event_set_text(ev.reporter, sizeof ev.reporter, "Op \"North\"\\grid");
	cep_event_set_text(ev.indicator, sizeof ev.indicator, "evil.example.net");
	cep_event_set_text(ev.name, sizeof ev.name, "mirai\tvariant");
	cep_event_set_text(ev.report_id, sizeof ev.report_id, "R-2026-17");
	return ev;
}

START_TEST(event_json_round_trip_keeps_every_field)
{
	struct cep_event a = full_event(), b;
	char buf[CEP_EVENT_JSON_MAX], buf2[CEP_EVENT_JSON_MAX], err[128];
	int n = cep_event_to_json(&a, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(cep_event_from_json(buf, (size_t)n, &b, err, sizeof err), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
	int n2 = cep_event_to_json(&b, buf2, sizeof buf2);
	ck_assert_int_eq(n, n2);
	ck_assert_str_eq(buf, buf2);
}
END_TEST

START_TEST(event_json_writes_rfc3339_and_text_addresses)
{
	struct cep_event a = full_event();
	char buf[CEP_EVENT_JSON_MAX];
	ck_assert_int_gt(cep_event_to_json(&a, buf, sizeof buf), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"ts\":\"2025-11-25T21:43:20.123456789Z\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"src_ip\":\"192.0.2.7\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"dst_ip\":\"2001:db8::1\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"tlp\":\"AMBER+STRICT\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"proto\":6"));
	ck_assert_ptr_nonnull(strstr(buf, "\"fragment\":true"));
}
END_TEST

START_TEST(event_json_unset_fields_are_left_out)
{
	struct cep_event a, b;
	char buf[CEP_EVENT_JSON_MAX];
	memset(&a, 0, sizeof a);
	a.ts = 1000000000ull;
	a.kind = CEP_KIND_PACKET;
	int n = cep_event_to_json(&a, buf, sizeof buf);
	ck_assert_str_eq(buf, "{\"ts\":\"1970-01-01T00:00:01.000000Z\",\"source\":\"\","
			      "\"kind\":\"packet\",\"type\":\"\",\"sector\":\"unknown\"}");
	ck_assert_int_eq(cep_event_from_json(buf, (size_t)n, &b, NULL, 0), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
}
END_TEST

START_TEST(event_json_reader_names_the_bad_field_and_offset)
{
	struct cep_event ev;
	char err[160];
	const char *line = "{\"ts\":\"2026-01-01T00:00:00Z\",\"sector\":\"space\"}";
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, err, sizeof err),
			 -CEP_EUNKNOWN);
	ck_assert_ptr_nonnull(strstr(err, "sector"));
	ck_assert_ptr_nonnull(strstr(err, "offset 38"));

	line = "{\"ts\":\"2026-01-01T00:00:00Z\",\"dst_port\":70000}";
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, err, sizeof err),
			 -CEP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "dst_port"));

	line = "{\"ts\":\"2026-01-01T00:00:00Z\",\"src_ip\":\"300.1.1.1\"}";
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, err, sizeof err),
			 -CEP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "src_ip"));

	line = "{\"ts\":\"2026-01-01T00:00:00Z\", \"kind\": ";
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, err, sizeof err),
			 -CEP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "offset"));
}
END_TEST

START_TEST(event_json_refuses_text_longer_than_its_field)
{
	struct cep_event ev;
	char line[256], err[128];
	snprintf(line, sizeof line, "{\"report_id\":\"%s\"}", "0123456789abcdefX");
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, err, sizeof err),
			 -CEP_ETOOLONG);
	ck_assert_ptr_nonnull(strstr(err, "report_id"));
}
END_TEST

START_TEST(event_json_skips_unknown_members_and_nested_values)
{
	struct cep_event ev;
	const char *line = "{\"future\":{\"a\":[1,2,{\"b\":null}]},\"dst_port\":\"22\","
			   "\"kind\":\"feed\",\"x\":[\"]\"]}";
	ck_assert_int_eq(cep_event_from_json(line, strlen(line), &ev, NULL, 0), 0);
	ck_assert_int_eq(ev.dst_port, 22);
	ck_assert_int_eq(ev.kind, CEP_KIND_FEED);
}
END_TEST

START_TEST(event_json_recipients_round_trip_and_are_checked)
{
	struct cep_event ev;
	char buf[1024], err[160];
	const char *arr = "{\"ts\":\"2026-03-01T12:00:00Z\",\"tlp\":\"RED\","
			  "\"recipients\":[\"finance\", \"rail\"]}";
	const char *str = "{\"ts\":\"2026-03-01T12:00:00Z\","
			  "\"recipients\":\"rail,finance\"}";
	const char *bad = "{\"ts\":\"2026-03-01T12:00:00Z\","
			  "\"recipients\":[\"banks\"]}";

	ck_assert_int_eq(cep_event_from_json(arr, strlen(arr), &ev, err, sizeof err), 0);
	uint32_t want = (1u << CEP_SECTOR_FINANCE) | (1u << CEP_SECTOR_RAIL);
	ck_assert_uint_eq(cep_event_recipients(&ev), want);
	ck_assert_uint_eq(ev.flags & ~CEP_EV_RECIPIENTS_MASK, 0);
	int n = cep_event_to_json(&ev, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"recipients\":[\"finance\",\"rail\"]"));
	ck_assert_int_eq(cep_event_from_json(buf, (size_t)n, &ev, err, sizeof err), 0);
	ck_assert_uint_eq(cep_event_recipients(&ev), want);
	ck_assert_int_eq(cep_event_from_json(str, strlen(str), &ev, err, sizeof err), 0);
	ck_assert_uint_eq(cep_event_recipients(&ev), want);
	ck_assert_int_lt(cep_event_from_json(bad, strlen(bad), &ev, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "recipients"));
}
END_TEST

START_TEST(time_parse_accepts_offsets_and_feed_form)
{
	uint64_t a, b, c;
	const char *z = "2026-03-01T12:00:00.5Z";
	const char *off = "2026-03-01T21:00:00.5+09:00";
	const char *feed = "2026-03-01 12:00:00";
	ck_assert_int_eq(cep_time_parse(z, strlen(z), &a), 0);
	ck_assert_int_eq(cep_time_parse(off, strlen(off), &b), 0);
	ck_assert_int_eq(cep_time_parse(feed, strlen(feed), &c), 0);
	ck_assert_uint_eq(a, b);
	ck_assert_uint_eq(a, c + 500000000u);
	ck_assert_int_eq(cep_time_parse("2026-13-01T00:00:00Z", 20, &a), -CEP_EMALFORMED);
	ck_assert_int_eq(cep_time_parse("2026-01-01T00:00:00", 19, &a), -CEP_EMALFORMED);
}
END_TEST

START_TEST(vocabulary_tokens_round_trip)
{
	for (int i = 1; i < CEP_TYPE_COUNT; i++)
		ck_assert_int_eq(cep_type_parse(cep_type_name(i)), i);
	for (int i = 0; i < CEP_SECTOR_COUNT; i++)
		ck_assert_int_eq(cep_sector_parse(cep_sector_name(i)), i);
	for (int i = 1; i < CEP_TLP_COUNT; i++)
		ck_assert_int_eq(cep_tlp_parse(cep_tlp_name(i)), i);
	ck_assert_int_eq(cep_tlp_parse("TLP:RED"), CEP_TLP_RED);
	ck_assert_int_eq(cep_type_parse("Scan"), -CEP_EUNKNOWN);
	ck_assert_int_eq(cep_type_cause(CEP_TYPE_SCAN), CEP_CAUSE_CYBER);
	ck_assert_int_eq(cep_type_cause(CEP_TYPE_MISCONFIG), CEP_CAUSE_UNINTENTIONAL);
	ck_assert_int_eq(cep_type_cause(CEP_TYPE_EARTHQUAKE), CEP_CAUSE_DISASTER);
	ck_assert_int_eq(cep_type_cause(CEP_TYPE_TRAFFIC), CEP_CAUSE_NONE);
}
END_TEST

START_TEST(json_unescape_decodes_surrogate_pairs)
{
	struct cep_json_reader r;
	struct cep_json_value k, v;
	char out[16];
	const char *text = "{\"k\":\"a\\u00e9\\ud83d\\ude00\"}";
	cep_json_reader_init(&r, text, strlen(text));
	ck_assert_int_eq(cep_json_next(&r, &k, &v), 1);
	ck_assert_int_eq(cep_json_unescape(&v, out, sizeof out), 7);
	ck_assert_str_eq(out, "a\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_int_eq(cep_json_next(&r, &k, &v), 0);
}
END_TEST

START_TEST(json_writer_escapes_every_position_of_a_long_string)
{
	/* Escapes at every offset, so the word-at-a-time scan meets them in
	 * each byte lane and at the tail. */
	char in[40], buf[256], out[64];
	for (size_t at = 0; at < 33; at++) {
		for (const char *e = "\"\\\n\x01"; *e; e++) {
			memset(in, 'a', sizeof in);
			in[33] = '\0';
			in[at] = *e;
			struct cep_jw w;
			cep_jw_init(&w, buf, sizeof buf);
			cep_jw_begin(&w);
			cep_jw_str(&w, "k", in);
			ck_assert_int_gt(cep_jw_end(&w), 0);
			struct cep_json_reader r;
			struct cep_json_value k, v;
			cep_json_reader_init(&r, buf, strlen(buf));
			ck_assert_int_eq(cep_json_next(&r, &k, &v), 1);
			ck_assert_int_eq(cep_json_unescape(&v, out, sizeof out), 33);
			ck_assert_str_eq(out, in);
		}
	}
}
END_TEST

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, event_json_round_trip_keeps_every_field);
	tcase_add_test(tc, event_json_writes_rfc3339_and_text_addresses);
	tcase_add_test(tc, event_json_unset_fields_are_left_out);
	tcase_add_test(tc, event_json_reader_names_the_bad_field_and_offset);
	tcase_add_test(tc, event_json_refuses_text_longer_than_its_field);
	tcase_add_test(tc, event_json_skips_unknown_members_and_nested_values);
	tcase_add_test(tc, event_json_recipients_round_trip_and_are_checked);
	tcase_add_test(tc, time_parse_accepts_offsets_and_feed_form);
	tcase_add_test(tc, vocabulary_tokens_round_trip);
	tcase_add_test(tc, json_unescape_decodes_surrogate_pairs);
	tcase_add_test(tc, json_writer_escapes_every_position_of_a_long_string);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(event_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
