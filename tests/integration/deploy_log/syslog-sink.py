"""A stand-in for a syslog daemon: receive datagrams on a Unix socket and
append each one, as one line, to a file.  Used by deploy_log/run.sh.

    python3 syslog-sink.py SOCKET OUTFILE

OUTFILE.ready appears once the socket is bound.  Stops on SIGTERM.
"""
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(sock.recv(65536).rstrip(b"\n") + b"\n")
