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

# the NUL-first rewrite (issue 11): a paragraph holding a NUL byte put
# before the recorded events. The bad paragraph is skipped and reported;
# the events after it still count; sign appends after it, byte for byte.
git -C "$REPO" notes --ref=signatures show "$head" >"$TRASH/real.note"
{ printf 'hidden\000\n\n'; cat "$TRASH/real.note"; } >"$TRASH/nul.note"
git -C "$REPO" hash-object -w "$TRASH/nul.note" >"$TRASH/nul.id"
git -C "$REPO" notes --ref=signatures add -f -C "$(cat "$TRASH/nul.id")" "$head"
expect 0 "verify: the event after the NUL paragraph still counts" -- sg verify dist/a.txt
grep_out "warning: note on .* paragraph 1 (byte 0) skipped: it contains a NUL byte" "verify reports the bad paragraph"
expect 0 "verify --json" -- sg --json verify dist/a.txt
check "verify --json lists the warning" jq -e '.verified == true and (.files[0].warnings | length) == 1 and (.files[0].warnings[0] | test("NUL byte"))' "$TRASH/out"
expect 0 "log reads past it" -- sg log
grep_out "^sign dist/a.txt" "log shows the events after the NUL paragraph"
grep_out "warning: note on .* skipped: it contains a NUL byte" "log reports the bad paragraph"
expect 0 "log --json reads past it" -- sg --json log
check "log --json has the events and a warning element" jq -e '([.[] | select(.type == "event" and .artifact == "dist/a.txt")] | length) == 1 and ([.[] | select(.type == "warning")] | length) == 1' "$TRASH/out"
events_before=$(git -C "$REPO" notes --ref=signatures show "$head" | grep -ac '^Signgate-Event: sign')
expect 0 "sign appends to a note holding a NUL byte" -- sg sign dist/a.txt
git -C "$REPO" cat-file blob "$(git -C "$REPO" notes --ref=signatures list "$head")" >"$TRASH/after.note"
check "the old note is a byte prefix of the new one" sh -c "head -c $(wc -c <"$TRASH/nul.note") '$TRASH/after.note' | cmp -s - '$TRASH/nul.note'"
check "one more event, after the batch's attestation, in paragraphs of their own" sh -c "test \$(grep -ac '^Signgate-Event: sign' '$TRASH/after.note') -eq $((events_before + 1)) && tail -c +$(($(wc -c <"$TRASH/nul.note") + 1)) '$TRASH/after.note' | head -2 | tr -d '\n' | grep -qx 'Signgate-Attestation: dsse'"
expect 0 "verify finds the new event" -- sg verify --rev HEAD dist/a.txt
# the twin: a NUL byte inside each event paragraph -- those are not events
perl -pe 's/^(Signgate-Event: sign)$/$1\0/' "$TRASH/after.note" >"$TRASH/nulin.note"
git -C "$REPO" notes --ref=signatures add -f -C "$(git -C "$REPO" hash-object -w "$TRASH/nulin.note")" "$head"
expect 5 "verify: an event paragraph holding a NUL byte is not an event" -- sg verify dist/a.txt
grep_out "skipped: it contains a NUL byte" "and it is reported"

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
