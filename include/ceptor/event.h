/*
 * event.h - the normalised event record, its vocabularies and its JSON form.
 *
 * Every collector turns its input (a packet, a flow record, a feed row, an
 * operator report) into one struct cep_event.  The record has a fixed size,
 * a multiple of the cache line, so that rings can carry it by value, pools
 * can hold it without per-event allocation, and a process on the other side
 * of a shared-memory ring sees exactly the same bytes.  It holds no pointers.
 *
 * Layout (256 bytes, 4 cache lines; offsets are pinned by static asserts in
 * event.c because the ring's layout version depends on them):
 *
 *   0 +--------+--------+--------+-----------------+-----------------+
 *     | ts     | bytes  | packets| src_ip (16)     | dst_ip (16)     |
 *  56 +--------+--------+--------+-----------------+-----------------+
 *     | sport dport count | kind type sector rel cred tlp proto tcpf |
 *  72 | src_af dst_af icmp_type icmp_code system trigger vlan        |
 *  80 | flags | seq | source[24] | reporter[40]                      |
 * 152 | indicator[64] | name[24] | report_id[16]                     |
 * 256 +-------------------------------------------------------------+
 *
 * Enumerated fields store small integers whose value 0 means "not set";
 * the canonical tokens of DESIGN.md section 3 are their names, shared by
 * events, rules, configuration and stream keys.  Text fields are
 * NUL-terminated and NUL-padded; a value that does not fit is an error
 * (CEP_ETOOLONG), never silently cut, because indicators must match exactly.
 *
 * JSON Lines form: one flat object per event.  ts, source, kind, type,
 * sector are always written; every other field is written only when set
 * (non-zero, non-empty), and a field that is absent reads back as unset.
 * Hence write -> read -> write is byte-identical, and read -> write -> read
 * gives the same record.  Addresses are text (dotted quad, RFC 5952 IPv6),
 * proto is the IANA number, ts is RFC 3339 UTC with fractional seconds.
 *
 * Thread safety: records are plain values.  The vocabulary functions and the
 * codec keep no state and may run on any thread.
 */
#ifndef CEPTOR_EVENT_H
#define CEPTOR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define CEP_CACHE_LINE 64
#define CEP_EVENT_SIZE 256

/* Kinds of event (DESIGN.md section 3). */
enum cep_kind {
	CEP_KIND_NONE = 0,
	CEP_KIND_PACKET,
	CEP_KIND_FLOW,
	CEP_KIND_FEED,
	CEP_KIND_REPORT,
	CEP_KIND_INTEL,
	CEP_KIND_INCIDENT,
	CEP_KIND_COUNT
};

/* Threat and failure types (DESIGN.md section 3); order is the wire order. */
enum cep_type {
	CEP_TYPE_NONE = 0,
	CEP_TYPE_INTRUSION,
	CEP_TYPE_TAMPERING,
	CEP_TYPE_COMMAND_EXEC,
	CEP_TYPE_MALWARE,
	CEP_TYPE_DOS,
	CEP_TYPE_LEAK,
	CEP_TYPE_THEFT,
	CEP_TYPE_SCAN,
	CEP_TYPE_C2,
	CEP_TYPE_SINKHOLE,
	CEP_TYPE_BRUTE_FORCE,
	CEP_TYPE_PHISHING,
	CEP_TYPE_VULN,
	CEP_TYPE_MISCONFIG,
	CEP_TYPE_DEFECT,
	CEP_TYPE_MAINTENANCE,
	CEP_TYPE_AUDIT_GAP,
	CEP_TYPE_OUTSOURCING,
	CEP_TYPE_MGMT_FAILURE,
	CEP_TYPE_INSIDER,
	CEP_TYPE_EARTHQUAKE,
	CEP_TYPE_FLOOD,
	CEP_TYPE_LIGHTNING,
	CEP_TYPE_FIRE,
	CEP_TYPE_POWER_LOSS,
	CEP_TYPE_COMM_LOSS,
	CEP_TYPE_FACILITY_DAMAGE,
	CEP_TYPE_TRAFFIC,
	CEP_TYPE_COUNT
};

