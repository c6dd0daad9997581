#!/bin/sh
# Exit codes and words as DESIGN.md section 1 says (issue 14): not a
# repository, no policy, a policy that does not parse, a missing file and a
# user's own hook are errors -- exit 1, "signgate: error:" and the fix, in
# every command; exit 3 and "denied" stay for decisions (the twins below).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*')"
expect 0 "a signing in the repository" -- "$SIGNGATE" sign dist/app.tar.gz

# error_in CMD...: exit 1, "signgate: error: WHAT", never "denied"
error_in() {
	msg=$1; shift
	expect 1 "$*: $msg" -- "$@"
	grep_out "signgate: error: $msg" "  ...says the error"
	no_grep_out "denied" "  ...and no 'denied'"
}

# Not a repository: every command that needs one.
mkdir "$TRASH/norepo"
cd "$TRASH/norepo" || exit 1
for c in check "sign x" "verify x" log sync approve install-hooks; do
	# shellcheck disable=SC2086
	error_in "not a git repository" "$SIGNGATE" $c
	grep_out "pass -C DIR" "  ...$c names the fix"
done
expect 1 "doctor outside a repository" -- "$SIGNGATE" doctor --no-tsa
grep_out "FAIL  *repository: not a git repository" "  ...its checklist fails the repository"
expect 1 "revoke outside a repository" -- "$SIGNGATE" revoke --cert "$(vt_cert_sha "$VT_PKI/codesign.pem")" \
	--since 2026-01-01T00:00:00Z --reason x
grep_out "signgate: error: " "  ...an error"

# No policy on the protected branch.
git init -q -b main "$TRASH/nopol"
git -C "$TRASH/nopol" commit -q --allow-empty -m x -m "Reviewed-by: Bob <bob@example.com>"
mkdir "$TRASH/nopol/dist" && echo a >"$TRASH/nopol/dist/a"
cd "$TRASH/nopol" || exit 1
for c in check "sign dist/a" "verify dist/a" sync; do
	# shellcheck disable=SC2086
	error_in "no policy: no .signgate on refs/heads/main" "$SIGNGATE" $c
	grep_out "signgate init" "  ...$c says how to write one"
done
expect 0 "log without a policy still lists the notes" -- "$SIGNGATE" log
grep_out "warning: no policy" "  ...with a warning"

# A policy with a typo'd key: the same error, exit 1, in every command.
cd "$VT_REPO" || exit 1
sed 's/requiredReviews = 1/requiredReview = 1/' .signgate >.signgate.new && mv .signgate.new .signgate
vt_commit "typo"
for c in check "sign dist/app.tar.gz" "verify dist/app.tar.gz" log sync; do
	# shellcheck disable=SC2086
	error_in ".signgate at refs/heads/main:3: unknown key requiredReview in \\[gate\\]" "$SIGNGATE" $c
	grep_out "did you mean requiredReviews?" "  ...$c suggests the valid key"
	grep_out "signgate-policy(5)" "  ...and names the man page"
	no_grep_out "docs/" "  ...not a docs/ path"
done
expect 1 "revoke with a typo'd policy" -- "$SIGNGATE" revoke --cert "$(vt_cert_sha "$VT_PKI/codesign.pem")" \
	--since 2026-01-01T00:00:00Z --reason x
grep_out "did you mean requiredReviews?" "  ...revoke says the same"
git reset -q --hard HEAD~1

# A file that does not exist.
error_in "dist/nope.tar.gz" "$SIGNGATE" sign dist/nope.tar.gz
error_in "dist/nope.tar.gz" "$SIGNGATE" verify dist/nope.tar.gz

# A user's own hook is not overwritten: an error, with both ways out.
printf '#!/bin/sh\nexit 0\n' >.git/hooks/reference-transaction && chmod +x .git/hooks/reference-transaction
error_in ".*/.git/hooks/reference-transaction exists and was not written by signgate" "$SIGNGATE" install-hooks
grep_out "signgate-install-hooks(1)" "  ...says where merging it is explained"
grep_out "install-hooks --force" "  ...or how to replace it"

# Work that cannot be done is exit 1 in check, sign and verify alike: an
# unknown revision (a decision needs a commit to judge).
for c in "check no-such-rev" "sign --rev no-such-rev dist/app.tar.gz" "verify --rev no-such-rev dist/app.tar.gz"; do
	# shellcheck disable=SC2086
	error_in ".*no-such-rev.*; fetch it or name one that exists" "$SIGNGATE" $c
done
# The reviewers' keyring the policy names is missing, or holds no key: the
# approvals rule cannot be applied, an error (exit 1), in check and sign. (The
# keyring is read when an approval is there to judge: a statement block, even
# one that will not verify, is enough.)
printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n' |
	git notes --ref=refs/notes/signgate-approvals add -f -F - HEAD
kr_policy() {
	sed '/^\[gate\]/a\
	reviewSource = approvals\
	reviewerKey = 0123456789ABCDEF0123456789ABCDEF01234567\
	reviewerKeyring = '"$1" .signgate >"$TRASH/kr.policy"
}
kr_policy "$TRASH/no-such-keyring.asc"
error_in "cannot read gate.reviewerKeyring" "$SIGNGATE" --policy "$TRASH/kr.policy" check
error_in "cannot read gate.reviewerKeyring" "$SIGNGATE" --policy "$TRASH/kr.policy" sign dist/app.tar.gz
printf 'not a key\n' >"$TRASH/garbage.asc"
kr_policy "$TRASH/garbage.asc"
error_in "the reviewers' keyring file .*garbage.asc holds no OpenPGP public key" "$SIGNGATE" --policy "$TRASH/kr.policy" check
grep_out "gpg --armor --export" "  ...and says how to make one"
# Hooks still fail closed on an error: the release tag is not made.
git config signgate.policyFile "$TRASH/kr.policy"
expect 0 "install the hooks" -- "$SIGNGATE" install-hooks --force
if PATH="$(dirname "$SIGNGATE"):$PATH" git tag -a -m r v9.9 >"$TRASH/out" 2>"$TRASH/err"; then
	not_ok "a release tag under an unreadable keyring is refused by the hook"
else
	ok "a release tag under an unreadable keyring is refused by the hook"
fi
grep_out "holds no OpenPGP public key" "  ...saying why"
check "  ...and no tag was made" sh -c "! git rev-parse -q --verify refs/tags/v9.9"
git config --unset signgate.policyFile
git notes --ref=refs/notes/signgate-approvals remove HEAD 2>/dev/null
rm -f .git/hooks/reference-transaction .git/hooks/pre-receive

# The twins: decisions are still exit 3 and "denied".
git checkout -q -b feature
echo b >dist/b.tar.gz && git add dist/b.tar.gz && git commit -q -m "unreviewed"
expect 3 "check of an unreviewed commit off the branch: a decision" -- "$SIGNGATE" check
grep_out "denied" "  ...says denied"
expect 3 "sign of it: denied" -- "$SIGNGATE" sign dist/b.tar.gz
grep_out "signgate: denied: " "  ...says denied"
no_grep_out "signgate: error:" "  ...not an error"
done_testing
