#!/usr/bin/python3
"""Edit signgate's attestation verdict cache as only its local user could
(docs/signgate-notes.md, "The attestation verdict cache"), for the tests:

  vcache-edit.py FILE count     print the number of entries
  vcache-edit.py FILE set-ok    every signature verdict of every entry says
                                "verified", with each entry's checksum fixed
  vcache-edit.py FILE flip      one byte of the first entry changed, checksum not fixed
"""
import hashlib
import struct
import sys

FOOTER = struct.Struct("=8sIIQ32s")
ROW = struct.Struct("=32sQQ")
HEAD = struct.Struct("=8I")


def rows(data):
    magic, _order, n, table_off, _sum = FOOTER.unpack_from(data, len(data) - FOOTER.size)
    assert magic == b"SGVCACH1", "not a verdict cache"
    return [ROW.unpack_from(data, table_off + i * ROW.size) for i in range(n)]


def entry_sum(key, value):
    return hashlib.sha256(key + struct.pack("=Q", len(value)) + value).digest()


def set_ok(data):
    for key, off, length in rows(data):
        value = bytearray(data[off:off + length])
        _m, _v, _bad, _c, _t, nsubj, npv, _sl = HEAD.unpack_from(value, 0)
        base = HEAD.size + nsubj * 20
        for i in range(npv):
            struct.pack_into("=I", value, base + i * 12 + 4, 1)
        data[off:off + length] = value
        data[off + length:off + length + 32] = entry_sum(key, bytes(value))


def main():
    path, op = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if op == "count":
        print(len(rows(data)))
        return
    if op == "set-ok":
        set_ok(data)
    elif op == "flip":
        _key, off, length = rows(data)[0]
        data[off + length // 2] ^= 0x01
    with open(path, "wb") as f:
        f.write(data)


main()
