/*
 * cluster.h - Redis Cluster key routing for the publisher: hash slots,
 * hash tags, and the slot map read from CLUSTER SLOTS.
 *
 * What it is for.  hiredis 0.14 has no cluster client, so the publisher
 * routes by itself (publish.c, CLUSTER.md): every key belongs to one of
 * 16384 hash slots, CRC16(key) mod 16384, where CRC16 is the XMODEM variant
 * of the Redis Cluster specification (polynomial 0x1021, initial value 0,
 * no reflection; "123456789" gives 0x31C3).  When a key holds a hash tag
 * only the tag is hashed, which is how ceptor's keys keep a sector's
 * streams on one shard: `ceptor:{finance}:incidents` and
 * `ceptor:{finance}:advisories` hash "finance".
 *
 * Hash tag rule (the specification's): the tag is what lies between the
 * first '{' and the first '}' after it, when that is not empty; otherwise
 * (no '{', no '}' after it, or "{}") the whole key is hashed.
 *
 * The slot map.  CLUSTER SLOTS answers one entry per slot range:
 * [first, last, [master-host, master-port, id...], [replica...]...].
 * cep_cluster_map_load() turns it into a table of 16384 node indices into
 * the map's node list (masters only; the publisher writes to masters).
 * A node keeps its index for the life of the map, also when a newer
 * CLUSTER SLOTS no longer names it, so that the caller can keep per-node
 * state (its connection) in an array beside the map's.
 *
 *   slot_node[16384]   0 ...... 5460 5461 ..... 10922 10923 ..... 16383
 *                        node 0         node 1            node 2
 *   nodes[]            { "127.0.0.1", 30001 } { ..., 30002 } { ..., 30003 }
 *
 * Threads: a map belongs to its caller; nothing here is shared or global.
 * Errors: 0 or a negative errno; a CLUSTER SLOTS reply that does not have
 * the documented shape is -EPROTO with a one-line reason.
 */
#ifndef CEPTOR_PUBLISH_CLUSTER_H
#define CEPTOR_PUBLISH_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#define CEP_CLUSTER_SLOTS 16384u
/* slot_node's value for a slot no master serves (yet). */
#define CEP_CLUSTER_NO_NODE 0xffffu
/* At most this many distinct nodes in one map (a cluster has far fewer
 * masters; the bound keeps indices in a uint16_t). */
#define CEP_CLUSTER_MAX_NODES 1024u

/* hiredis's reply (typedef'd redisReply there). */
struct redisReply;

struct cep_cluster_addr {
	char host[256]; /* as the cluster announces it, no brackets */
	int port;
	int replicas;   /* replicas CLUSTER SLOTS listed for it (its last
			 * range); 0 for a node no longer a master */
};

struct cep_cluster_map {
	uint16_t slot_node[CEP_CLUSTER_SLOTS];
	struct cep_cluster_addr *nodes;
	size_t nnodes, cap;
};

/* cep_cluster_crc16 - CRC16/XMODEM of buf[0..len). */
uint16_t cep_cluster_crc16(const char *buf, size_t len);

/*
 * cep_cluster_hash_tag - the part of key[0..len) that is hashed: sets
 * *off and *n to the tag's place when the key has a non-empty one (rule
 * above), else to the whole key (0, len).
 */
void cep_cluster_hash_tag(const char *key, size_t len, size_t *off,
			  size_t *n);

/* cep_cluster_key_slot - the hash slot (0..16383) of key[0..len). */
unsigned cep_cluster_key_slot(const char *key, size_t len);

/* cep_cluster_map_init - an empty map: no nodes, every slot unserved.
 * cep_cluster_map_fini frees the node list; accepts a map never loaded. */
void cep_cluster_map_init(struct cep_cluster_map *m);
void cep_cluster_map_fini(struct cep_cluster_map *m);

/*
 * cep_cluster_map_node - the index of host:port in the node list, added
 * when missing.  Returns the index (>= 0), -ENOMEM, or -ENOSPC past
 * CEP_CLUSTER_MAX_NODES.
 */
int cep_cluster_map_node(struct cep_cluster_map *m, const char *host,
			 int port);

/*
 * cep_cluster_map_load - replace the slot table with the one in a CLUSTER
 * SLOTS reply.
 * @r: borrowed; an array reply.
 * @asked_host: the host the reply came from; it stands in for a master
 * whose host is announced as "" (a node that does not know its own
 * address, Redis 7's empty preferred endpoint).
 * @err, @errsize: on failure, a one-line reason; may be NULL.
 * Slots no range names are CEP_CLUSTER_NO_NODE.  Nodes already listed keep
 * their indices; each node's `replicas` is set from this reply.  On failure the map is left as it was.
 * Returns 0; -EPROTO for a reply of another shape (an error reply too);
 * -ENOMEM; -ENOSPC for too many nodes.
 */
int cep_cluster_map_load(struct cep_cluster_map *m, const struct redisReply *r,
			 const char *asked_host, char *err, size_t errsize);

/*
 * cep_cluster_redirect_parse - read "MOVED 3999 127.0.0.1:6381" or
 * "ASK 3999 127.0.0.1:6381" (an error reply's text, len bytes).
 * @ask: set to 1 for ASK, 0 for MOVED.
 * @slot, @host, @hostsize, @port: the target; an empty host means the
 * node that sent the redirection (the caller substitutes it).
 * Returns 0, or -EINVAL when the text is neither.
 */
int cep_cluster_redirect_parse(const char *s, size_t len, int *ask,
			       unsigned *slot, char *host, size_t hostsize,
			       int *port);

#endif /* CEPTOR_PUBLISH_CLUSTER_H */
