#!/usr/bin/env python3
"""Extract, from a DER CMS SignedData (.p7s), the RFC 3161 token stored in
the unsigned attribute id-smime-aa-timeStampToken and the signature value it
covers, so that `openssl ts -verify -token_in` can check them independently
of signgate. Usage: p7s-token.py FILE.p7s TOKEN_OUT SIGVALUE_OUT
Exit 1 when there is no token."""
import sys

TST_OID = bytes.fromhex("060b2a864886f70d010910020e")  # 1.2.840.113549.1.9.16.2.14


def tlv(buf, pos):
    """Return (tag, header_len, content_len) of the element at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    if n < 0x80:
        return tag, 2, n
    k = n & 0x7F
    return tag, 2 + k, int.from_bytes(buf[pos + 2:pos + 2 + k], "big")


def children(buf, start, end):
    pos = start
    while pos < end:
        tag, hl, cl = tlv(buf, pos)
        yield pos, tag, hl, cl
        pos += hl + cl


def find(buf, start, end):
    """Depth-first search for a SignerInfo: a SEQUENCE with a [1] child
    holding the timestamp attribute; return (sigvalue, token)."""
    kids = list(children(buf, start, end))
    for i, (pos, tag, hl, cl) in enumerate(kids):
        body = buf[pos + hl:pos + hl + cl]
        if tag == 0xA1 and TST_OID in body and i > 0 and kids[i - 1][1] == 0x04:
            ppos, _, phl, pcl = kids[i - 1]
            for apos, _, ahl, acl in children(buf, pos + hl, pos + hl + cl):
                attr = list(children(buf, apos + ahl, apos + ahl + acl))
                if buf[attr[0][0]:attr[0][0] + attr[0][2] + attr[0][3]] == TST_OID:
                    spos, _, shl, scl = attr[1]
                    tpos, _, thl, tcl = next(children(buf, spos + shl, spos + shl + scl))
                    return buf[ppos + phl:ppos + phl + pcl], buf[tpos:tpos + thl + tcl]
        if tag & 0x20:  # constructed: descend
            found = find(buf, pos + hl, pos + hl + cl)
            if found:
                return found
    return None


def main():
    data = open(sys.argv[1], "rb").read()
    found = find(data, 0, len(data))
    if not found:
        print("no timestamp token in " + sys.argv[1], file=sys.stderr)
        return 1
    open(sys.argv[3], "wb").write(found[0])
    open(sys.argv[2], "wb").write(found[1])
    return 0


sys.exit(main())
