/*
 * fuzz_config.c - libFuzzer target for ceptord's YAML configuration loader
 * (engine/lib/config.h): cep_config_load() on any bytes.
 *
 * The loader reads a file by name, so each input is written to an
 * anonymous memory file (memfd) and loaded through its /proc/self/fd path:
 * no disk, nothing left behind.  What must hold: no crash, no leak, no
 * sanitizer report, and only the documented results (0, -CEP_ECONFIG after
 * reporting, or -errno when the file cannot be read, which cannot happen
 * here).  An accepted configuration must also be consistent with what the
 * header promises: a ring capacity that is a power of two, and every input
 * of a known kind with a name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ceptor/error.h"
#include "lib/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mfd = -1;
static char mpath[64];
static FILE *diag;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mfd = memfd_create("ceptor-fuzz-config", MFD_CLOEXEC);
	if (mfd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(mpath, sizeof mpath, "/proc/self/fd/%d", mfd);
	/* The loader's diagnostics are part of what is fuzzed (formatting of
	 * every problem) but nobody needs to read them. */
	diag = fopen("/dev/null", "w");
	if (!diag) {
		perror("fuzz_config: /dev/null");
		abort();
	}
	return 0;
}

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_config: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cep_config cfg;
	int rc;

	if (ftruncate(mfd, 0) || pwrite(mfd, data, size, 0) != (ssize_t)size)
		broken("cannot write the input to the memory file");
	cep_config_init(&cfg);
	rc = cep_config_load(&cfg, mpath, diag);
	if (rc != 0 && rc != -CEP_ECONFIG)
		broken("cep_config_load returned an undocumented code");
	if (rc == 0) {
		uint32_t cap = cfg.ring_capacity;
		if (cap < 2 || (cap & (cap - 1)))
			broken("an accepted ring_capacity is not a power of two >= 2");
		for (size_t i = 0; i < cfg.ninputs; i++) {
			const struct cep_config_input *in = &cfg.inputs[i];
			if (in->kind < CEP_INPUT_PCAP || in->kind > CEP_INPUT_FLOW)
				broken("an accepted input has no known kind");
			if (strnlen(in->src.name, sizeof in->src.name) ==
			    sizeof in->src.name)
				broken("an input name is not NUL-terminated");
			if (in->kind == CEP_INPUT_RING && !in->ring)
				broken("an accepted ring input names no ring");
		}
	}
	cep_config_fini(&cfg);
	return 0;
}
