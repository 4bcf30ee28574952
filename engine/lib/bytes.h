/*
 * bytes.h - multi-byte fields read from wire and file formats.
 *
 * Every decoder (packets, pcapng blocks, NetFlow/IPFIX) reads its fields
 * with these loads: one byte at a time, assembled in a register, so the
 * pointer may have any alignment, the host's byte order never matters, and
 * UBSan has nothing to say.  Compilers turn each into one load (and a byte
 * swap where needed).
 *
 * The caller has checked that the bytes are there: these read p[0 .. size)
 * without looking.
 *
 * Thread safety: pure functions; any thread.
 */
#ifndef CEPTOR_LIB_BYTES_H
#define CEPTOR_LIB_BYTES_H

#include <stdint.h>

/* Big-endian (network order) 16 and 32 bits. */
static inline uint16_t cep_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t cep_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* An unsigned big-endian number of @n bytes, 0..8 (IPFIX reduced-size
 * encoding); 0 bytes read as 0. */
static inline uint64_t cep_be_n(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Little-endian 16 and 32 bits. */
static inline uint16_t cep_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t cep_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

#endif /* CEPTOR_LIB_BYTES_H */
