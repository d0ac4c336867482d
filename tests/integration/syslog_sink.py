"""A stand-in syslog for tests: binds a datagram socket at argv[1] and
appends each message it receives, one a line, to argv[2]; exits after 30
seconds without a message (its daemon is gone by then)."""
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
sock.settimeout(30)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        try:
            msg = sock.recv(65536)
        except socket.timeout:
            break
        out.write(msg.rstrip(b"\0\n") + b"\n")
