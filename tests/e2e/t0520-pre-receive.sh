#!/bin/sh
# A bare repository with signgate's pre-receive: a release tag needs a
# reviewed commit and a signing event (the notes may come in the same push);
# the notes refs only grow; everything else passes untouched.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
sg_policy_text | sed 's/^\[scan\]/[release]\n\ttagPattern = v*\n\trequireNote = true\n[scan]/' | sg_commit_policy
sg_reviewed_commit src/more.c 'int more;'
SERVER=$TRASH/server.git
git init -q --bare "$SERVER"
expect 0 "install-hooks in a bare repository" -- sh -c "cd '$SERVER' && signgate install-hooks"
check "pre-receive installed" test -x "$SERVER/hooks/pre-receive"
check "it is hooks/pre-receive" cmp -s "$SERVER/hooks/pre-receive" "$SG_TOP/hooks/pre-receive"
check "no reference-transaction in a bare repository by default" test ! -e "$SERVER/hooks/reference-transaction"
git -C "$REPO" remote add origin "$SERVER"

expect 0 "a normal branch push is accepted" -- git -C "$REPO" push -q origin main
no_grep_out "rejected" "nothing is rejected"

# a release tag without a signing event
git -C "$REPO" tag v1.0
expect 1 "push of v1.0 without a note is rejected" -- git -C "$REPO" push -q origin v1.0
grep_out "no signing event" "the reason: no signing event"
check "the server has no v1.0" sh -c "! git -C '$SERVER' rev-parse -q --verify refs/tags/v1.0 >/dev/null"

# sign, then push tag + notes together
printf 'artifact\n' >"$REPO/dist/a.txt"
(cd "$REPO" && signgate -q sign --tag v1.0 dist/a.txt) || echo "# sign failed"
expect 0 "push of v1.0 with the notes in the same push is accepted" -- git -C "$REPO" push -q origin v1.0 refs/notes/signatures
check "the server has v1.0" sh -c "git -C '$SERVER' rev-parse -q --verify refs/tags/v1.0 >/dev/null"
check "the server has the notes" sh -c "git -C '$SERVER' notes --ref signatures show v1.0 | grep -q '^Tag: v1.0$'"

# an unreviewed commit with a (test-profile) note: the gate still refuses
git -C "$REPO" commit -q --allow-empty -m "unreviewed"
mkdir -p "$REPO/test"; printf 't\n' >"$REPO/test/t.txt"
(cd "$REPO" && signgate -q --profile test sign test/t.txt) || echo "# test sign failed"
git -C "$REPO" tag v1.1
expect 1 "push of a tag on an unreviewed commit is rejected, note or not" -- git -C "$REPO" push -q origin main v1.1 refs/notes/signatures
grep_out "gate denies" "the reason: the gate"
check "the server has no v1.1" sh -c "! git -C '$SERVER' rev-parse -q --verify refs/tags/v1.1 >/dev/null"
check "the push was all or nothing (main unchanged)" test "$(git -C "$SERVER" rev-parse main)" = "$(git -C "$REPO" rev-parse main~1)"

# notes refs are append-only
git -C "$REPO" reset -q --hard main~1
git -C "$REPO" update-ref -d refs/notes/signatures
git -C "$REPO" notes --ref signatures add -m "rewritten" main
expect 1 "force-push of a rewritten notes ref is rejected" -- git -C "$REPO" push -q -f origin refs/notes/signatures
grep_out "not a fast-forward" "the reason: not a fast-forward"
# a fast-forward that drops a note
git -C "$REPO" update-ref refs/notes/signatures "$(git -C "$SERVER" rev-parse refs/notes/signatures)"
git -C "$REPO" notes --ref signatures remove v1.0 2>/dev/null
expect 1 "a fast-forward notes commit that removes a note is rejected" -- git -C "$REPO" push -q origin refs/notes/signatures
grep_out "removes the note" "the reason: a note removed"
# a fast-forward that edits an event
git -C "$REPO" update-ref refs/notes/signatures "$(git -C "$SERVER" rev-parse refs/notes/signatures)"
git -C "$REPO" notes --ref signatures show v1.0 | sed 's/^Profile: release$/Profile: other/' >"$TRASH/edited"
git -C "$REPO" notes --ref signatures add -f -F "$TRASH/edited" v1.0
expect 1 "a fast-forward notes commit that edits an event is rejected" -- git -C "$REPO" push -q origin refs/notes/signatures
grep_out "recorded text is changed" "the reason: recorded text changed"
expect 1 "deleting the notes ref is rejected" -- git -C "$REPO" push -q origin :refs/notes/signatures
# a fast-forward that appends is accepted
git -C "$REPO" update-ref refs/notes/signatures "$(git -C "$SERVER" rev-parse refs/notes/signatures)"
git -C "$REPO" notes --ref signatures append -m "Reviewer remark: fine" v1.0
expect 0 "an appending notes update is accepted" -- git -C "$REPO" push -q origin refs/notes/signatures
check "the server's note kept the event and has the remark" sh -c "git -C '$SERVER' notes --ref signatures show v1.0 | grep -q '^Profile: release$' && git -C '$SERVER' notes --ref signatures show v1.0 | grep -q 'Reviewer remark'"

# untouched
expect 0 "a non-release tag is accepted" -- sh -c "git -C '$REPO' tag nightly && git -C '$REPO' push -q origin nightly"
expect 0 "a branch push is accepted" -- sh -c "git -C '$REPO' commit -q --allow-empty -m more && git -C '$REPO' push -q origin main"
check "the audit log of the server has the decisions" sh -c "grep -q '\"op\": *\"pre-receive\"' '$SERVER/signgate/audit.log'"
done_testing
