#!/usr/bin/env python3
"""Make a commit-graph lie, for tests: edit one commit's entry in a
single-file commit-graph (git's gitformat-commit-graph: OIDL, CDAT) and
write the trailing SHA-1 again, as a careful attacker would (--stale keeps
the old checksum instead).

  cgraph-edit.py FILE parent COMMIT N OTHER  COMMIT's Nth parent (1 or 2) := OTHER
  cgraph-edit.py FILE gen COMMIT LEVEL       COMMIT's topological level := LEVEL
"""
import hashlib
import struct
import sys


def chunks(d):
    n = d[6]
    out = {}
    for i in range(n):
        cid, off = struct.unpack(">4sQ", d[8 + 12 * i:20 + 12 * i])
        nxt = struct.unpack(">Q", d[8 + 12 * (i + 1) + 4:8 + 12 * (i + 1) + 12])[0]
        out[cid] = (off, nxt)
    return out


def position(d, ch, hexid):
    off, end = ch[b"OIDL"]
    raw = bytes.fromhex(hexid)
    for i in range((end - off) // 20):
        if d[off + 20 * i:off + 20 * i + 20] == raw:
            return i
    sys.exit("cgraph-edit: %s is not in the graph" % hexid)


def main():
    args = [a for a in sys.argv[1:] if a != "--stale"]
    stale = "--stale" in sys.argv
    path, op = args[0], args[1]
    d = bytearray(open(path, "rb").read())
    ch = chunks(d)
    entry = ch[b"CDAT"][0] + 36 * position(d, ch, args[2])
    if op == "parent":
        n, other = int(args[3]), position(d, ch, args[4])
        struct.pack_into(">I", d, entry + 20 + 4 * (n - 1), other)
    elif op == "gen":
        w = struct.unpack_from(">I", d, entry + 28)[0]
        struct.pack_into(">I", d, entry + 28, (int(args[3]) << 2) | (w & 3))
    else:
        sys.exit("cgraph-edit: unknown operation " + op)
    if not stale:
        d[-20:] = hashlib.sha1(bytes(d[:-20])).digest()
    open(path, "wb").write(d)


if __name__ == "__main__":
    main()
