#!/bin/sh
# Provenance never moves (issue 11 item 5). The tag hook signs only what
# belongs to the tag: its archive and the built files release.artifact names
# with %(tag). A second release leaves the first one's archive, signature and
# event untouched; a stray file in dist/ is not signed; a file already
# recorded for another commit is refused (exit 3, the earlier event named)
# and a signature file recorded for another commit is never overwritten;
# the same commit may sign its file again. Only attested events of a
# production profile count: a test signing or a forged paragraph holds
# nothing. A release.artifact without
# %(tag) is refused before the tag is made.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
release() { sg_policy_text | sed "s/^\[scan\]/[release]\n\ttagPattern = v*\n\tarchive = true\n\tname = proj\n\tartifact = $1\n[scan]/"; }
release 'dist\/*-%(tag).tar.gz' | sg_commit_policy
sg_reviewed_commit src/one.c 'int one;'
(cd "$REPO" && signgate install-hooks >/dev/null) || echo "# install-hooks failed"
sha() { sha256sum "$REPO/$1" | cut -d' ' -f1; }
sg() { (cd "$REPO" && signgate "$@"); }

printf 'binary 1.0\n' >"$REPO/dist/bin-v1.0.tar.gz"
expect 0 "git tag v1.0" -- git -C "$REPO" tag v1.0
c10=$(git -C "$REPO" rev-parse v1.0^{commit})
check "v1.0: the archive and the built file are signed" sh -c "cms_verify() { openssl cms -verify -binary -inform DER -in \"\$1.p7s\" -content \"\$1\" -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null; }; cms_verify '$REPO/dist/proj-v1.0.tar.gz' && cms_verify '$REPO/dist/bin-v1.0.tar.gz'"
a10=$(sha dist/proj-v1.0.tar.gz) s10=$(sha dist/proj-v1.0.tar.gz.p7s) b10=$(sha dist/bin-v1.0.tar.gz.p7s)
git -C "$REPO" notes --ref signatures show "$c10" >"$TRASH/note10"
check "the v1.0 note has its two files" test "$(grep -c '^Signgate-Event: sign' "$TRASH/note10")" = 2

# the second release, with a stray file in dist/
sg_reviewed_commit src/two.c 'int two;'
printf 'binary 1.1\n' >"$REPO/dist/bin-v1.1.tar.gz"
printf 'dropped here\n' >"$REPO/dist/stray.tar.gz"
notes_before=$(git -C "$REPO" rev-parse refs/notes/signatures)
expect 0 "git tag v1.1" -- git -C "$REPO" tag v1.1
c11=$(git -C "$REPO" rev-parse v1.1^{commit})
check "v1.0's archive is untouched" test "$(sha dist/proj-v1.0.tar.gz)" = "$a10"
check "v1.0's archive signature is untouched" test "$(sha dist/proj-v1.0.tar.gz.p7s)" = "$s10"
check "v1.0's built file's signature is untouched" test "$(sha dist/bin-v1.0.tar.gz.p7s)" = "$b10"
check "v1.0's event is untouched" sh -c "git -C '$REPO' notes --ref signatures show '$c10' | cmp -s - '$TRASH/note10'"
git -C "$REPO" notes --ref signatures show "$c11" >"$TRASH/note11"
check "the v1.1 note lists exactly v1.1's archive and built file" sh -c "grep '^Artifact: ' '$TRASH/note11' | sort | tr '\n' ' ' | grep -qx 'Artifact: dist/bin-v1.1.tar.gz Artifact: dist/proj-v1.1.tar.gz '"
check "the stray file is not signed" test ! -e "$REPO/dist/stray.tar.gz.p7s"
check "the stray file is in no note" sh -c "! git -C '$REPO' log --notes=signatures --format=%N --all | grep -q stray"
expect 0 "signgate verify dist/proj-v1.0.tar.gz" -- sg --json verify dist/proj-v1.0.tar.gz
check "verify names v1.0's commit and tag" jq -e ".files[0].event.commit == \"$c10\" and .files[0].event.tag == \"v1.0\"" "$TRASH/out"
expect 0 "signgate verify dist/proj-v1.1.tar.gz" -- sg --json verify dist/proj-v1.1.tar.gz
check "verify names v1.1's commit" jq -e ".files[0].event.commit == \"$c11\"" "$TRASH/out"

# the refused re-sign on another commit, and its allowed twin on the same commit
notes_before=$(git -C "$REPO" rev-parse refs/notes/signatures)
expect 3 "signing v1.0's archive again for v1.1's commit is denied" -- sg sign dist/proj-v1.0.tar.gz
grep_out "denied: dist/proj-v1.0.tar.gz (sha256 .*) is already signed for $(echo "$c10" | cut -c1-12) (tag v1.0) on 20[0-9-]*T[0-9:]*Z" "the message names the earlier event (commit, tag, date)"
check "nothing recorded" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$notes_before"
check "its signature is untouched" test "$(sha dist/proj-v1.0.tar.gz.p7s)" = "$s10"
expect 3 "and through --tag v1.1 (as the tag hook would)" -- sg sign --tag v1.1 dist/bin-v1.0.tar.gz
grep_out "already signed for $(echo "$c10" | cut -c1-12) (tag v1.0)" "naming v1.0"
expect 0 "signing it again for its own commit stays possible" -- sg sign --tag v1.0 dist/proj-v1.0.tar.gz
check "that signature verifies with openssl" cms_verify "$REPO/dist/proj-v1.0.tar.gz"
check "and verify still names v1.0's commit" sh -c "cd '$REPO' && signgate --json verify dist/proj-v1.0.tar.gz | jq -e '.files[0].event.commit == \"$c10\"' >/dev/null"

