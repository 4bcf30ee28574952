/*
 * gen_feed.c - ceptor-gen feeds DIR: feed fixtures with known content.
 *
 *   DIR/csv/      Shadowserver-style CSV reports, one per report type the
 *                 reader maps, with quoting, CRLF, a multi-line field, an
 *                 IPv6 host, unknown columns and malformed rows
 *   DIR/iplist/   an indicator list with comments and bad entries
 *   DIR/report/   operator reports: an update by report id, a
 *                 pretty-printed report, fragments and malformed ones
 *   DIR/EXPECT    one line per file: FORMAT PATH READ DECODED MALFORMED
 *                 FAILED, the counters ceptor-feed --stats must print for
 *                 it (FAILED is 1 for a file unusable as a whole)
 *
 * The content is fixed: tests/unit/test_feed.c and the feed_* integration
 * tests check exact fields against it, so change them together.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/gen/gen.h"

struct out {
	const char *dir;
	FILE *expect;
	int failed;
};

static int put(struct out *o, const char *sub, const char *name,
	       const char *text, const char *format, int read, int decoded,
	       int malformed, int failed)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", o->dir, sub);
	if (mkdir(path, 0755) && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof path, "%s/%s/%s", o->dir, sub, name);
	if (!(f = fopen(path, "wb")))
		goto fail;
	fputs(text, f);
	if (fclose(f))
		goto fail;
	fprintf(o->expect, "%s %s/%s %d %d %d %d\n", format, sub, name, read,
		decoded, malformed, failed);
	return 0;
fail:
	fprintf(stderr, "ceptor-gen: %s: %s\n", path, strerror(errno));
	o->failed = 1;
	return -1;
}

/* botnet_drone with CRLF line ends: 14 rows, 11 good, 3 malformed (lines
 * 12, 13, 14); line 9 quotes a comma and doubled quotes; the row starting
 * on line 10 has a field that spans into line 11; line 15 is blank. */
static void botnet_drone(struct out *o)
{
	static const char *const fam[] = { "zeus", "conficker", "mirai",
					   "necurs", "emotet", "qakbot" };
	char text[8192];
	size_t n = 0;

#define ADD(...) (n += (size_t)snprintf(text + n, sizeof text - n, __VA_ARGS__))
	ADD("\"timestamp\",\"ip\",\"port\",\"asn\",\"infection\",\"cc_ip\","
	    "\"cc_port\",\"cc_dns\",\"count\",\"note\",\"sector\",\"type\"\r\n");
	ADD("\"2024-05-01 00:00:01\",\"192.0.2.10\",1025,64496,\"dorkbot\","
	    "\"198.51.100.1\",80,\"c2.example.net\",3,\"plain\",\"Energy\","
	    "\"tcp\"\r\n");
	for (int i = 1; i <= 6; i++)
		ADD("\"2024-05-01 00:00:0%d\",\"192.0.2.%d\",%d,64496,\"%s\","
		    "\"198.51.100.%d\",443,,%d,,,\"udp\"\r\n", 1 + i, 10 + i,
		    1025 + i, fam[i - 1], 1 + i, i + 1);
	ADD("\"2024-05-01 00:00:20\",\"192.0.2.30\",2000,64496,\"andromeda\","
	    "\"198.51.100.9\",8080,,1,\"a, \"\"quoted\"\" note\",,\r\n");
	ADD("\"2024-05-01 00:00:21\",\"192.0.2.31\",2001,64496,\"tinba\","
	    "\"198.51.100.9\",8080,,1,\"line one\r\nline two\",,\r\n");
	ADD("\"2024-05-01 00:00:22\",\"192.0.2.32\",2002,64496,\"short\","
	    "\"198.51.100.9\",8080,,1,,\r\n");
	ADD("\"2024-13-01 00:00:23\",\"192.0.2.33\",2003,64496,\"badtime\","
	    "\"198.51.100.9\",8080,,1,,,\r\n");
	ADD("\"2024-05-01 00:00:24\",\"192.0.2.999\",2004,64496,\"badip\","
	    "\"198.51.100.9\",8080,,1,,,\r\n");
	ADD("\r\n");
	ADD("\"2024-05-01 00:01:00+00\",\"2001:db8::7\",2005,64496,\"ramnit\","
	    "\"198.51.100.9\",8080,,,,,\r\n");
	ADD("\"2024-05-01 00:02:00Z\",\"192.0.2.40\",2006,64496,"
	    "\"x-very-long-family-name-that-overflows\",\"198.51.100.9\",8080,"
	    ",1,,,\r\n");
#undef ADD
	put(o, "csv", "2024-05-01-botnet_drone-asn.csv", text,
	    "csv-shadowserver", 14, 11, 3, 0);
}

