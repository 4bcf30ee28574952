/*
 * pcapng.h - our own pcapng block walker.
 *
 * Why not libpcap: libpcap reads a pcapng file as if it were one classic
 * pcap stream, so it refuses (and stops at) an Interface Description Block
 * whose link type or snap length differs from the first one's, and it
 * ignores per-interface time resolution in a second section.  A tap that
 * writes several interfaces into one file, or a file that was merged from
 * several captures, needs every packet, so we walk the blocks ourselves:
 *
 *   +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *   | SHB | IDB | IDB | EPB | SPB | ISB | NRB | SHB | IDB | EPB | ...
 *   +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *     |     |                             |     |
 *     |     +- interface 0, 1 of          |     +- interfaces restart
 *     |        this section: link type,   |        at 0 in each section
 *     |        snaplen, if_tsresol,       +- skipped (as are CB, DCB,
 *     |        if_tsoffset, if_fcslen        custom and unknown blocks)
 *     +- byte order of this section (its byte-order magic)
 *
 *   block = type (4) | total length (4) | body | total length again (4)
 *
 * Packets come from Enhanced Packet Blocks (EPB), Simple Packet Blocks (SPB,
 * interface 0, captured length = min(original length, the interface's
 * snaplen, the block's room)) and the obsolete Packet Block (PB).  Each
 * packet carries its interface's link type (LINKTYPE_* values, 16 bits),
 * its FCS length (if_fcslen, 0 when unknown) and a time stamp in ns since
 * the epoch computed with the interface's if_tsresol (powers of 10 and of
 * 2) and if_tsoffset.  An SPB carries no time stamp: it takes the time
 * of the packet before it (0 when it is the first), so that its event
 * falls into the right correlation windows rather than into 1970.
 *
 * Input comes from a FILE (read sequentially; never seeks) or from a
 * memory buffer (the fuzz target's entry point; nothing is copied).
 *
 * Damage.  Two kinds, both with the byte offset of the block:
 *  - framing damage (a block shorter than 12 bytes or not a multiple of 4,
 *    a trailing length that differs from the leading one, a block larger
 *    than CEP_PCAPNG_MAX_BLOCK, a file that ends inside a block, a first
 *    block that is not a Section Header, an unsupported major version):
 *    cep_pcapng_next() returns a negative code and the walk is over, as
 *    nothing after it can be trusted;
 *  - a packet block that is well framed but unusable (an interface id that
 *    no IDB declared, a captured length beyond its block): it returns
 *    CEP_PCAPNG_BAD and the walk goes on with the next block.
 * In both cases cep_pcapng_error() says what and r->block_off where.
 *
 * Memory: one block buffer per walker, grown (never per packet) to the
 * largest block seen; the interface table grows per IDB up to
 * CEP_PCAPNG_MAX_IF per section.  cep_pcapng_fini() frees both.
 *
 * Thread safety: a walker belongs to one thread; distinct walkers are
 * independent.
 */
#ifndef CEPTOR_PCAPNG_H
#define CEPTOR_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The first four bytes of every pcapng file (the SHB type, a palindrome). */
#define CEP_PCAPNG_MAGIC 0x0A0D0D0Au
/* Largest block accepted; larger is framing damage (libpcap uses 16 MiB). */
#define CEP_PCAPNG_MAX_BLOCK (16u << 20)
/* Interfaces per section; packets of further interfaces are CEP_PCAPNG_BAD. */
#define CEP_PCAPNG_MAX_IF 4096
/* cep_pcapng_next(): a well-framed packet block that cannot be used. */
#define CEP_PCAPNG_BAD 2

struct cep_pcapng_if {
	int linktype;      /* LINKTYPE_* of the IDB (16 bits) */
	uint32_t snaplen;  /* 0: no limit */
	uint32_t fcslen;   /* if_fcslen in bytes; 0 when not given */
	int resol_pow2;    /* if_tsresol: 1 when 2^-resol, 0 when 10^-resol */
	unsigned resol;    /* the exponent; 6 (microseconds) by default */
	int64_t tsoffset;  /* if_tsoffset, seconds */
};

struct cep_pcapng_pkt {
	const uint8_t *data; /* borrowed; valid until the next call */
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t ts;         /* ns since the epoch (an SPB: see above) */
	int linktype;        /* of the packet's interface */
	uint32_t fcslen;     /* of the packet's interface, bytes */
	uint32_t ifid;       /* interface number within its section */
};

struct cep_pcapng {
	/* input: exactly one of fp or mem */
	FILE *fp;                 /* borrowed */
	const uint8_t *mem;       /* borrowed */
	size_t memlen;
	uint64_t off;             /* offset of the next block */
	uint64_t block_off;       /* offset of the block last looked at */
	/* block buffer (file input only) */
	uint8_t *buf;
	size_t bufsize;
	/* the current section */
	int swap;                 /* section written in the other byte order */
	int in_section;
	struct cep_pcapng_if *ifs;
	unsigned nif;
	unsigned ifcap;
	/* counts, for messages and tests */
	uint64_t sections;
	uint64_t blocks;
	uint64_t last_ts;         /* of the last packet with a time stamp */
	int dead;                 /* the framing error that ended the walk */
	char err[192];
};

/*
 * cep_pcapng_init_file - walk the pcapng stream @fp from its current
 * position, which must be the first byte of a Section Header Block.
 * Borrows @fp (the caller closes it after cep_pcapng_fini()).  Never fails.
 */
void cep_pcapng_init_file(struct cep_pcapng *r, FILE *fp);

/*
 * cep_pcapng_init_mem - walk the pcapng file held in @buf[0 .. @len);
 * borrows @buf until cep_pcapng_fini().  Packets point into @buf.
 */
void cep_pcapng_init_mem(struct cep_pcapng *r, const uint8_t *buf,
			 size_t len);

/*
 * cep_pcapng_next - walk to the next packet.
 * Returns 1 with *pkt filled; 0 at a clean end of input (the end falls
 * between blocks); CEP_PCAPNG_BAD for an unusable packet block (the walk
 * may go on); -CEP_EMALFORMED or -CEP_ETRUNCATED for framing damage (the
 * walk is over: later calls return the same code); -ENOMEM when a block
 * buffer or the interface table cannot grow; -EIO when reading the file
 * fails.  After a non-1, non-0 return cep_pcapng_error() and r->block_off
 * say what and where.
 */
int cep_pcapng_next(struct cep_pcapng *r, struct cep_pcapng_pkt *pkt);

/* cep_pcapng_error - the reason for the last failure; "" if none. */
const char *cep_pcapng_error(const struct cep_pcapng *r);

/* cep_pcapng_fini - free the walker's buffers (not the input). */
void cep_pcapng_fini(struct cep_pcapng *r);

#endif /* CEPTOR_PCAPNG_H */
