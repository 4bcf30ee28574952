/*
 * privdrop.c - setgroups/setresgid/setresuid, capset, no-new-privs, and a
 * check of the result (privdrop.h).  Raw capset(2), so no libcap.
 */
#include "collectors/pcap/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int cep_priv_caps(unsigned long long *prm, unsigned long long *eff)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "CapPrm: %llx", prm) == 1)
			found |= 1;
		else if (sscanf(line, "CapEff: %llx", eff) == 1)
			found |= 2;
	}
	fclose(f);
	return found == 3 ? 0 : -ENODATA;
}

/* Empty the permitted, effective and inheritable sets of this thread. */
static int clear_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capset, &h, d) != 0)
		return -errno;
	return 0;
}

int cep_priv_drop(const char *user, char *err, size_t errsize)
{
	unsigned long long prm = ~0ull, eff = ~0ull;
	int changed = 0, rc;

	if (geteuid() == 0 || getuid() == 0) {
		const struct passwd *pw;
		const char *name = user ? user : CEP_PRIV_USER;

		errno = 0;
		pw = getpwnam(name);
		if (!pw && !user) {
			name = CEP_PRIV_USER_FALLBACK;
			pw = getpwnam(name);
		}
		if (!pw) {
			snprintf(err, errsize, "no user \"%s\"", name);
			return -ENOENT;
		}
		gid_t gid = pw->pw_gid;
		uid_t uid = pw->pw_uid;

		if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, uid, uid) != 0) {
			rc = -errno;
			snprintf(err, errsize, "cannot become %s (uid %u): %s",
				 name, (unsigned)uid, strerror(errno));
			return rc;
		}
		changed = uid != 0;
	}
	/* With a uid other than 0 these are already empty; a non-root
	 * process with file capabilities has them until here. */
	rc = clear_caps();
	if (rc) {
		snprintf(err, errsize, "capset: %s", strerror(-rc));
		return rc;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		snprintf(err, errsize, "PR_SET_NO_NEW_PRIVS: %s",
			 strerror(errno));
		return rc;
	}
	rc = cep_priv_caps(&prm, &eff);
	if (rc) {
		snprintf(err, errsize, "cannot check capabilities: %s",
			 strerror(-rc));
		return rc;
	}
	if (prm || eff || (changed && setuid(0) == 0)) {
		snprintf(err, errsize, "privileges remain after the drop "
			 "(CapPrm %llx, CapEff %llx)", prm, eff);
		return -EPERM;
	}
	return changed;
}
