#!/bin/sh
# signgate approve + reviewSource = approvals: OpenPGP-signed approval
# statements in refs/notes/signgate-approvals, checked against the keys the
# protected branch lists.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/gpg.sh"

sg_gpg_init "$GNUPGHOME" || exit 1
sg_at_exit sg_gpg_kill
BOB=$(sg_gpg_genkey Bob bob@example.com "")
CAROL=$(sg_gpg_genkey Carol carol@example.com "")
AUTHOR=$(sg_gpg_genkey Author author@example.com "")
MALLORY=$(sg_gpg_genkey Mallory mallory@example.com "")
OUTSIDER=$(sg_gpg_genkey Olga olga@example.com "")
check "five test keys" test -n "$BOB" -a -n "$CAROL" -a -n "$AUTHOR" -a -n "$MALLORY" -a -n "$OUTSIDER"

git init -q -b main r
mkdir -p r/keys
# the keyring holds mallory's key too, but the policy does not list it; olga's is not in it
gpg --batch --armor --export "$BOB" "$CAROL" "$AUTHOR" "$MALLORY" >r/keys/reviewers.asc
cat >r/.signgate <<POLICY
[gate]
	protectedBranch = main
	requiredReviews = 2
	reviewSource = approvals
	reviewerKey = $BOB
	reviewerKey = $CAROL
	reviewerKey = $AUTHOR
	reviewerKeyring = keys/reviewers.asc
POLICY
git -C r add .signgate keys && git -C r commit -q -m policy
reviewed_commit r "change one"
one=$(git -C r rev-parse HEAD)

expect 3 "no approval yet" -- sg check
grep_out "no signed approval on" "says there is none"

expect 0 "bob approves" -- sg approve --key "$BOB"
grep_out "approved $(git -C r rev-parse --short=12 HEAD) as bob@example.com with key $BOB" "says what was recorded"
expect 3 "1 of 2 signed approvals" -- sg check
grep_out "1 of 2 required reviews on .* (bob@example.com)" "bob counted"

git -C r config user.signingkey "$CAROL"
expect 0 "carol approves with git's user.signingkey" -- sg approve
expect 0 "2 of 2 signed approvals" -- sg check
grep_out "2 of 2 required reviews on .* (bob@example.com, carol@example.com)" "both counted"

# Independent check: gpg verifies the first statement in the note.
git -C r notes --ref=refs/notes/signgate-approvals show "$one" >"$TRASH/note"
sed -n '1,/^-----END PGP SIGNATURE-----$/p' "$TRASH/note" >"$TRASH/first.asc"
check "gpg verifies bob's statement" gpg --batch --verify "$TRASH/first.asc"
check "the statement names the commit and tree" \
	sh -c "grep -q '^commit $one\$' '$TRASH/first.asc' && grep -q '^tree $(git -C r rev-parse HEAD^{tree})\$' '$TRASH/first.asc'"

# The keyring is read from the protected branch's commit, not the working tree.
echo garbage >r/keys/reviewers.asc
expect 0 "a changed working-tree keyring changes nothing" -- sg check
git -C r checkout -q keys/reviewers.asc

# The author's own key does not count.
reviewed_commit r "change two"
expect 0 "author approves own commit" -- sg approve --key "$AUTHOR"
expect 0 "bob approves" -- sg approve --key "$BOB"
expect 3 "the author's own approval does not count" -- sg check
grep_out "the author's own review does not count (author@example.com)" "says why"

# A key the policy does not list, and one that is not in the keyring.
reviewed_commit r "change three"
expect 0 "mallory approves" -- sg approve --key "$MALLORY"
expect 0 "olga approves" -- sg approve --key "$OUTSIDER"
expect 0 "bob approves" -- sg approve --key "$BOB"
expect 3 "approvals by unlisted keys do not count" -- sg check
grep_out "which gate.reviewerKey does not list" "mallory: key not listed"
grep_out "which is not in the reviewers' keyring" "olga: key not in the keyring"

# Approvals copied onto another commit.
reviewed_commit r "change four"
git -C r notes --ref=refs/notes/signgate-approvals add -F "$TRASH/note" HEAD
expect 3 "approvals copied from another commit" -- sg check
grep_out "names commit $(echo "$one" | cut -c1-7), not $(git -C r rev-parse --short=7 HEAD) (copied from another commit)" "says copied"

# A tampered statement: a line changed after signing.
reviewed_commit r "change five"
expect 0 "bob approves" -- sg approve --key "$BOB"
expect 0 "carol approves" -- sg approve --key "$CAROL"
expect 0 "allowed before tampering" -- sg check
git -C r notes --ref=refs/notes/signgate-approvals show HEAD |
	sed 's/^reviewer carol@example.com$/reviewer bob@example.com/' >"$TRASH/tampered"
check "the note was altered" sh -c "! git -C r notes --ref=refs/notes/signgate-approvals show HEAD | cmp -s - '$TRASH/tampered'"
git -C r notes --ref=refs/notes/signgate-approvals add -f -F "$TRASH/tampered" HEAD 2>/dev/null
expect 3 "a tampered statement does not count" -- sg check
grep_out "signature does not verify" "says it does not verify"
grep_out "1 of 2 required reviews" "bob still counts once"

# No keyring in the policy: the rules cannot be applied, an error (exit 1).
printf '[gate]\n\tprotectedBranch = main\n\treviewSource = approvals\n\treviewerKey = %s\n' "$BOB" >"$TRASH/p1"
expect 1 "reviewerKeyring unset: an error" -- sg --policy "$TRASH/p1" check "$one"
grep_out "needs gate.reviewerKeyring" "says what to set"
# A --policy file names the keyring as a file.
gpg --batch --armor --export "$BOB" "$CAROL" >"$TRASH/keys.asc"
printf '\treviewerKey = %s\n\treviewerKeyring = %s\n\trequiredReviews = 2\n' "$CAROL" "$TRASH/keys.asc" >>"$TRASH/p1"
expect 0 "--policy with a keyring file" -- sg --policy "$TRASH/p1" check "$one"

# A reviewer key revoked since: its approvals no longer count.
sg_gpg_revoke "$CAROL"
gpg --batch --armor --export "$BOB" "$CAROL" >"$TRASH/keys.asc"
expect 3 "an approval by a revoked key" -- sg --policy "$TRASH/p1" check "$one"
grep_out "revoked" "says revoked"

# Usage
expect 2 "approve takes one revision" -- sg approve a b
grep_out "approve takes one revision, got 2" "and says so"
expect 1 "no such secret key" -- sg approve --key 0000000000000000000000000000000000000000
done_testing