/* Cause classes, derived from the type by cep_type_cause(). */
enum cep_cause {
	CEP_CAUSE_NONE = 0,
	CEP_CAUSE_CYBER,
	CEP_CAUSE_UNINTENTIONAL,
	CEP_CAUSE_DISASTER,
	CEP_CAUSE_COUNT
};

/* Critical-infrastructure sectors; 0 is "unknown". */
enum cep_sector {
	CEP_SECTOR_UNKNOWN = 0,
	CEP_SECTOR_TELECOM,
	CEP_SECTOR_FINANCE,
	CEP_SECTOR_AVIATION,
	CEP_SECTOR_RAIL,
	CEP_SECTOR_ELECTRICITY,
	CEP_SECTOR_GAS,
	CEP_SECTOR_GOVERNMENT,
	CEP_SECTOR_MEDICAL,
	CEP_SECTOR_WATER,
	CEP_SECTOR_LOGISTICS,
	CEP_SECTOR_COUNT
};

/* Admiralty source reliability A (1) .. F (6); 0 is unset. */
enum cep_reliability {
	CEP_REL_NONE = 0,
	CEP_REL_A, CEP_REL_B, CEP_REL_C, CEP_REL_D, CEP_REL_E, CEP_REL_F,
	CEP_REL_COUNT
};

/* Information credibility is stored as its digit 1..6; 0 is unset. */
#define CEP_CRED_MAX 6

/* TLP 2.0 markings, ordered from least to most strict; 0 is unset. */
enum cep_tlp {
	CEP_TLP_NONE = 0,
	CEP_TLP_CLEAR,
	CEP_TLP_GREEN,
	CEP_TLP_AMBER,
	CEP_TLP_AMBER_STRICT,
	CEP_TLP_RED,
	CEP_TLP_COUNT
};

/* Critical-system classes (DESIGN.md section 3). */
enum cep_system {
	CEP_SYSTEM_NONE = 0,
	CEP_SYSTEM_NETWORK,
	CEP_SYSTEM_OPERATION_SUPPORT,
	CEP_SYSTEM_BANKING_CORE,
	CEP_SYSTEM_SETTLEMENT,
	CEP_SYSTEM_TRADING,
	CEP_SYSTEM_FLIGHT_OPERATIONS,
	CEP_SYSTEM_AIR_TRAFFIC_CONTROL,
	CEP_SYSTEM_TRAIN_TRAFFIC_CONTROL,
	CEP_SYSTEM_POWER_MANAGEMENT,
	CEP_SYSTEM_PLANT_CONTROL,
	CEP_SYSTEM_REMOTE_MONITORING,
	CEP_SYSTEM_E_GOVERNMENT,
	CEP_SYSTEM_HEALTH_RECORDS,
	CEP_SYSTEM_WATER_CONTROL,
	CEP_SYSTEM_CARGO_TRACKING,
	CEP_SYSTEM_WAREHOUSE_MANAGEMENT,
	CEP_SYSTEM_COUNT
};

/* What made an operator report (DESIGN.md section 4). */
enum cep_trigger {
	CEP_TRIGGER_NONE = 0,
	CEP_TRIGGER_SERIOUS_FAILURE,
	CEP_TRIGGER_ATTACK_DETECTED,
	CEP_TRIGGER_DAMAGE_DETECTED,
	CEP_TRIGGER_SECONDARY_DAMAGE,
	CEP_TRIGGER_COUNT
};

