/*
 * tmpdir.c - scratch directories for unit tests (tmpdir.h).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/tmpdir.h"

void cep_test_tmpdir(char *buf, size_t size, const char *prefix)
{
	snprintf(buf, size, "/tmp/%s-XXXXXX", prefix);
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void cep_test_rmtree(const char *path)
{
	nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