static void csv_reports(struct out *o)
{
	char text[4096];
	size_t n = 0;

#define ADD(...) (n += (size_t)snprintf(text + n, sizeof text - n, __VA_ARGS__))
	ADD("\"timestamp\",\"ip\",\"asn\",\"geo\",\"url\",\"type\",\"http_agent\","
	    "\"src_port\",\"dst_ip\",\"dst_port\",\"http_host\"\n");
	for (int i = 1; i <= 5; i++)
		ADD("\"2024-05-02 10:00:0%d\",\"203.0.113.%d\",64500,\"JP\","
		    "\"GET / HTTP/1.1\",\"avalanche-nymaim\",\"Mozilla/5.0\",%d,"
		    "\"198.51.100.100\",80,\"Sinkhole.Example.ORG\"\n", i, i,
		    40000 + i);
	put(o, "csv", "sinkhole_http_drone.csv", text, "csv-shadowserver", 5, 5,
	    0, 0);

	n = 0;
	ADD("\"timestamp\",\"ip\",\"port\",\"dst_port\",\"protocol\",\"count\","
	    "\"tag\"\n");
	for (int i = 1; i <= 4; i++)
		ADD("\"2024-05-02 11:00:0%d\",\"192.0.2.%d\",%d,23,\"tcp\",%d,"
		    "\"mirai\"\n", i, 50 + i, 50000 + i, 10 * i);
	put(o, "csv", "darknet.csv", text, "csv-shadowserver", 4, 4, 0, 0);

	n = 0;
	ADD("timestamp,ip,port,dest_ip,dest_port,service,username\n");
	for (int i = 1; i <= 3; i++)
		ADD("2024-05-02 12:00:0%d,198.51.100.%d,%d,192.0.2.200,22,ssh,"
		    "root\n", i, 60 + i, 33000 + i);
	put(o, "csv", "drone_brute_force.csv", text, "csv-shadowserver", 3, 3,
	    0, 0);

	n = 0;
	ADD("\"timestamp\",\"ip\",\"protocol\",\"dst_port\",\"tag\",\"src_port\","
	    "\"count\",\"bytes\"\n");
	ADD("\"2024-05-02 13:00:00\",\"192.0.2.77\",\"udp\",\"123\",\"ntp\","
	    "\"80\",\"15\",\"2700\"\n");
	ADD("\"2024-05-02 13:00:05\",\"192.0.2.78\",\"udp\",\"53\",\"dns\","
	    "\"443\",\"7\",\"900\"\n");
	put(o, "csv", "ddos_amplification.csv", text, "csv-shadowserver", 2, 2,
	    0, 0);

	n = 0;
	ADD("\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\","
	    "\"asn\"\n");
	ADD("\"2024-05-02 14:00:00\",\"192.0.2.90\",\"tcp\",23,\"h1\","
	    "\"telnet\",64496\n");
	ADD("\"2024-05-02 14:00:01\",\"192.0.2.91\",\"tcp\",2323,\"h2\","
	    "\"telnet-alt\",64496\n");
	ADD("\"2024-05-02 14:00:02\",\"192.0.2.92\",\"tcp\",23,\"h3\",,64496\n");
	put(o, "csv", "2024-05-02-scan_telnet-asn.csv", text,
	    "csv-shadowserver", 3, 3, 0, 0);

	n = 0;
	ADD("\"timestamp\",\"ip\",\"port\",\"query\",\"tag\",\"count\"\n");
	ADD("\"2024-05-02 15:00:00\",\"192.0.2.100\",53000,\"Bad.Example.COM\","
	    "\"boaxxe\",2\n");
	ADD("\"2024-05-02 15:00:01\",\"192.0.2.101\",53001,\"bad.example.com\","
	    "\"boaxxe\",1\n");
	put(o, "csv", "sinkhole_dns.csv", text, "csv-shadowserver", 2, 2, 0, 0);

	/* No report name in the file name: the header (cc_ip) tells. */
	n = 0;
	ADD("timestamp,ip,cc_ip,infection\n");
	ADD("2024-05-02 16:00:00,192.0.2.110,198.51.100.50,gozi\n");
	put(o, "csv", "mystery.csv", text, "csv-shadowserver", 1, 1, 0, 0);

	/* Neither name nor header tells: unusable as a whole. */
	n = 0;
	ADD("a,b\n1,2\n");
	put(o, "csv", "unknown.csv", text, "csv-shadowserver", 0, 0, 0, 1);
#undef ADD
}

