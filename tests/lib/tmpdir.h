/*
 * tmpdir.h - scratch directories for unit tests.
 *
 * cep_test_tmpdir() makes a fresh directory "/tmp/PREFIX-XXXXXX" in buf
 * (failing the current libcheck test when it cannot); cep_test_rmtree()
 * removes it with everything inside, and ignores what is already gone.
 */
#ifndef CEPTOR_TESTS_TMPDIR_H
#define CEPTOR_TESTS_TMPDIR_H

#include <stddef.h>

void cep_test_tmpdir(char *buf, size_t size, const char *prefix);
void cep_test_rmtree(const char *path);

#endif /* CEPTOR_TESTS_TMPDIR_H */
