#!/bin/sh
# People, not strings (DESIGN.md section 3): [person] sections bind every
# identity a human uses; a person counts once; the author side is everyone
# who authored or committed what REV brings in; an identity of nobody denies.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/gpg.sh"

sg_gpg_init "$GNUPGHOME" || exit 1
sg_at_exit sg_gpg_kill
ALICE=$(sg_gpg_genkey Alice alice@example.com "")
BOB=$(sg_gpg_genkey Bob bob@example.com "")
CAROL=$(sg_gpg_genkey Carol carol@example.com "")
DAVE=$(sg_gpg_genkey Dave dave@example.com "")
check "four test keys" test -n "$ALICE" -a -n "$BOB" -a -n "$CAROL" -a -n "$DAVE"

# people_policy REPO PERSONS...: commit a policy for signed approvals; each
# PERSON is NAME:KEY=VALUE,KEY=VALUE ("" for no person at all).
people_policy() {
	_r=$1; shift
	mkdir -p "$_r/keys"
	gpg --batch --armor --export "$ALICE" "$BOB" "$CAROL" "$DAVE" >"$_r/keys/reviewers.asc"
	{
		printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = approvals\n'
		printf '\treviewerKey = %s\n' "$ALICE" "$BOB" "$CAROL" "$DAVE"
		printf '\treviewerKeyring = keys/reviewers.asc\n'
		for _p in "$@"; do
			[ -n "$_p" ] || continue
			printf '[person "%s"]\n' "${_p%%:*}"
			echo "${_p#*:}" | tr ',' '\n' | sed 's/^/\t/; s/=/ = /'
		done
	} >"$_r/.signgate"
	git -C "$_r" add .signgate keys && git -C "$_r" commit -q -m "policy" -m "Reviewed-by: Reviewer <reviewer@example.com>"
}
PEOPLE="alice:email=alice@example.com,email=alice@users.noreply.example.com,key=$ALICE
bob:email=bob@example.com,key=$BOB
carol:email=carol@example.com,key=$CAROL
admin:email=author@example.com,email=reviewer@example.com"

# ---- Self-review through a second address (issue 12) ----
git init -q -b main r
people_policy r ""
GIT_AUTHOR_EMAIL=alice@users.noreply.example.com GIT_COMMITTER_EMAIL=alice@users.noreply.example.com \
	git -C r commit -q --allow-empty -m "alice's change"
rev=$(git -C r rev-parse HEAD)
short=$(git -C r rev-parse --short=7 HEAD)
expect 0 "alice approves her own change with her key" -- sg approve --key "$ALICE" "$rev"
expect 0 "bob approves" -- sg approve --key "$BOB" "$rev"
expect 0 "without [person]: two strings, two reviews (the hole people close)" -- sg check "$rev"
grep_out "2 of 2 required reviews on $short (alice@example.com, bob@example.com)" "alice counted as a stranger"

set -f; IFS='
'; people_policy r $PEOPLE; unset IFS; set +f
expect 3 "with [person]: alice's second address is alice; her approval does not count" -- sg check "$rev"
grep_out "signgate: denied: 1 of 2 required reviews on $short (bob)" "one person counted"
grep_out "the author's own review does not count (alice@example.com is \[person \"alice\"\], the author alice@users.noreply.example.com)" "says whose change it is"
expect 0 "carol approves" -- sg approve --key "$CAROL" "$rev"
expect 0 "the allowed twin: bob and carol" -- sg check "$rev"
grep_out "2 of 2 required reviews on $short (bob, carol)" "people named"
grep_out "people  *bob: bob@example.com via approvals" "check lists bob with the identity that showed him"
grep_out "authors  *alice: alice@users.noreply.example.com (the author)" "check lists the author side"
expect 0 "--json" -- sg --json check "$rev"
check "JSON: people with identities" sh -c "jq -e '.persons and ([.people[].name] == [\"bob\",\"carol\"]) and (.people[0].identities == [\"bob@example.com via approvals\"])' '$TRASH/out' >/dev/null"
check "JSON: the author side" sh -c "jq -e '.authors[0].name == \"alice\"' '$TRASH/out' >/dev/null"
check "JSON: the Gate line names people" sh -c "jq -e '.summary | test(\"2/2 reviews via approvals: bob \\\\[bob@example.com via approvals\\\\], carol \\\\[\")' '$TRASH/out' >/dev/null"

