#!/bin/sh
# `git tag` with the reference-transaction hook that `signgate install-hooks`
# writes: a release tag on a reviewed commit is made and its artifacts are
# signed and recorded with Tag:; on an unreviewed commit git refuses the tag.
# Non-release tags, branches and fetched tags are left alone.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
sg_policy_text | sed 's/^\[scan\]/[release]\n\ttagPattern = v*\n\tarchive = true\n\tartifact = dist\/*-%(tag).txt\n[scan]/' |
	sg_commit_policy
sg_reviewed_commit src/more.c 'int more;'
name=$(basename "$REPO")

expect 0 "signgate install-hooks" -- sh -c "cd '$REPO' && signgate install-hooks"
check "the hook is executable" test -x "$REPO/.git/hooks/reference-transaction"
check "the installed hook is hooks/reference-transaction" cmp -s "$REPO/.git/hooks/reference-transaction" "$SG_TOP/hooks/reference-transaction"
check "no pre-receive in a work tree by default" test ! -e "$REPO/.git/hooks/pre-receive"

printf 'release notes\n' >"$REPO/dist/notes-v1.0.txt"
expect 0 "git tag v1.0 on a reviewed commit" -- git -C "$REPO" tag v1.0
check "tag v1.0 exists" sh -c "git -C '$REPO' rev-parse -q --verify refs/tags/v1.0 >/dev/null"
check "the archive $name-v1.0.tar.gz was made" test -s "$REPO/dist/$name-v1.0.tar.gz"
check "the archive is git archive of the tag" sh -c "git -C '$REPO' archive --format=tar.gz --prefix='$name-v1.0/' v1.0 | cmp -s - '$REPO/dist/$name-v1.0.tar.gz'"
check "openssl cms -verify accepts the archive's signature" cms_verify "$REPO/dist/$name-v1.0.tar.gz"
check "openssl cms -verify accepts dist/notes-v1.0.txt.p7s (release.artifact)" cms_verify "$REPO/dist/notes-v1.0.txt"
check "the token verifies with openssl ts" ts_verify_p7s "$REPO/dist/$name-v1.0.tar.gz"
note=$(git -C "$REPO" notes --ref signatures show v1.0^{commit} 2>/dev/null)
check "the note records Tag: v1.0" sh -c "printf '%s\n' \"\$1\" | grep -q '^Tag: v1.0$'" _ "$note"
check "the note names the archive" sh -c "printf '%s\n' \"\$1\" | grep -q '^Artifact: dist/$name-v1.0.tar.gz$'" _ "$note"
check "two events (archive + artifact)" test "$(printf '%s\n' "$note" | grep -c '^Signgate-Event: sign')" = 2
check "signgate verify agrees" sh -c "cd '$REPO' && signgate verify --rev v1.0 'dist/$name-v1.0.tar.gz' >/dev/null 2>&1"
check "the audit log has the tag gate" sh -c "grep -q '\"op\": *\"tag-gate\"' '$REPO/.git/signgate/audit.log'"
# forgery twin of the independent check
cp "$REPO/dist/$name-v1.0.tar.gz" "$TRASH/a.tgz"; printf x >>"$TRASH/a.tgz"; cp "$REPO/dist/$name-v1.0.tar.gz.p7s" "$TRASH/a.tgz.p7s"
check "openssl cms -verify rejects a changed archive" sh -c "! openssl cms -verify -binary -inform DER -in '$TRASH/a.tgz.p7s' -content '$TRASH/a.tgz' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"

# denial twin: an unreviewed commit
git -C "$REPO" commit -q --allow-empty -m "unreviewed"
notes_before=$(git -C "$REPO" rev-parse refs/notes/signatures)
expect 128 "git tag v1.1 on an unreviewed commit fails" -- git -C "$REPO" tag v1.1
grep_out "reviews" "git shows the reason (reviews)"
grep_out "the tag was not created" "and says the tag was not made"
check "no tag v1.1" sh -c "! git -C '$REPO' rev-parse -q --verify refs/tags/v1.1 >/dev/null"
check "no new signing record" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$notes_before"
check "no archive for v1.1" test ! -e "$REPO/dist/$name-v1.1.tar.gz"
check "the denial is in the audit log" sh -c "tail -n 3 '$REPO/.git/signgate/audit.log' | grep -q '\"decision\": *\"denied\"'"
expect 128 "an annotated tag on the unreviewed commit fails too" -- git -C "$REPO" tag -a v1.1 -m "release"
check "no annotated tag v1.1" sh -c "! git -C '$REPO' rev-parse -q --verify refs/tags/v1.1 >/dev/null"

