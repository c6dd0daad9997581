#!/bin/sh
# The events index (docs/signgate-notes.md, "The events index") gives the
# answers of a full scan: log, log --artifact, log --cert and verify agree
# with an independent reading of the notes (git cat-file + a paragraph
# split in python) after events are added, after `signgate sync` merges
# notes from another clone, after the notes ref moves backwards or is
# replaced (its old tree pruned), and after the cache file is deleted,
# truncated or tampered with. A forged cache (checksum recomputed) that
# points at text which is not a whole event paragraph is refused, never
# believed.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
git clone -q --bare "$REPO" "$TRASH/bare.git"
git -C "$REPO" remote add origin "$TRASH/bare.git"
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
IDX=$REPO/.git/signgate/notes-index

# The reference: every event paragraph of every note, read without signgate.
cat >"$TRASH/scan.py" <<'EOF'
import re, subprocess, sys
repo = sys.argv[1]
def git(*a):
    return subprocess.run(["git", "-C", repo] + list(a), check=True, capture_output=True).stdout
try:
    listing = git("notes", "--ref=signatures", "list").decode().split("\n")
except subprocess.CalledProcessError:
    listing = []
for line in filter(None, listing):
    blob, commit = line.split()
    text = git("cat-file", "blob", blob).decode("utf-8", "replace")
    for para in re.split(r"\n[ \t\r\f\v]*\n", text):
        lines = para.strip("\n").split("\n")
        if not re.match(r"(?i)^Signgate-Event:\s*\S+\s*$", lines[0]):
            continue
        fields = dict((l.split(":", 1)[0].strip().lower(), l.split(":", 1)[1].strip()) for l in lines if ":" in l)
        print(commit, fields.get("artifact-sha256", "-"), fields.get("signer-cert-sha256", "-"))
EOF
ref_all() { python3 "$TRASH/scan.py" "$REPO" | sort; }
sg_all() { sg --json log 2>/dev/null | jq -r '.[] | select(.type == "event") | "\(.commit) \(.artifact_sha256 // "-") \(.signer_cert_sha256 // "-")"' | sort; }
sg_art() { sg --json log --artifact "$1" 2>/dev/null | jq -r '.[] | select(.type == "event") | "\(.commit) \(.artifact_sha256 // "-") \(.signer_cert_sha256 // "-")"' | sort; }
sg_cert() { sg --json log --cert "$1" 2>/dev/null | jq -r '.[] | select(.type == "event") | "\(.commit) \(.artifact_sha256 // "-") \(.signer_cert_sha256 // "-")"' | sort; }
# same CASE: log, and log --artifact / --cert for every digest, as the reference says
same() {
	ref_all >"$TRASH/ref" && sg_all >"$TRASH/got"
	check "$1: log lists the events of a full scan ($(wc -l <"$TRASH/ref"))" cmp -s "$TRASH/ref" "$TRASH/got"
	bad=0
	for d in $(cut -d' ' -f2 "$TRASH/ref" | sort -u); do
		grep " $d " "$TRASH/ref" >"$TRASH/ref.a"
		sg_art "$d" >"$TRASH/got.a"
		cmp -s "$TRASH/ref.a" "$TRASH/got.a" || { bad=1; echo "# --artifact $d differs"; }
	done
	for c in $(cut -d' ' -f3 "$TRASH/ref" | sort -u); do
		grep " $c\$" "$TRASH/ref" >"$TRASH/ref.c"
		sg_cert "$c" >"$TRASH/got.c"
		cmp -s "$TRASH/ref.c" "$TRASH/got.c" || { bad=1; echo "# --cert $c differs"; }
	done
	check "$1: every --artifact and --cert lookup as a full scan" test $bad = 0
}
ev() { printf 'Signgate-Event: sign\nArtifact: %s\nArtifact-Sha256: %s\nSigner-Cert-Sha256: %s\nSigned-At: 2026-11-2%sT10:00:00Z\n' \
	"$1" "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)" "$(printf 'cert %s' "$2" | sha256sum | cut -d' ' -f1)" "$3"; }

# a real signed artifact, and hand-written events on three commits
printf 'release\n' >"$REPO/dist/r.tar.gz"
expect 0 "sign dist/r.tar.gz" -- sg sign dist/r.tar.gz
c1=$(git -C "$REPO" rev-parse HEAD)
sg_reviewed_commit src/two.c two && c2=$(git -C "$REPO" rev-parse HEAD)
sg_reviewed_commit src/three.c three && c3=$(git -C "$REPO" rev-parse HEAD)
{ ev a1 1 1; echo; echo 'a remark'; echo; ev a2 2 1; } >"$TRASH/n2"
git -C "$REPO" notes --ref=signatures add -F "$TRASH/n2" "$c2"
expect 0 "log builds the index" -- sg log
check "the cache file is written" sh -c "ls '$IDX'/*.idx >/dev/null"
same "first build"
expect 0 "verify finds its event through the index" -- sg verify dist/r.tar.gz

