/*
 * hash.h - the project's hash for in-memory tables: FNV-1a over the bytes,
 * then splitmix64's finaliser.
 *
 * FNV-1a alone is cheap but leaves the low bits weak for short keys (an
 * IPv4 address, a port), and open-addressing tables index with the low
 * bits; the finaliser spreads every input bit over the whole word.  The
 * values equal engine/core's cep__hash_bytes() and cep__hash_u64() for the
 * same input, so either may replace the other.
 *
 * Not for anything an attacker can aim at where collisions cost more than
 * a longer probe (no secret seed), and not for stored data: nothing on
 * disk depends on these values today; a format that comes to store them
 * must name the function in its version.
 *
 * Thread safety: pure functions; any thread.
 */
#ifndef CEPTOR_LIB_HASH_H
#define CEPTOR_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CEP_HASH_FNV_OFFSET 0xcbf29ce484222325ull
#define CEP_HASH_FNV_PRIME 0x100000001b3ull

/* cep_hash_u64 - splitmix64's finaliser: a bijection of 64-bit words. */
static inline uint64_t cep_hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* cep_hash_bytes - @n bytes at @p (borrowed for the call), with @seed
 * (0 when there is no reason for another). */
static inline uint64_t cep_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = CEP_HASH_FNV_OFFSET ^ seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * CEP_HASH_FNV_PRIME;
	return cep_hash_u64(h);
}

/* cep_hash_str - a NUL-terminated string; equals
 * cep_hash_bytes(s, strlen(s), seed). */
static inline uint64_t cep_hash_str(const char *s, uint64_t seed)
{
	uint64_t h = CEP_HASH_FNV_OFFSET ^ seed;

	while (*s)
		h = (h ^ (uint8_t)*s++) * CEP_HASH_FNV_PRIME;
	return cep_hash_u64(h);
}

#endif /* CEPTOR_LIB_HASH_H */
