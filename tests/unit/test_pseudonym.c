/*
 * test_pseudonym.c - SHA-256 against FIPS 180-4's examples, HMAC-SHA-256
 * against RFC 4231's vectors, and the reporter pseudonyms built on them
 * (engine/lib/pseudonym.h): stable for one secret, different under
 * another, never the raw name, secret files checked.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hmac.h"
#include "lib/pseudonym.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha(const void *p, size_t n, const char *want)
{
	struct cep_sha256 c;
	uint8_t d[CEP_SHA256_LEN];
	char got[65];

	cep_sha256_init(&c);
	cep_sha256_update(&c, p, n);
	cep_sha256_final(&c, d);
	hex(d, sizeof d, got);
	ck_assert_str_eq(got, want);
}

START_TEST(sha256_matches_the_fips_examples)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* A million 'a's, fed in uneven pieces: the buffering is exercised. */
	static char a[1000000];
	memset(a, 'a', sizeof a);
	struct cep_sha256 c;
	uint8_t d[CEP_SHA256_LEN];
	char got[65];
	size_t off = 0, step = 1;
	cep_sha256_init(&c);
	while (off < sizeof a) {
		size_t n = step < sizeof a - off ? step : sizeof a - off;
		cep_sha256_update(&c, a + off, n);
		off += n;
		step = step * 3 % 997 + 1;
	}
	cep_sha256_final(&c, d);
	hex(d, sizeof d, got);
	ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* Padding edges: 55, 56 and 64 bytes. */
	check_sha(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	check_sha(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	check_sha(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}
END_TEST

static void check_hmac(const void *k, size_t kl, const void *m, size_t ml,
		       const char *want)
{
	uint8_t d[CEP_SHA256_LEN];
	char got[65];

	cep_hmac_sha256(k, kl, m, ml, d);
	hex(d, sizeof d, got);
	ck_assert_str_eq(got, want);
}

START_TEST(hmac_sha256_matches_rfc4231)
{
	uint8_t k[131];

	memset(k, 0x0b, 20); /* test case 1 */
	check_hmac(k, 20, "Hi There", 8,
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28, /* case 2 */
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	uint8_t m[50]; /* case 3 */
	memset(k, 0xaa, 20);
	memset(m, 0xdd, sizeof m);
	check_hmac(k, 20, m, sizeof m,
		   "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	memset(k, 0xaa, sizeof k); /* case 6: a key longer than a block */
	const char *c6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	check_hmac(k, sizeof k, c6, strlen(c6),
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ceptor-pseudonym.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (int)strlen(s));
	close(fd);
}

START_TEST(pseudonym_is_the_keyed_hash_and_stable_per_secret)
{
	char *d = tmpdir(), f1[256], f2[256], err[256];
	char a[40] = "Grid Operator East", b[40] = "Grid Operator East";
	char c[40] = "Grid Operator East", e[40] = "", again[40];

	snprintf(f1, sizeof f1, "%s/one", d);
	snprintf(f2, sizeof f2, "%s/two", d);
	write_file(f1, "0123456789abcdef-site-one\n", 0600);
	write_file(f2, "0123456789abcdef-site-two\n", 0600);
	struct cep_pseudonym *p1 = cep_pseudonym_create(f1, NULL, err, sizeof err);
	struct cep_pseudonym *p2 = cep_pseudonym_create(f2, NULL, err, sizeof err);
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);

	cep_pseudonym_apply(p1, a, sizeof a);
	/* The secret is the file without its final newline. */
	uint8_t mac[CEP_SHA256_LEN];
	char want[40] = "op-";
	const char *secret = "0123456789abcdef-site-one";
	cep_hmac_sha256(secret, strlen(secret), "Grid Operator East", 18, mac);
	hex(mac, 16, want + 3);
	ck_assert_str_eq(a, want);
	ck_assert_uint_eq(strlen(a), 35);

	cep_pseudonym_apply(p1, b, sizeof b); /* again: the cache */
	ck_assert_str_eq(a, b);
	cep_pseudonym_apply(p2, c, sizeof c); /* another site's secret */
	ck_assert_str_ne(a, c);
	cep_pseudonym_apply(p1, e, sizeof e); /* no reporter stays none */
	ck_assert_str_eq(e, "");

	/* Names that collide in the cache still get their own pseudonyms. */
	for (int i = 0; i < 2000; i++) {
		char n[40], m2[40];
		snprintf(n, sizeof n, "operator %d", i);
		memcpy(m2, n, sizeof n);
		cep_pseudonym_apply(p1, n, sizeof n);
		cep_hmac_sha256(secret, strlen(secret), m2, strlen(m2), mac);
		memcpy(again, "op-", 3);
		hex(mac, 16, again + 3);
		ck_assert_str_eq(n, again);
	}
	cep_pseudonym_destroy(p1);
	cep_pseudonym_destroy(p2);
	unlink(f1);
	unlink(f2);
	rmdir(d);
	free(d);
}
END_TEST

START_TEST(pseudonym_secret_files_are_checked_and_the_spool_key_persists)
{
	char *d = tmpdir(), f[256], key[256], err[256];
	char a[40] = "Bank of Example", b[40] = "Bank of Example";

	snprintf(f, sizeof f, "%s/short", d);
	write_file(f, "tooshort\n", 0600);
	ck_assert_ptr_null(cep_pseudonym_create(f, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, f));
	ck_assert_ptr_nonnull(strstr(err, "at least 16"));
	snprintf(f, sizeof f, "%s/missing", d);
	ck_assert_ptr_null(cep_pseudonym_create(f, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, f));

	/* No secret file: the spool's reporter.key, created 0600 once. */
	struct cep_pseudonym *p = cep_pseudonym_create(NULL, d, err, sizeof err);
	ck_assert_ptr_nonnull(p);
	snprintf(key, sizeof key, "%s/reporter.key", d);
	struct stat st;
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	cep_pseudonym_apply(p, a, sizeof a);
	cep_pseudonym_destroy(p);
	p = cep_pseudonym_create(NULL, d, err, sizeof err);
	ck_assert_ptr_nonnull(p);
	cep_pseudonym_apply(p, b, sizeof b);
	ck_assert_str_eq(a, b); /* the same secret after a restart */
	cep_pseudonym_destroy(p);
	unlink(key);
	snprintf(f, sizeof f, "%s/short", d);
	unlink(f);
	rmdir(d);
	free(d);
}
END_TEST

static Suite *pseudonym_suite(void)
{
	Suite *s = suite_create("pseudonym");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, sha256_matches_the_fips_examples);
	tcase_add_test(tc, hmac_sha256_matches_rfc4231);
	tcase_add_test(tc, pseudonym_is_the_keyed_hash_and_stable_per_secret);
	tcase_add_test(tc, pseudonym_secret_files_are_checked_and_the_spool_key_persists);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pseudonym_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
