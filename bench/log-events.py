#!/usr/bin/env python3
# bench/log-events.py N: a git fast-import stream of a history whose
# refs/notes/signatures holds N signing events, deterministically: 5 commits
# per batch on main, one batch (one notes commit) on every fifth commit,
# batch sizes 1..199 (mean ~100), the last batch cut to reach N exactly.
# Every event carries the fields DESIGN.md section 4 lists.
import hashlib
import sys

n = int(sys.argv[1])
w = sys.stdout.write
ts = 1790000000


def batch_sizes(total):
    k, left = 0, total
    while left > 0:
        s = min(left, 1 + (k * 37) % 199)
        yield s
        left -= s
        k += 1


def stamp(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def event(i, t, tag):
    return "\n".join([
        "Signgate-Event: sign",
        f"Artifact: dist/app-{i}.tar.gz",
        f"Artifact-Sha256: {hashlib.sha256(b'artifact %d' % i).hexdigest()}",
        f"Artifact-Size: {10240 + i}",
        f"Signature: dist/app-{i}.tar.gz.p7s",
        "Signature-Format: cms",
        f"Signature-Sha256: {hashlib.sha256(b'signature %d' % i).hexdigest()}",
        f"Signer-Cert-Sha256: {hashlib.sha256(b'cert %d' % (i % 3)).hexdigest()}",
        "Signer-Subject: CN=Example Release Signing",
        "Key-Storage: hardware",
        "Profile: release",
        f"Timestamp: {stamp(t)} (http://127.0.0.1:8318/)",
        "Scan: clamav 1.4.6, 3 signatures, clean",
        "Gate: allowed; refs/heads/main first-parent; 2/2 reviews via trailers: a@example.com, b@example.com",
        "Policy: blob 0123456789abcdef0123456789abcdef01234567 at refs/heads/main",
        "Signed-By: Alice <alice@example.com>",
        f"Signed-At: {stamp(t + 1)}",
        f"Tag: {tag}",
        "Tool: signgate 0.1.0",
    ]) + "\n"


sizes = list(batch_sizes(n))
commits = 5 * len(sizes)
for c in range(1, commits + 1):
    data = "release %d\n" % c
    msg = "release %d\n\nReviewed-by: Rev <rev@example.com>\n" % c
    w("commit refs/heads/main\nmark :%d\n" % c)
    w("author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (ts + c, ts + c))
    w("data %d\n%s" % (len(msg), msg))
    if c > 1:
        w("from :%d\n" % (c - 1))
    w("M 100644 inline VERSION\ndata %d\n%s" % (len(data), data))
i = 0
for b, size in enumerate(sizes):
    c = 5 * (b + 1)
    t = ts + c * 60
    tag = "v1.%d" % b
    note = "\n".join(event(i + k, t, tag) for k in range(size))
    i += size
    msg = "signgate: record %d events on :%d\n" % (size, c)
    w("commit refs/notes/signatures\nmark :%d\n" % (commits + 1 + b))
    w("committer Dev <dev@example.com> %d +0000\ndata %d\n%s" % (t, len(msg), msg))
    if b > 0:
        w("from :%d\n" % (commits + b))
    w("N inline :%d\ndata %d\n%s\n" % (c, len(note.encode()), note))
