/*
 * privdrop.h - give up root and every capability once the capture is open.
 *
 * A live capture needs CAP_NET_RAW only to open its socket; everything
 * after (reading packets, pcap_stats(), writing to stdout or a ring that is
 * already mapped) needs none.  A collector that parses hostile packets
 * should hold nothing then, so after the interface is open:
 *
 *   running as root:  setgroups(the user's gid) -> setresgid -> setresuid
 *                     to the user (ceptor if it exists, else nobody, or
 *                     --user NAME), which empties the capability sets;
 *   running as another user (e.g. a binary with file capabilities):
 *                     the uid stays, the capabilities are cleared;
 *   both:             the ambient set is cleared, PR_SET_NO_NEW_PRIVS is
 *                     set (no exec can give anything back), and the result
 *                     is checked: CapPrm and CapEff in /proc/self/status
 *                     must be 0 and, after a uid change, setuid(0) must fail.
 *
 * Thread safety: call it while the process has one thread (setresuid()
 * in glibc changes every thread, but the check reads this thread only).
 */
#ifndef CEPTOR_PCAP_PRIVDROP_H
#define CEPTOR_PCAP_PRIVDROP_H

#include <stddef.h>

/* The user a root collector becomes when none is named. */
#define CEP_PRIV_USER "ceptor"
#define CEP_PRIV_USER_FALLBACK "nobody"

/*
 * cep_priv_drop - drop as described above.
 * @user: the user to become when running as root; NULL for the default.
 * @err, @errsize: receive a one-line reason on failure.
 * Returns 1 when the uid changed, 0 when only capabilities were cleared
 * (not root), -ENOENT for an unknown user, or the negative errno of the
 * step that failed (-EPERM when capabilities remain after the drop).
 */
int cep_priv_drop(const char *user, char *err, size_t errsize);

/*
 * cep_priv_caps - read CapPrm and CapEff of /proc/self/status.
 * Returns 0, or -errno when the file cannot be read or lacks them.
 */
int cep_priv_caps(unsigned long long *prm, unsigned long long *eff);

#endif /* CEPTOR_PCAP_PRIVDROP_H */