# untouched: non-release tags, branches
expect 0 "a non-release tag on the unreviewed commit is made" -- git -C "$REPO" tag nightly-1
check "no signing for a non-release tag" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$notes_before"
expect 0 "a branch update is untouched" -- git -C "$REPO" branch topic
expect 0 "a commit on main is untouched" -- git -C "$REPO" commit -q --allow-empty -m "another"
no_grep_out "signgate" "signgate says nothing on a branch update"

# an annotated release tag on a reviewed commit (the tag object is not in refs yet)
git -C "$REPO" checkout -q -b rel main~2
expect 0 "git tag -a v2.0 on the reviewed commit" -- git -C "$REPO" tag -a v2.0 -m "release 2.0" main~2
check "tag v2.0 exists" sh -c "git -C '$REPO' rev-parse -q --verify refs/tags/v2.0 >/dev/null"
check "v2.0 is recorded" sh -c "git -C '$REPO' notes --ref signatures show v2.0^{commit} | grep -q '^Tag: v2.0$'"
git -C "$REPO" checkout -q main

# release.name and release.outDir name the archive and its folder; the
# release profile (dist/*) must match the folder, so outDir stays under dist
sg_policy_text | sed 's/^\[scan\]/[release]\n\ttagPattern = v*\n\tarchive = true\n\tname = hello\n\toutDir = dist\/rel\n[scan]/; s|^\tartifacts = dist/\*$|\tartifacts = dist/*\n\tartifacts = dist/rel/*|' |
	sg_commit_policy
sg_reviewed_commit src/named.c 'int named;'
expect 0 "git tag v3.0 with release.name and release.outDir" -- git -C "$REPO" tag v3.0
check "the archive is dist/rel/hello-v3.0.tar.gz" test -s "$REPO/dist/rel/hello-v3.0.tar.gz"
check "and its signature verifies" cms_verify "$REPO/dist/rel/hello-v3.0.tar.gz"
check "no archive under the folder name" test ! -e "$REPO/dist/rel/$name-v3.0.tar.gz"
sg_policy_text | sed 's/^\[scan\]/[release]\n\toutDir = ..\/out\n[scan]/' >"$TRASH/bad-policy"
expect 1 "release.outDir outside the work tree is a policy error" -- sh -c "cd '$REPO' && signgate --policy '$TRASH/bad-policy' check"
grep_out "inside the work tree" "the reason says it must stay inside"

# fetched tags are not judged or signed
git clone -q "$REPO" "$TRASH/clone"
(cd "$TRASH/clone" && signgate install-hooks >/dev/null 2>&1)
git -C "$REPO" -c core.hooksPath=/dev/null tag v9.9 HEAD
expect 0 "git fetch of a release tag on an unreviewed commit is not blocked" -- git -C "$TRASH/clone" fetch -q --tags origin
check "the fetched tag is there" sh -c "git -C '$TRASH/clone' rev-parse -q --verify refs/tags/v9.9 >/dev/null"

# a foreign hook is not overwritten without --force
printf '#!/bin/sh\nexit 0\n' >"$TRASH/clone/.git/hooks/reference-transaction"
expect 1 "install-hooks refuses to overwrite a foreign hook" -- sh -c "cd '$TRASH/clone' && signgate install-hooks"
grep_out "--force" "it says how to replace it"
expect 0 "install-hooks --force replaces it" -- sh -c "cd '$TRASH/clone' && signgate install-hooks --force"
check "the hook is signgate's now" grep -q "signgate-hook" "$TRASH/clone/.git/hooks/reference-transaction"
done_testing