/* Bits of cep_event.flags; each has a boolean JSON field of the same name. */
#define CEP_EV_FRAGMENT      (1u << 0) /* "fragment": an IP fragment */
#define CEP_EV_TRUNCATED     (1u << 1) /* "truncated": caplen cut a header */
#define CEP_EV_EXERCISE      (1u << 2) /* "exercise": produced by a drill */
#define CEP_EV_MAY_SPREAD    (1u << 3) /* "may_spread": to other operators */
#define CEP_EV_DAMAGE_LIKELY (1u << 4) /* "damage_likely": report says so */
#define CEP_EV_TUNNEL        (1u << 5) /* "tunnel": inner header of a tunnel */
#define CEP_EV_FLAG_BITS     6
/* Bits 16..26 of flags: the sectors the event's source named as the
 * recipients of a TLP:RED event (bit 16 + s for sector s); JSON
 * "recipients": ["finance", ...].  DESIGN.md section 6: TLP:RED goes only
 * to the recipients its source named. */
#define CEP_EV_RECIPIENTS_SHIFT 16
#define CEP_EV_RECIPIENTS_MASK (0x7ffu << CEP_EV_RECIPIENTS_SHIFT)

/* Address family of src_ip/dst_ip: 0 (absent), 4 or 6. */
#define CEP_AF_NONE 0
#define CEP_AF_INET 4
#define CEP_AF_INET6 6

