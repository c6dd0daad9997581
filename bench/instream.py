#!/usr/bin/env python3
"""bench/instream.py SOCKET FILE: clamd scanning FILE alone, the way
signgate streams it (zINSTREAM, 256 KiB chunks, no hashing). The baseline
for `signgate sign` via clamd in bench/scan-large.sh. Prints clamd's answer;
exit 0 for "stream: OK", 1 otherwise."""
import socket
import struct
import sys

CHUNK = 256 * 1024


def main():
    sock_path, path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(b"zINSTREAM\0")
    with open(path, "rb", buffering=0) as f:
        while True:
            data = f.read(CHUNK)
            s.sendall(struct.pack(">I", len(data)) + data)
            if not data:
                break
    answer = b""
    while not answer.endswith(b"\0"):
        part = s.recv(4096)
        if not part:
            break
        answer += part
    print(answer.rstrip(b"\0").decode(errors="replace"))
    return 0 if answer.rstrip(b"\0") == b"stream: OK" else 1


if __name__ == "__main__":
    sys.exit(main())
