#!/bin/sh
# Hostile notes (issue 7 item 3): notes written by other tools, huge notes,
# binary notes on the signed commit. sign appends its event and keeps what
# was there; verify and log skip what is not an event; nothing crashes or
# hangs. Random note text: tests/fuzz/fuzz_notes.c.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/hostile-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
printf 'artifact\n' >"$REPO/dist/a.txt"
head=$(git -C "$REPO" rev-parse HEAD)
note() { git -C "$REPO" notes --ref=signatures show "$head"; }

# a note written by another tool
git -C "$REPO" notes --ref=signatures add -m "Reviewed on the mailing list." -m "Signgate-Event: sign
Artifact: dist/a.txt
Artifact-Sha256: $(sha256sum "$REPO/dist/a.txt" | cut -d' ' -f1)" "$head"
expect 5 "a hand-written event for the digest is not a signature: verify fails" -- sg verify dist/a.txt
expect 0 "sign appends to a note another tool wrote" -- sg sign dist/a.txt
check "the other tool's text is kept" sh -c "git -C '$REPO' notes --ref=signatures show '$head' | grep -q '^Reviewed on the mailing list.$'"
check "the event was appended" sh -c "git -C '$REPO' notes --ref=signatures show '$head' | grep -c '^Signgate-Event: sign' | grep -qx 2"
expect 0 "verify finds the real event" -- sg verify dist/a.txt
expect 0 "log reads the note" -- sg log
expect 0 "log --json reads the note" -- sg --json log
check "log --json is valid JSON" jq -e . "$TRASH/out"

# a binary note without NUL bytes (control characters, invalid UTF-8)
head -c 4096 /dev/urandom | tr -d '\000' >"$TRASH/bin.note"
printf '\377\001\n\nSigngate-Event: sign\nArtifact: x\n' >>"$TRASH/bin.note"
git -C "$REPO" notes --ref=signatures add -f -F "$TRASH/bin.note" "$head"
expect 0 "sign appends to a binary note" -- sg sign dist/a.txt
expect 0 "verify finds its event after the binary text" -- sg verify dist/a.txt
expect 0 "log reads the binary note" -- sg --json log
check "log --json is valid JSON" jq -e . "$TRASH/out"

# a note with a NUL byte: signgate will not rewrite it
printf 'text\000more\n' >"$TRASH/nul.note"
git -C "$REPO" hash-object -w "$TRASH/nul.note" >"$TRASH/nul.id"
git -C "$REPO" notes --ref=signatures add -f -C "$(cat "$TRASH/nul.id")" "$head"
before=$(git -C "$REPO" rev-parse refs/notes/signatures)
snap 2
expect 1 "sign refuses to rewrite a note with a NUL byte" -- sg sign dist/a.txt
grep_out "contains a NUL byte" "the message says why"
snap 3
only_written 2 3 "nothing is published"
check "the notes ref did not move" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$before"
expect 5 "verify: the NUL note holds no event for it" -- sg verify dist/a.txt
expect 0 "log reads past it" -- sg log

# a huge note (over the 16 MiB cap), on the signed commit
{ i=0; while [ $i -lt 9 ]; do head -c 2000000 /dev/zero | tr '\0' 'x'; printf '\n\n'; i=$((i + 1)); done; } >"$TRASH/huge.note"
git -C "$REPO" notes --ref=signatures add -f -F "$TRASH/huge.note" "$head"
before=$(git -C "$REPO" rev-parse refs/notes/signatures)
snap 0
expect 1 "sign refuses to append to a note over the cap" -- sg sign dist/a.txt
grep_out "note" "the message names the note"
snap 1
only_written 0 1 "nothing is published when the event cannot be recorded"
check "the notes ref did not move" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$before"
expect 5 "verify finds no event (the huge note is skipped)" -- sg verify dist/a.txt
expect 0 "log skips the huge note" -- sg log

# a note of many tiny events by another tool, on another commit
sg_reviewed_commit src/two.c 'x'
{ i=0; while [ $i -lt 30000 ]; do printf 'Signgate-Event: sign\nArtifact: f%d\n\n' $i; i=$((i + 1)); done; } >"$TRASH/many.note"
git -C "$REPO" notes --ref=signatures add -f -F "$TRASH/many.note" HEAD
expect 0 "log over a note of 30000 forged events" -- sg log
expect 5 "none of them makes a signature verify" -- sg verify dist/a.txt
done_testing
