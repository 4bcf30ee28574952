/*
 * hmac.h - SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for keyed
 * reporter pseudonyms (pseudonym.h).
 *
 * Written here rather than linked from a crypto library: ceptor needs one
 * keyed hash, a few hundred bytes per operator report, and this is the
 * whole of it; tests/unit/test_hmac.c pins it to the FIPS 180-4 examples
 * and the RFC 4231 HMAC vectors.  Not constant-time with respect to the
 * key's length (it never needs to be: the key is a local file).
 *
 * Thread safety: the functions keep no state; a context belongs to the
 * caller and must not be shared between threads without a lock.
 */
#ifndef CEPTOR_LIB_HMAC_H
#define CEPTOR_LIB_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define CEP_SHA256_LEN 32
#define CEP_SHA256_BLOCK 64

struct cep_sha256 {
	uint32_t h[8];
	uint64_t bytes; /* length so far */
	uint8_t buf[CEP_SHA256_BLOCK];
	size_t nbuf;
};

/* cep_sha256_init / _update / _final - the usual three steps; _final
 * writes the digest to @out and leaves @c to be initialised again. */
void cep_sha256_init(struct cep_sha256 *c);
void cep_sha256_update(struct cep_sha256 *c, const void *p, size_t n);
void cep_sha256_final(struct cep_sha256 *c, uint8_t out[CEP_SHA256_LEN]);

/* cep_hmac_sha256 - HMAC-SHA-256 of @msg (@n bytes) under @key (@klen
 * bytes, any length; longer than a block is hashed first, as RFC 2104
 * says) into @out. */
void cep_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		     uint8_t out[CEP_SHA256_LEN]);

#endif /* CEPTOR_LIB_HMAC_H */