# a signature file recorded for another commit is never overwritten
printf 'readme 1\n' >"$REPO/dist/README.txt"
expect 0 "sign dist/README.txt for v1.1's commit" -- sg sign dist/README.txt
r1=$(sha dist/README.txt.p7s)
sg_reviewed_commit src/three.c 'int three;'
printf 'readme 2\n' >"$REPO/dist/README.txt"
expect 3 "a new README.txt for the next commit would overwrite v1.1's signature: denied" -- sg sign dist/README.txt
grep_out "README.txt.p7s holds the signature recorded for $(echo "$c11" | cut -c1-12)" "the message names the earlier event"
check "the old signature file is untouched" test "$(sha dist/README.txt.p7s)" = "$r1"
mkdir -p "$REPO/dist/next"
expect 0 "the twin: signed into another folder (--out)" -- sg sign --out dist/next dist/README.txt
check "that signature verifies with openssl" sh -c "openssl cms -verify -binary -inform DER -in '$REPO/dist/next/README.txt.p7s' -content '$REPO/dist/README.txt' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"

# a test profile's signing is not a release: it does not hold the file
printf 'candidate\n' >"$REPO/dist/rc.bin"
cp "$REPO/dist/rc.bin" "$REPO/test/rc.bin"
expect 0 "a test signing of the same bytes (test/rc.bin)" -- sg --profile test sign test/rc.bin
check "  recorded with Profile: test" sh -c "git -C '$REPO' notes --ref signatures show HEAD | grep -q '^Profile: test$'"
sg_reviewed_commit src/rc.c 'int rc;'
expect 0 "the same build released on the next commit is signed (the test event does not count)" -- sg sign dist/rc.bin
check "  its signature verifies with openssl" cms_verify "$REPO/dist/rc.bin"
sg_reviewed_commit src/rc2.c 'int rc2;'
expect 3 "the twin: once released, the next commit cannot sign it" -- sg sign dist/rc.bin
grep_out "dist/rc.bin (sha256 .*) is already signed for" "naming the release"

# an unattested paragraph, which anyone with push access could write, holds nothing
printf 'fresh build\n' >"$REPO/dist/fresh.bin"
git -C "$REPO" notes --ref signatures append -m "Signgate-Event: sign
Artifact: dist/fresh.bin
Artifact-Sha256: $(sha dist/fresh.bin)
Signature: dist/fresh.bin.p7s
Profile: release
Signed-At: 2026-01-01T00:00:00Z
Tag: v0.9" "$c10"
expect 0 "a forged event for another commit does not deny the signing" -- sg sign dist/fresh.bin
no_grep_out "already signed" "  and is not named"
check "  the signature verifies with openssl" cms_verify "$REPO/dist/fresh.bin"
sg_reviewed_commit src/fresh.c 'int fresh;'
expect 3 "the twin: the attested event of that signing holds the file" -- sg sign dist/fresh.bin
grep_out "dist/fresh.bin (sha256 .*) is already signed for" "  naming it"

# an archive of that name already there with other bytes is not replaced
printf 'not an archive\n' >"$REPO/dist/proj-v3.0.tar.gz"
git -C "$REPO" tag v3.0 >"$TRASH/out" 2>"$TRASH/err"
grep_out "proj-v3.0.tar.gz exists and is not the archive of tag v3.0" "the tag hook leaves another file of the archive's name alone"
check "  its bytes are untouched" sh -c "printf 'not an archive\n' | cmp -s - '$REPO/dist/proj-v3.0.tar.gz'"
check "  and nothing was signed for v3.0" test ! -e "$REPO/dist/proj-v3.0.tar.gz.p7s"

# a release.artifact without %(tag) is refused before the tag exists
release 'dist\/*.tar.gz' | sg_commit_policy
sg_reviewed_commit src/four.c 'int four;'
notes_before=$(git -C "$REPO" rev-parse refs/notes/signatures)
expect 128 "git tag v4.0 with release.artifact = dist/*.tar.gz fails" -- git -C "$REPO" tag v4.0
grep_out 'release.artifact "dist/\*.tar.gz" does not name the tag' "the reason names the key"
grep_out 'dist/\*-%(tag).tar.gz' "and the fix"
check "no tag v4.0" sh -c "! git -C '$REPO' rev-parse -q --verify refs/tags/v4.0 >/dev/null"
check "nothing signed" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$notes_before"
check "no archive for v4.0" test ! -e "$REPO/dist/proj-v4.0.tar.gz"
release 'dist\/*-%(tag).tar.gz' | sg_commit_policy
sg_reviewed_commit src/five.c 'int five;'
expect 0 "the twin: with %(tag) the tag is made" -- git -C "$REPO" tag v4.0
check "and v4.0's archive is signed" cms_verify "$REPO/dist/proj-v4.0.tar.gz"
done_testing
