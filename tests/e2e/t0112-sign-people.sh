#!/bin/sh
# signgate sign with [person] sections: the note's Gate: line names the
# people counted with the identities that showed them; an identity of nobody
# denies and nothing is signed or recorded.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }

people() {
	printf '[person "bob"]\n\temail = bob@example.com\n\tgithub = bob\n'
	printf '[person "carol"]\n\temail = carol@example.com\n'
	printf '[person "author"]\n\temail = author@example.com\n'
}
{ sg_policy_text; people; } | sg_commit_policy
rev=$(git -C "$REPO" rev-parse HEAD~1)
git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz "$rev"
expect 0 "sign a commit reviewed by two people" -- sg sign --rev "$rev" dist/hello-1.0.tar.gz
check "openssl cms -verify accepts the signature" cms_verify "$REPO/dist/hello-1.0.tar.gz"
git -C "$REPO" notes --ref=refs/notes/signatures show "$rev" >"$TRASH/note"
check "Gate: names the people and what showed them" grep -q \
	"^Gate: allowed; refs/heads/main first-parent; 2/2 reviews via trailers: bob \[bob@example.com via trailers\], carol \[carol@example.com via trailers\]$" "$TRASH/note"
# (a note is all trailers: git takes a message's first paragraph as its subject, so give it an empty one)
check "git interpret-trailers reads the Gate: line whole" sh -c \
	"{ echo; cat '$TRASH/note'; } | git interpret-trailers --parse | grep -q '^Gate: .*carol \[carol@example.com via trailers\]\$'"

# Denial twin: carol is nobody in the policy.
{ sg_policy_text; people | sed '/carol/d'; } | sg_commit_policy
printf 'second\n' >"$REPO/dist/two.txt"
expect 3 "a reviewer who maps to no person denies the signing" -- sg sign --rev "$rev" dist/two.txt
grep_out "carol@example.com maps to no person: add email = carol@example.com to their \[person \"NAME\"\] section" "names the identity and the section"
check "no signature written" test ! -e "$REPO/dist/two.txt.p7s"
check "no second event in the note" sh -c "[ \$(git -C '$REPO' notes --ref=refs/notes/signatures show '$rev' | grep -c '^Signgate-Event:') = 1 ]"
done_testing