struct cep_event {
	uint64_t ts;       /* event time, ns since the Unix epoch, UTC */
	uint64_t bytes;    /* wire bytes (packet) or octets (flow) */
	uint64_t packets;  /* 1 for a packet, the count for a flow */
	uint8_t src_ip[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t dst_ip[16];
	uint16_t src_port; /* host order; ICMP carries none */
	uint16_t dst_port;
	uint32_t count;    /* what a feed row counts (hits, attempts) */

	uint8_t kind;        /* enum cep_kind */
	uint8_t type;        /* enum cep_type */
	uint8_t sector;      /* enum cep_sector */
	uint8_t reliability; /* enum cep_reliability */
	uint8_t credibility; /* 1..6, 0 unset */
	uint8_t tlp;         /* enum cep_tlp */
	uint8_t proto;       /* IANA protocol number */
	uint8_t tcp_flags;   /* FIN 0x01 .. CWR 0x80 */

	uint8_t src_af;      /* CEP_AF_* */
	uint8_t dst_af;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t system;      /* enum cep_system */
	uint8_t trigger;     /* enum cep_trigger */
	uint16_t vlan;       /* outermost VLAN id, 0 when untagged */

	uint32_t flags;      /* CEP_EV_* */
	uint32_t seq;        /* the collector's own record number */

	char source[24];     /* collector instance name */
	char reporter[40];   /* reporting organisation (pseudonymised later) */
	char indicator[64];  /* domain, URL or other indicator text */
	char name[24];       /* malware family, tag or detail */
	char report_id[16];  /* operator report id; updates share it */
};

/* The recipients of an event: a set of (1 << sector) bits, 0 when none. */
static inline uint32_t cep_event_recipients(const struct cep_event *ev)
{
	return (ev->flags & CEP_EV_RECIPIENTS_MASK) >> CEP_EV_RECIPIENTS_SHIFT;
}

static inline void cep_event_set_recipients(struct cep_event *ev,
					    uint32_t sectors)
{
	ev->flags = (ev->flags & ~CEP_EV_RECIPIENTS_MASK) |
		    ((sectors << CEP_EV_RECIPIENTS_SHIFT) & CEP_EV_RECIPIENTS_MASK);
}

_Static_assert(CEP_SECTOR_COUNT <= 11, "recipients: 11 bits of flags");
_Static_assert(sizeof(struct cep_event) == CEP_EVENT_SIZE,
	       "cep_event must stay 256 bytes: the ring layout depends on it");
_Static_assert(sizeof(struct cep_event) % CEP_CACHE_LINE == 0,
	       "cep_event must be a cache-line multiple");

/*
 * Vocabulary: token <-> value.  *_name() returns a static string, "" for 0
 * and "?" for a value out of range.  *_parse() returns the value (> 0) or
 * -CEP_EUNKNOWN; it accepts exactly the canonical lower-case tokens (TLP
 * tokens are upper case, with "TLP:" accepted as a prefix; reliability is
 * the letter A..F, credibility the digit 1..6).
 */
const char *cep_kind_name(int kind);
int cep_kind_parse(const char *s);
const char *cep_type_name(int type);
int cep_type_parse(const char *s);
const char *cep_sector_name(int sector);
int cep_sector_parse(const char *s);
const char *cep_reliability_name(int rel);
int cep_reliability_parse(const char *s);
const char *cep_credibility_name(int cred);
int cep_credibility_parse(const char *s);
const char *cep_tlp_name(int tlp);
int cep_tlp_parse(const char *s);
const char *cep_system_name(int system);
int cep_system_parse(const char *s);
const char *cep_trigger_name(int trigger);
int cep_trigger_parse(const char *s);
const char *cep_cause_name(int cause);

/* cep_type_cause - the cause class of a type (CEP_CAUSE_NONE for traffic). */
int cep_type_cause(int type);

/*
 * Addresses.  cep_ip_format() writes af's text form (RFC 5952 for IPv6) into
 * buf (at least 46 bytes) and returns buf; af 0 gives "".
 * cep_ip_parse() reads a dotted quad or an IPv6 text into out[16] and
 * returns 4 or 6, or -CEP_EMALFORMED.
 */
#define CEP_IP_STRLEN 46
char *cep_ip_format(int af, const uint8_t ip[16], char *buf);
int cep_ip_parse(const char *s, uint8_t out[16]);

/*
 * Time.  cep_time_format() writes ts as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (6
 * fraction digits when the nanoseconds are a whole number of microseconds,
 * else 9) into buf (at least CEP_TIME_STRLEN bytes) and returns buf.
 * cep_time_parse() reads RFC 3339 with any fraction length (up to 9 digits
 * are kept) and a "Z" or +hh:mm offset; "YYYY-MM-DD HH:MM:SS" (space, no
 * zone, read as UTC) is accepted too because feeds use it.  Returns 0 or
 * -CEP_EMALFORMED.
 */
#define CEP_TIME_STRLEN 40
char *cep_time_format(uint64_t ts, char *buf);
int cep_time_parse(const char *s, size_t len, uint64_t *ts);

/*
 * cep_event_set_text - copy a NUL-terminated value into a fixed text field.
 * @dst, @size: the field (for example ev->indicator, sizeof ev->indicator).
 * Returns 0, or -CEP_ETOOLONG (the field is then left empty).
 */
int cep_event_set_text(char *dst, size_t size, const char *src);

/*
 * cep_event_to_json - write the event as one JSON object, no newline.
 * Returns the length written (excluding the NUL), or -ENOSPC when buf is
 * smaller than needed; CEP_EVENT_JSON_MAX is always enough.
 */
#define CEP_EVENT_JSON_MAX 1536
int cep_event_to_json(const struct cep_event *ev, char *buf, size_t size);

/*
 * cep_event_parse_sectors - a set of sectors, as a JSON array of sector
 * tokens (["finance", "telecom"]) or one string of tokens separated by
 * commas, into *out (bit s for sector s; "unknown" is bit 0).  Returns 0
 * or -CEP_EMALFORMED (another type, an unknown token).
 */
struct cep_json_value;
int cep_event_parse_sectors(const struct cep_json_value *v, uint32_t *out);

/*
 * cep_event_from_json - read one JSON object into *ev (zeroed first).
 * @line, @len: the text; surrounding blanks are allowed.
 * @err, @errsize: on failure receives a one-line reason naming the field
 *                 and the byte offset within the line; may be NULL.
 * Unknown fields are ignored (forward compatibility); a known field with a
 * wrong type, an unknown token or a value that does not fit is an error.
 * Returns 0, -CEP_EMALFORMED, -CEP_EUNKNOWN or -CEP_ETOOLONG.
 */
int cep_event_from_json(const char *line, size_t len, struct cep_event *ev,
			char *err, size_t errsize);

#endif /* CEPTOR_EVENT_H */
