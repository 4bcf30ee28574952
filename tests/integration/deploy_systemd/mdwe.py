"""Run a command the way MemoryDenyWriteExecute=yes would: with the
kernel's memory-deny-write-execute flag (prctl PR_SET_MDWE,
PR_MDWE_REFUSE_EXEC_GAIN; Linux 6.3 and later), which execve keeps.
Used by deploy_systemd/run.sh.

    python3 mdwe.py COMMAND [ARGS...]

Exits 3 when the kernel lacks the flag, so that the caller can skip.
"""
import ctypes
import os
import sys

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.stderr.write("mdwe.py: PR_SET_MDWE: %s\n" % os.strerror(ctypes.get_errno()))
    sys.exit(3)
os.execvp(sys.argv[1], sys.argv[1:])
