#!/bin/sh
# The server keeps notes append-only, byte for byte (issue 11 item 3):
# every old note is a prefix of its new version, the text added starts a
# paragraph of its own and holds no NUL byte, a note stays within
# SG_NOTES_MAX (16 MiB), no note is deleted. The same for the approvals
# ref, and for Gerrit's review notes ref when gate.reviewSource uses
# gerrit. Every refused update has its allowed twin.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
sg_policy_text | sed 's/^\treviewSource = trailers$/\treviewSource = trailers\n\treviewSource = gerrit/' | sg_commit_policy
sg_reviewed_commit src/more.c 'int more;'
SERVER=$TRASH/server.git
git init -q --bare "$SERVER"
(cd "$SERVER" && signgate install-hooks >/dev/null) || echo "# install-hooks failed"
git -C "$REPO" remote add origin "$SERVER"
git -C "$REPO" push -q origin main || echo "# push main failed"

# put_note REF FILE REV: the note on REV under REF is exactly the bytes of FILE
put_note() { git -C "$REPO" notes --ref "$1" add -f -C "$(git -C "$REPO" hash-object -w "$2")" "$3"; }
# from_server REF: start again from what the server holds
from_server() { git -C "$REPO" update-ref "$1" "$(git -C "$SERVER" rev-parse "$1")"; }
# refused WHAT REF REASON: the push of REF is refused for REASON, the server's ref unchanged
refused() {
	_before=$(git -C "$SERVER" rev-parse "$2" 2>/dev/null)
	expect 1 "$1 is refused" -- git -C "$REPO" push -q origin "$2"
	grep_out "$3" "  the reason: $3"
	check "  the server's $2 did not move" test "$(git -C "$SERVER" rev-parse "$2" 2>/dev/null)" = "$_before"
	from_server "$2"
}
accepted() {
	expect 0 "$1 is accepted" -- git -C "$REPO" push -q origin "$2"
	check "  the server has it" test "$(git -C "$SERVER" rev-parse "$2")" = "$(git -C "$REPO" rev-parse "$2")"
}

S=refs/notes/signatures
printf 'Signgate-Event: sign\nArtifact: dist/a.tar.gz\nTag: v1.0\n' >"$TRASH/base"
put_note $S "$TRASH/base" HEAD
accepted "a new notes ref with a text note" $S

# the NUL-first rewrite of the issue: every old paragraph still there, not a prefix
{ printf 'x\000\n\n'; cat "$TRASH/base"; } >"$TRASH/nulfirst"
put_note $S "$TRASH/nulfirst" HEAD
refused "the NUL-first rewrite" $S "changed at byte 0"
# an edit in the middle
sed 's/^Artifact: dist\/a.tar.gz$/Artifact: dist\/b.tar.gz/' "$TRASH/base" >"$TRASH/edited"
put_note $S "$TRASH/edited" HEAD
refused "an edit in the middle of a note" $S "changed at byte 36"
# text joined to the last paragraph (it would make the event malformed)
{ cat "$TRASH/base"; printf 'no colon on this line\n'; } >"$TRASH/joined"
put_note $S "$TRASH/joined" HEAD
refused "text joined to the last event" $S "continues the note's last paragraph"
# a NUL byte in the text added
{ cat "$TRASH/base"; printf '\nremark\000\n'; } >"$TRASH/nuladd"
put_note $S "$TRASH/nuladd" HEAD
refused "an append holding a NUL byte" $S "holds a NUL byte"
# the twin: the same remark, after a blank line, without the NUL
{ cat "$TRASH/base"; printf '\nReviewer remark: fine\n'; } >"$TRASH/appended"
put_note $S "$TRASH/appended" HEAD
accepted "an append after a blank line" $S
check "  the server's note is the old one plus the remark" sh -c "git -C '$SERVER' notes --ref signatures show HEAD | cmp -s - '$TRASH/appended'"