# new notes commits: the index follows (only the changed notes are read)
{ ev b1 1 2; echo; ev b2 3 2; } >"$TRASH/n3"
git -C "$REPO" notes --ref=signatures add -F "$TRASH/n3" "$c3"
ev a3 2 3 >"$TRASH/n2b"
git -C "$REPO" notes --ref=signatures append -F "$TRASH/n2b" "$c2"
same "after two more notes commits"
moved=$(git -C "$REPO" rev-parse refs/notes/signatures)

# sync: another clone records events on the same commit and another one
git -C "$REPO" push -q origin HEAD:refs/heads/main refs/notes/signatures
git clone -q "$TRASH/bare.git" "$TRASH/b"
git -C "$TRASH/b" fetch -q origin refs/notes/signatures:refs/notes/signatures
{ ev c1 3 4; echo; ev a1 1 4; } >"$TRASH/nb"
git -C "$TRASH/b" notes --ref=signatures append -F "$TRASH/nb" "$c2"
ev c2 1 5 >"$TRASH/nb2"
git -C "$TRASH/b" notes --ref=signatures add -F "$TRASH/nb2" "$c1" 2>/dev/null ||
	git -C "$TRASH/b" notes --ref=signatures append -F "$TRASH/nb2" "$c1"
(cd "$TRASH/b" && "$SIGNGATE" sync >/dev/null 2>&1)
ev d1 2 6 >"$TRASH/na"
git -C "$REPO" notes --ref=signatures append -F "$TRASH/na" "$c3"
expect 0 "log before the sync (index at the local tip)" -- sg log
expect 0 "sync merges the other clone's notes" -- sg sync
check "the notes were merged (a merge commit)" test \
	"$(git -C "$REPO" rev-list --parents -1 refs/notes/signatures | wc -w)" = 3
same "after sync merged notes from another clone"
expect 0 "verify after the sync" -- sg verify dist/r.tar.gz

# the notes ref moves backwards, then is replaced by an unrelated history
git -C "$REPO" update-ref refs/notes/signatures "$moved"
same "after the notes ref moved backwards"
tree=$(git -C "$REPO" mktree </dev/null)
{ ev z1 7 8; } >"$TRASH/nz"
blob=$(git -C "$REPO" hash-object -w "$TRASH/nz")
tree=$(printf '100644 blob %s\t%s\n' "$blob" "$c3" | git -C "$REPO" mktree)
other=$(git -C "$REPO" commit-tree -m "another notes history" "$tree")
git -C "$REPO" update-ref refs/notes/signatures "$other"
same "after the notes ref was replaced"
expect 5 "verify: the replaced history has no event for the artifact" -- sg verify dist/r.tar.gz
# the cache describes a tree that is then pruned away: a full scan
ev y1 9 9 >"$TRASH/ny"
git -C "$REPO" update-ref refs/notes/signatures "$moved"
git -C "$REPO" notes --ref=signatures append -F "$TRASH/ny" "$c1"
gone=$(git -C "$REPO" rev-parse refs/notes/signatures)
sg log >/dev/null 2>&1
git -C "$REPO" update-ref refs/notes/signatures "$moved"
git -C "$REPO" for-each-ref --format='delete %(refname)' refs/signgate | git -C "$REPO" update-ref --stdin
git -C "$REPO" reflog expire --expire=now --all && git -C "$REPO" gc -q --prune=now 2>/dev/null
check "the tree the cache describes is gone" sh -c "! git -C '$REPO' cat-file -e '$gone^{tree}' 2>/dev/null"
same "after the cached tree was pruned"

# the cache file deleted, truncated, tampered with (checksum not matching)
rm -rf "$IDX"
same "after the cache was deleted"
f=$(ls "$IDX"/*.idx)
truncate -s 100 "$f"
same "after the cache was truncated"
check "the truncated cache was rewritten" test "$(wc -c <"$f")" -gt 100
size=$(wc -c <"$f")
printf '\377\377\377\377' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
same "after a byte in the middle of the cache was changed"
printf 'not an index' >"$f"
same "after the cache was replaced by garbage"
expect 0 "verify with a rebuilt cache" -- sg verify dist/r.tar.gz

# a forged cache (checksum recomputed): an event's paragraph moved one line
# down, so that it starts inside the paragraph. Refused, and the file removed.
sg log >/dev/null 2>&1
python3 - "$f" <<'EOF'
import hashlib, struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
nnotes, nevents = struct.unpack_from("=II", b, 12)
hdr, note, ev = 72, 64, 88
first = hdr + nnotes * note
off, length = struct.unpack_from("=II", b, first + 4)
struct.pack_into("=II", b, first + 4, off + 21, length - 21)
b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()
open(p, "wb").write(b)
EOF
expect 1 "log refuses a cache that points inside a paragraph" -- sg log
grep_out "disagrees with the note" "the error says the index disagrees with the note"
check "the forged cache file was removed" test ! -e "$f"
same "after the forged cache was removed"
done_testing
