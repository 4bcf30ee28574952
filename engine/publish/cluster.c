/*
 * cluster.c - hash slots, hash tags and the CLUSTER SLOTS map (see
 * cluster.h).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish/cluster.h"

/* CRC16/XMODEM: polynomial 0x1021, MSB first, initial value 0.  Bit by
 * bit: the hashed part is a hash tag of a few bytes (a sector name), so a
 * table would buy nothing measurable. */
uint16_t cep_cluster_crc16(const char *buf, size_t len)
{
	unsigned crc = 0;
	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned)(uint8_t)buf[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
	}
	return (uint16_t)crc;
}

void cep_cluster_hash_tag(const char *key, size_t len, size_t *off,
			  size_t *n)
{
	const char *open = memchr(key, '{', len);
	*off = 0;
	*n = len;
	if (!open)
		return;
	size_t s = (size_t)(open - key) + 1;
	const char *close = memchr(key + s, '}', len - s);
	if (!close || close == key + s)
		return; /* no '}' after the '{', or "{}": the whole key */
	*off = s;
	*n = (size_t)(close - (key + s));
}

unsigned cep_cluster_key_slot(const char *key, size_t len)
{
	size_t off, n;
	cep_cluster_hash_tag(key, len, &off, &n);
	return cep_cluster_crc16(key + off, n) & (CEP_CLUSTER_SLOTS - 1);
}

void cep_cluster_map_init(struct cep_cluster_map *m)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < CEP_CLUSTER_SLOTS; i++)
		m->slot_node[i] = CEP_CLUSTER_NO_NODE;
}

void cep_cluster_map_fini(struct cep_cluster_map *m)
{
	if (!m)
		return;
	free(m->nodes);
	m->nodes = NULL;
	m->nnodes = m->cap = 0;
}

int cep_cluster_map_node(struct cep_cluster_map *m, const char *host,
			 int port)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].port == port && !strcmp(m->nodes[i].host, host))
			return (int)i;
	if (m->nnodes >= CEP_CLUSTER_MAX_NODES)
		return -ENOSPC;
	if (strlen(host) >= sizeof m->nodes[0].host)
		return -ENOSPC;
	if (m->nnodes == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct cep_cluster_addr *a = realloc(m->nodes, cap * sizeof *a);
		if (!a)
			return -ENOMEM;
		m->nodes = a;
		m->cap = cap;
	}
	snprintf(m->nodes[m->nnodes].host, sizeof m->nodes[0].host, "%s", host);
	m->nodes[m->nnodes].port = port;
	m->nodes[m->nnodes].replicas = 0;
	return (int)m->nnodes++;
}

static int bad(char *err, size_t errsize, const char *why)
{
	if (err && errsize)
		snprintf(err, errsize, "%s", why);
	return -EPROTO;
}

int cep_cluster_map_load(struct cep_cluster_map *m, const struct redisReply *r,
			 const char *asked_host, char *err, size_t errsize)
{
	uint16_t table[CEP_CLUSTER_SLOTS];
	int replicas[CEP_CLUSTER_MAX_NODES];
	size_t had = m->nnodes;

	if (r->type == REDIS_REPLY_ERROR)
		return bad(err, errsize, "CLUSTER SLOTS refused");
	if (r->type != REDIS_REPLY_ARRAY)
		return bad(err, errsize, "CLUSTER SLOTS: not an array");
	for (size_t i = 0; i < CEP_CLUSTER_SLOTS; i++)
		table[i] = CEP_CLUSTER_NO_NODE;
	for (size_t i = 0; i < CEP_CLUSTER_MAX_NODES; i++)
		replicas[i] = 0;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *master;
		char host[256];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER)
			goto shape;
		long long first = e->element[0]->integer,
			  last = e->element[1]->integer;
		if (first < 0 || last < first || last >= CEP_CLUSTER_SLOTS)
			goto shape;
		master = e->element[2];
		if (master->type != REDIS_REPLY_ARRAY || master->elements < 2 ||
		    master->element[0]->type != REDIS_REPLY_STRING ||
		    master->element[1]->type != REDIS_REPLY_INTEGER ||
		    master->element[1]->integer < 1 ||
		    master->element[1]->integer > 65535)
			goto shape;
		if (master->element[0]->len >= sizeof host)
			goto shape;
		memcpy(host, master->element[0]->str, master->element[0]->len);
		host[master->element[0]->len] = 0;
		if (!host[0] || !strcmp(host, "?"))
			snprintf(host, sizeof host, "%s",
				 asked_host ? asked_host : "");
		int n = cep_cluster_map_node(m, host,
					     (int)master->element[1]->integer);
		if (n < 0) {
			m->nnodes = had; /* the map is left as it was */
			if (err && errsize)
				snprintf(err, errsize, "CLUSTER SLOTS: %s",
					 n == -ENOMEM ? "out of memory"
						      : "too many nodes");
			return n;
		}
		for (long long s = first; s <= last; s++)
			table[s] = (uint16_t)n;
		replicas[n] = (int)e->elements - 3;
		continue;
shape:
		m->nnodes = had;
		if (err && errsize)
			snprintf(err, errsize,
				 "CLUSTER SLOTS: entry %zu is not "
				 "[first, last, [host, port, ...], ...]", i);
		return -EPROTO;
	}
	memcpy(m->slot_node, table, sizeof table);
	for (size_t i = 0; i < m->nnodes; i++)
		m->nodes[i].replicas = replicas[i];
	return 0;
}

int cep_cluster_redirect_parse(const char *s, size_t len, int *ask,
			       unsigned *slot, char *host, size_t hostsize,
			       int *port)
{
	size_t i;
	unsigned long v = 0;

	if (len > 6 && !memcmp(s, "MOVED ", 6)) {
		*ask = 0;
		i = 6;
	} else if (len > 4 && !memcmp(s, "ASK ", 4)) {
		*ask = 1;
		i = 4;
	} else {
		return -EINVAL;
	}
	size_t d = i;
	while (i < len && s[i] >= '0' && s[i] <= '9' && i - d < 6)
		v = v * 10 + (unsigned long)(s[i++] - '0');
	if (i == d || i >= len || s[i] != ' ' || v >= CEP_CLUSTER_SLOTS)
		return -EINVAL;
	i++;
	/* host:port, split at the last ':' (an IPv6 host has several). */
	size_t colon = len;
	for (size_t k = i; k < len; k++)
		if (s[k] == ':')
			colon = k;
	if (colon == len || colon - i >= hostsize || colon + 1 == len)
		return -EINVAL;
	long p = 0;
	for (size_t k = colon + 1; k < len; k++) {
		if (s[k] < '0' || s[k] > '9' || p > 65535)
			return -EINVAL;
		p = p * 10 + (s[k] - '0');
	}
	if (p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, s + i, colon - i);
	host[colon - i] = 0;
	*slot = (unsigned)v;
	*port = (int)p;
	return 0;
}