# a new note: no NUL, within the cap
printf 'Signgate-Event: sign\000\nArtifact: x\n' >"$TRASH/newnul"
put_note $S "$TRASH/newnul" HEAD~1
refused "a new note holding a NUL byte" $S "holds a NUL byte"
head -c 16777217 /dev/zero | tr '\000' 'x' >"$TRASH/huge"
put_note $S "$TRASH/huge" HEAD~1
refused "a new note over 16 MiB" $S "SG_NOTES_MAX"
# a note blob that inflates to 256 MiB (a few hundred KiB on the wire):
# refused from its header; the hook's signgate never holds it in memory
head -c 268435456 /dev/zero | tr '\000' 'x' >"$TRASH/bomb"
put_note $S "$TRASH/bomb" HEAD~1
rm -f "$TRASH/bomb"
printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s" -f %%M "%s" "$@"\n' "$TRASH/hook-rss" "$(command -v signgate)" >"$TRASH/signgate-rss"
chmod +x "$TRASH/signgate-rss"
git -C "$SERVER" config signgate.program "$TRASH/signgate-rss"
refused "a new note that inflates to 256 MiB" $S "SG_NOTES_MAX"
git -C "$SERVER" config --unset signgate.program
check "  the hook's signgate stayed under 160 MiB (it read the blob's header only)" \
	awk '$1 ~ /^[0-9]+$/ { n++; if ($1 > 163840) bad = 1 } END { exit !(n >= 1 && !bad) }' "$TRASH/hook-rss"
head -c 16777216 /dev/zero | tr '\000' 'x' >"$TRASH/max"
put_note $S "$TRASH/max" HEAD~1
accepted "a new note of exactly 16 MiB" $S
printf 'Signgate-Event: sign\nArtifact: y\n' >"$TRASH/newok"
put_note $S "$TRASH/newok" HEAD~2
accepted "a new text note" $S
git -C "$REPO" notes --ref signatures remove HEAD~2 2>/dev/null
refused "removing a note" $S "removes the note"

# signgate sync: two clones append to the same note; the merge keeps the
# server's note as its prefix, so the hook accepts it
R2=$TRASH/repo2
git clone -q "$SERVER" "$R2" && git -C "$R2" fetch -q origin 'refs/notes/*:refs/notes/*'
{ cat "$TRASH/appended"; printf '\nRemark from repo: one\n'; } >"$TRASH/one"
put_note $S "$TRASH/one" HEAD
accepted "repo's append" $S
git -C "$R2" notes --ref signatures append -m "Remark from repo2: two" HEAD
expect 1 "repo2's diverged notes: a plain push is refused (not a fast-forward)" -- git -C "$R2" push -q origin $S
expect 0 "signgate sync in repo2 merges and pushes through the hook" -- sh -c "cd '$R2' && signgate sync origin"
git -C "$SERVER" notes --ref signatures show HEAD >"$TRASH/merged"
check "  the server's note kept its old bytes as a prefix" sh -c "head -c $(wc -c <"$TRASH/one") '$TRASH/merged' | cmp -s - '$TRASH/one'"
check "  and has repo2's remark after them" sh -c "tail -n 1 '$TRASH/merged' | grep -qx 'Remark from repo2: two'"
git -C "$REPO" fetch -q origin "+$S:$S"

# the approvals ref: the same rules
A=refs/notes/signgate-approvals
printf 'Approved-by: bob\n' >"$TRASH/appr"
put_note $A "$TRASH/appr" HEAD
accepted "a new approvals ref" $A
printf 'Approved-by: mallory\n' >"$TRASH/appr2"
put_note $A "$TRASH/appr2" HEAD
refused "an approval rewritten" $A "changed at byte 13"
{ cat "$TRASH/appr"; printf '\nApproved-by: carol\n'; } >"$TRASH/appr3"
put_note $A "$TRASH/appr3" HEAD
accepted "an approval appended" $A

# Gerrit's review notes (gate.reviewSource = gerrit): the same rules
G=refs/notes/review
printf 'Code-Review+2: Bob <bob@example.com>\nSubmitted-by: Bob <bob@example.com>\n' >"$TRASH/g1"
put_note $G "$TRASH/g1" HEAD
accepted "new Gerrit review notes" $G
printf 'Code-Review+2: Mallory <mallory@example.com>\nSubmitted-by: Bob <bob@example.com>\n' >"$TRASH/g2"
put_note $G "$TRASH/g2" HEAD
refused "a Gerrit review note rewritten" $G "changed at byte 15"
expect 1 "deleting the Gerrit review notes ref is refused" -- git -C "$REPO" push -q origin ":$G"
{ cat "$TRASH/g1"; printf '\nCode-Review+2: Carol <carol@example.com>\n'; } >"$TRASH/g3"
put_note $G "$TRASH/g3" HEAD
accepted "a Gerrit review note appended" $G

# the twin: without gerrit in gate.reviewSource that ref is not signgate's
sg_policy_text | sg_commit_policy
git -C "$REPO" push -q origin main || echo "# push main failed"
put_note $G "$TRASH/g2" HEAD
expect 0 "without reviewSource = gerrit, refs/notes/review is not judged" -- git -C "$REPO" push -q origin $G
check "the server took the rewrite" sh -c "git -C '$SERVER' notes --ref review show HEAD | cmp -s - '$TRASH/g2'"
done_testing
