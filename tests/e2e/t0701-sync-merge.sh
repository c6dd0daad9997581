#!/bin/sh
# sync semantics: the union of events on a conflicting note, a real merge
# commit, remotes by name or path, refusals, and notes.push after sign.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
git clone -q --bare "$REPO" "$TRASH/bare.git"
git clone -q "$TRASH/bare.git" "$TRASH/a"
git clone -q "$TRASH/bare.git" "$TRASH/b"
head=$(git -C "$TRASH/a" rev-parse HEAD)
sga() { (cd "$TRASH/a" && "$SIGNGATE" "$@"); }
sgb() { (cd "$TRASH/b" && "$SIGNGATE" "$@"); }
count() { git -C "$1" notes --ref "${3:-signatures}" show "$head" 2>/dev/null | grep -c "$2"; }

ev() { printf 'Signgate-Event: sign\nArtifact: %s\nArtifact-Sha256: %s\n' "$1" "$2"; }
# a: events 1, 2 and a hand-written paragraph; b: events 2 (same, CRLF), 3 and its own paragraph
{ ev one 1111; echo; ev two 2222; echo; echo 'note from a human on a'; } >"$TRASH/na"
{ ev two 2222 | sed 's/$/\r/'; echo; ev three 3333; echo; echo 'note from a human on b'; } >"$TRASH/nb"
git -C "$TRASH/a" notes --ref signatures add -F "$TRASH/na" "$head"
git -C "$TRASH/b" notes --ref signatures add -F "$TRASH/nb" "$head"
expect 0 "a syncs first (creates the remote ref)" -- sga sync
expect 0 "b syncs: conflict on the same commit is merged" -- sgb sync
grep_out "1 merge" "b says it merged"
check "b's note has 3 events (two is one event)" test "$(count "$TRASH/b" '^Signgate-Event: sign')" = 3
for w in one two three; do
	check "event '$w' present exactly once" test "$(count "$TRASH/b" "^Artifact: $w\$")" = 1
done
check "a's hand-written paragraph kept" test "$(count "$TRASH/b" '^note from a human on a$')" = 1
check "b's hand-written paragraph kept" test "$(count "$TRASH/b" '^note from a human on b$')" = 1
check "the remote got the merge" test "$(count "$TRASH/bare.git" '^Signgate-Event: sign')" = 3
check "the merge commit has two parents" test \
	"$(git -C "$TRASH/bare.git" rev-list --parents -1 refs/notes/signatures | wc -w)" = 3
check "the remote tip is the local tip" test \
	"$(git -C "$TRASH/bare.git" rev-parse refs/notes/signatures)" = "$(git -C "$TRASH/b" rev-parse refs/notes/signatures)"
check "the fetched state is kept in a private namespace" \
	git -C "$TRASH/b" rev-parse -q --verify --quiet refs/signgate/remotes/origin/notes/signatures >/dev/null
expect 0 "a syncs again: fast-forward, no merge" -- sga sync
grep_out "0 merges" "a made no merge"
check "a now has the 3 events" test "$(count "$TRASH/a" '^Signgate-Event: sign')" = 3
expect 0 "syncing twice is idempotent" -- sga sync
check "still 3 events" test "$(count "$TRASH/bare.git" '^Signgate-Event: sign')" = 3

# approvals and a profile's notesRef travel too; a remote given as a path
printf 'Signgate-Event: approve\nReviewer: bob@example.com\n' |
	git -C "$TRASH/a" notes --ref signgate-approvals add -F - "$head"
sg_policy_text | sed 's|^\tartifacts = test/\*|&\n\tnotesRef = refs/notes/test-signatures|' >"$TRASH/policy"
printf 'Signgate-Event: sign\nArtifact: test/x\n' | git -C "$TRASH/a" notes --ref test-signatures add -F - "$head"
expect 0 "sync to a path (not a configured remote)" -- sga --policy "$TRASH/policy" --json sync "$TRASH/bare.git"
check "--json names the refs" sh -c "jq -e '.refs | index(\"refs/notes/test-signatures\")' '$TRASH/out' >/dev/null"
check "the approvals ref reached the remote" test "$(count "$TRASH/bare.git" '^Reviewer: bob' signgate-approvals)" = 1
check "the profile's notesRef reached the remote" test "$(count "$TRASH/bare.git" '^Artifact: test/x$' test-signatures)" = 1
check "a path remote gets a url- namespace" sh -c \
	"git -C '$TRASH/a' for-each-ref refs/signgate/remotes/ | grep -q 'refs/signgate/remotes/url-[0-9a-f]*/notes/signatures'"

# refusals: exit 1, a message, the local events kept
expect 1 "an unreachable remote: exit 1" -- sga sync "$TRASH/nowhere.git"
grep_out "nowhere" "the message names the remote"
expect 2 "two remotes: usage error" -- sga sync origin other
expect 2 "an option is not a remote" -- sga sync --force
mkdir -p "$TRASH/bare.git/hooks"
printf '#!/bin/sh\necho "notes are frozen" >&2\nexit 1\n' >"$TRASH/bare.git/hooks/pre-receive"
chmod +x "$TRASH/bare.git/hooks/pre-receive"
printf 'Signgate-Event: sign\nArtifact: four\n' >"$TRASH/n4"
git -C "$TRASH/a" notes --ref signatures append -F "$TRASH/n4" "$head"
expect 1 "the remote refuses the push (pre-receive hook): exit 1" -- sga sync
grep_out "refused" "the message says the push was refused"
check "the local event is kept" test "$(count "$TRASH/a" '^Artifact: four$')" = 1
check "the remote is unchanged" test "$(count "$TRASH/bare.git" '^Artifact: four$')" = 0
rm "$TRASH/bare.git/hooks/pre-receive"

# notes.push after sign: pushed when it works...
{ sg_policy_text; printf '[notes]\n\tpush = origin\n'; } >"$TRASH/pushpolicy"
mkdir -p "$TRASH/a/dist"; printf 'pushed\n' >"$TRASH/a/dist/p.txt"
expect 0 "sign with notes.push = origin signs and pushes" -- sga --policy "$TRASH/pushpolicy" sign dist/p.txt
check "the event is on the remote" test "$(count "$TRASH/bare.git" '^Artifact: dist/p.txt$')" = 1
# ... and when the push fails: exit 1, signed and recorded locally, nothing undone
{ sg_policy_text; printf '[notes]\n\tpush = nowhere\n'; } >"$TRASH/badpush"
printf 'not pushed\n' >"$TRASH/a/dist/q.txt"
expect 1 "sign with an unreachable notes.push remote: exit 1" -- sga --policy "$TRASH/badpush" sign dist/q.txt
grep_out "signed and recorded locally" "the message says the signing succeeded locally"
grep_out "signgate sync nowhere" "and how to push later"
check "the signature is published" cms_verify "$TRASH/a/dist/q.txt"
check "its event is recorded locally" test "$(count "$TRASH/a" '^Artifact: dist/q.txt$')" = 1
check "and not on the remote" test "$(count "$TRASH/bare.git" '^Artifact: dist/q.txt$')" = 0
expect 0 "signgate sync origin pushes it later" -- sga sync origin
check "now it is on the remote" test "$(count "$TRASH/bare.git" '^Artifact: dist/q.txt$')" = 1
done_testing