# Every user id of the approving key must belong to the same person.
gpg --batch --quick-add-uid "$DAVE" "Carol <carol@example.com>" 2>/dev/null
set -f; IFS='
'; people_policy r $PEOPLE "dave:email=dave@example.com,key=$DAVE"; unset IFS; set +f
git -C r commit -q --allow-empty -m "a second change" --author "Bob <bob@example.com>"
rev2=$(git -C r rev-parse HEAD)
git -C r tag -f two >/dev/null
expect 0 "dave (whose key also says carol) approves" -- sg approve --key "$DAVE" "$rev2"
expect 0 "carol approves" -- sg approve --key "$CAROL" "$rev2"
expect 3 "a key whose user ids are two people" -- sg check "$rev2"
grep_out "one approvals review shows two people: .*\[person \"carol\"\] and .*\[person \"dave\"\]" "names both"
# A key nobody's [person] lists.
set -f; IFS='
'; people_policy r $PEOPLE "dave:email=dave@example.com"; unset IFS; set +f
expect 3 "an approval key listed in no [person]" -- sg check "$rev2"
grep_out "also shows key:$DAVE maps to no person: add key = $DAVE to their \[person \"NAME\"\] section" "names the key and the section"

# ---- Merges hide the authors (issue 12): REV^1..REV is the author side ----
git init -q -b main m
write_policy m protectedBranch=main requiredReviews=2
git -C m add .signgate && git -C m commit -q -m policy
git -C m checkout -q -b feature
GIT_AUTHOR_EMAIL=alice@example.com git -C m commit -q --allow-empty -m "alice's feature"
GIT_AUTHOR_EMAIL=erin@example.com git -C m commit -q --allow-empty -m "erin's part"
feat=$(git -C m rev-parse --short=7 HEAD~1)
git -C m checkout -q main
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m merge -q --no-ff feature \
	-m "Merge feature" -m "Reviewed-by: Alice <alice@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "alice reviewing the merge of her own feature does not count" -- "$SIGNGATE" -C m check
grep_out "the author of $feat's own review does not count (alice@example.com)" "names the commit she wrote"
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m commit -q --amend \
	-m "Merge feature" -m "Reviewed-by: Dan <dan@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 0 "the allowed twin: two reviewers who wrote none of it" -- "$SIGNGATE" -C m check
grep_out "2 of 2 required reviews on .* (dan@example.com, carol@example.com)" "both counted"
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m commit -q --amend \
	-m "Merge feature" -m "Reviewed-by: Erin <erin@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "the author of the feature's last commit does not count either" -- "$SIGNGATE" -C m check
grep_out "the author of [0-9a-f]*'s own review does not count (erin@example.com)" "erin named"
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m commit -q --amend \
	-m "Merge feature" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "the merge's own author does not count" -- "$SIGNGATE" -C m check
grep_out "the author's own review does not count (bob@example.com)" "bob named"

# With people, the feature's author hides behind no second address either.
{
	printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n'
	printf '[person "alice"]\n\temail = alice@example.com\n\temail = alice@users.noreply.example.com\n'
	printf '[person "bob"]\n\temail = bob@example.com\n[person "carol"]\n\temail = carol@example.com\n'
	printf '[person "erin"]\n\temail = erin@example.com\n[person "dan"]\n\temail = dan@example.com\n'
	printf '[person "admin"]\n\temail = author@example.com\n'
} >"$TRASH/people-policy"
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m commit -q --amend \
	-m "Merge feature" -m "Reviewed-by: Alice <alice@users.noreply.example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "alice's other address reviewing the merge of her feature" -- "$SIGNGATE" -C m --policy "$TRASH/people-policy" check
grep_out "the author of $feat's own review does not count (alice@users.noreply.example.com is \[person \"alice\"\]" "person named"
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m commit -q --amend \
	-m "Merge feature" -m "Reviewed-by: Dan <dan@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 0 "the allowed twin with people" -- "$SIGNGATE" -C m --policy "$TRASH/people-policy" check