/* 10 entries: 6 good, 4 malformed (lines 10, 11, 12, 13). */
static const char iplist[] =
	"# test indicator list\n"
	"; another comment style\n"
	"\n"
	"192.0.2.1\n"
	"2001:DB8::1            # inline comment\n"
	"198.51.100.0/24 ; SBL123\n"
	"2001:db8:100::/48\n"
	"Evil.Example.NET.\n"
	"c2.example.org\n"
	"999.1.2.3\n"
	"10.0.0.1/24\n"
	"two values\n"
	"bad_domain!\n";

/* 9 reports: 5 good (R-0001 twice, R-0002, R-0003, R-0007), 4 malformed
 * (lines 15, 16, 17, 18). */
static const char reports[] =
	"{\"report_id\":\"R-0001\",\"ts\":\"2024-05-01T09:00:00Z\","
	"\"reporter\":{\"org\":\"Kanto Power\",\"contacts\":{\"phone\":"
	"\"+81-3-0000-0000\",\"email\":\"soc@example.jp\"}},\"sector\":"
	"\"electricity\",\"trigger\":\"attack_detected\",\"cause\":{\"class\":"
	"\"cyber\",\"type\":\"intrusion\"},\"text\":\"IDS alert on the EMS "
	"segment\"}\n"
	"{\"report_id\":\"R-0001\",\"ts\":\"2024-05-01T10:00:00Z\",\"system\":"
	"{\"class\":\"power_management\",\"software\":\"EMS-Pro\",\"version\":"
	"\"4.2\",\"patch_state\":\"behind\"},\"may_spread\":true,"
	"\"damage_likely\":true}\n"
	"{\n"
	"  \"report_id\": \"R-0002\",\n"
	"  \"ts\": \"2024-05-01 11:00:00\",\n"
	"  \"reporter\": \"Tokyo Water\",\n"
	"  \"sector\": \"water\",\n"
	"  \"system\": \"water_control\",\n"
	"  \"cause\": \"power_loss\",\n"
	"  \"trigger\": \"serious_failure\",\n"
	"  \"actions\": \"switched to manual\",\n"
	"  \"notified\": [\"NISC\", \"MLIT\"]\n"
	"}\n"
	"{\"report_id\":\"R-0003\",\"ts\":\"2024-05-01T12:00:00Z\",\"sector\":"
	"\"finance\",\"trigger\":\"attack_detected\",\"type\":\"dos\"}\n"
	"{\"report_id\":\"R-0004\",\"ts\":\"2024-05-01T12:30:00Z\",\"sector\":"
	"\"outer-space\"}\n"
	"{\"report_id\":\"R-0005\",\"sector\":\"gas\"}\n"
	"{\"report_id\":\"R-0006\",\"ts\":\"2024-05-01T13:00:00Z\",\"cause\":"
	"{\"class\":\"disaster\",\"type\":\"malware\"}}\n"
	"not json at all\n"
	"{\"report_id\":\"R-0007\",\"ts\":\"2024-05-01T14:00:00Z\",\"sector\":"
	"\"rail\",\"trigger\":\"damage_detected\",\"src_ip\":\"203.0.113.9\","
	"\"indicator\":\"evil.example.net\"}\n";

int gen_feed_main(int argc, char **argv)
{
	struct out o = { 0 };
	char path[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: ceptor-gen feeds DIR\n");
		return 2;
	}
	o.dir = argv[2];
	if (mkdir(o.dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "ceptor-gen: %s: %s\n", o.dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof path, "%s/EXPECT", o.dir);
	if (!(o.expect = fopen(path, "w"))) {
		fprintf(stderr, "ceptor-gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	botnet_drone(&o);
	csv_reports(&o);
	put(&o, "iplist", "indicators.txt", iplist, "iplist", 10, 6, 4, 0);
	put(&o, "report", "reports.json", reports, "report", 9, 5, 4, 0);
	if (fclose(o.expect))
		o.failed = 1;
	return o.failed;
}