# An author who is nobody.
git -C m checkout -q -b feature2 main~1
GIT_AUTHOR_EMAIL=zed@example.com git -C m commit -q --allow-empty -m "zed's feature"
git -C m checkout -q main
GIT_AUTHOR_EMAIL=bob@example.com GIT_COMMITTER_EMAIL=bob@example.com git -C m merge -q --no-ff feature2 \
	-m "Merge feature2" -m "Reviewed-by: Dan <dan@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "an author of the merge who maps to no person" -- "$SIGNGATE" -C m --policy "$TRASH/people-policy" check
grep_out "denied: The author of [0-9a-f]* zed@example.com maps to no person: add email = zed@example.com to their \[person \"NAME\"\] section in the policy" "names the identity and the section"
expect 0 "without [person], zed is just a string (today's behaviour)" -- "$SIGNGATE" -C m check

# A merge that brings in more than the walk's bound fails closed.
git -C m checkout -q -b big main~2
i=0
{
	while [ $i -lt 10001 ]; do
		i=$((i + 1))
		printf 'commit refs/heads/big\ncommitter A <author@example.com> %d +0000\ndata 2\nc\n' $((1700000000 + i))
		[ $i -eq 1 ] && printf 'from %s\n' "$(git -C m rev-parse main~2)"
		echo
	done
} | git -C m fast-import --quiet
git -C m checkout -q main
git -C m merge -q --no-ff big -m "Merge big" -m "Reviewed-by: Dan <dan@example.com>
Reviewed-by: Carol <carol@example.com>"
expect 3 "a merge of 10001 commits is not judged" -- "$SIGNGATE" -C m check
grep_out "brings in more than 10000 commits; the gate cannot name all their authors" "says why"

# ---- One person, two reviewers: gerrit beside trailers ----
git init -q -b main g
{
	printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = gerrit\n\treviewSource = trailers\n'
} >g/.signgate
git -C g add .signgate && git -C g commit -q -m policy
git -C g commit -q --allow-empty -m "change" -m "Reviewed-by: Bob <bob@example.com>"
git -C g notes --ref=refs/notes/review add -m "Code-Review+2: Gerrit User 1000042 <1000042@3f2a9c1e-uuid>" HEAD
expect 0 "without [person]: gerrit's account and bob's email are two reviewers" -- "$SIGNGATE" -C g check
cat >"$TRASH/g-policy" <<EOF
[gate]
	protectedBranch = main
	requiredReviews = 2
	reviewSource = gerrit
	reviewSource = trailers
[person "bob"]
	email = bob@example.com
	gerrit = 1000042
[person "carol"]
	email = carol@example.com
[person "author"]
	email = author@example.com
EOF
expect 3 "with [person]: gerrit account 1000042 and bob@example.com are one person" -- "$SIGNGATE" -C g --policy "$TRASH/g-policy" check
grep_out "1 of 2 required reviews on .* (bob)" "counted once"
expect 3 "--json" -- "$SIGNGATE" -C g --policy "$TRASH/g-policy" --json check
check "both identities showed bob" sh -c "jq -e '.people[0].identities == [\"gerrit:1000042 via gerrit\",\"bob@example.com via trailers\"]' '$TRASH/out' >/dev/null"
git -C g commit -q --amend --allow-empty -m "change" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
git -C g notes --ref=refs/notes/review add -m "Code-Review+2: Gerrit User 1000042 <1000042@3f2a9c1e-uuid>" HEAD
expect 0 "the allowed twin: bob and carol" -- "$SIGNGATE" -C g --policy "$TRASH/g-policy" check
grep_out "2 of 2 required reviews on .* (bob, carol)" "two people"

# ---- doctor: a policy without people warns that identities are self-asserted ----
# (exit 1: this machine's empty scan database is a FAIL of its own)
expect 1 "doctor without [person]" -- "$SIGNGATE" -C g doctor --no-tsa
grep_out "^WARN  people: no \[person\] section: reviewer identities are self-asserted" "warns"
expect 1 "doctor with [person]" -- "$SIGNGATE" -C g --policy "$TRASH/g-policy" doctor --no-tsa
grep_out "^OK    people: 3 \[person\] sections" "no warning"
done_testing
