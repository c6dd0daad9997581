#!/bin/sh
# One check maps the commit-graph once: the protected-branch walk and the
# walk that lists what a merge brings in (its authors) share one mapping
# (strace counts the opens). The answers stay git's: a merge on main is
# allowed and names its merge, one off main is denied, each with one open.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=1 firstParent=false
git -C r checkout -q -b topic
reviewed_commit r "topic work"
git -C r checkout -q main
reviewed_commit r "main work"
git -C r merge -q --no-ff -m "merge topic" -m "Reviewed-by: Bob <bob@example.com>" topic
reviewed_commit r "after the merge" "Reviewed-by: Bob <bob@example.com>"
merge=$(git -C r rev-parse HEAD~1)
topic=$(git -C r rev-parse topic)
git -C r checkout -q -b other topic
reviewed_commit r "other work"
git -C r checkout -q -b side topic
git -C r merge -q --no-ff -m "merge off main" -m "Reviewed-by: Bob <bob@example.com>" other
offmerge=$(git -C r rev-parse HEAD)
git -C r checkout -q main
git -C r commit-graph write --reachable 2>/dev/null
check "a commit-graph is there" test -f r/.git/objects/info/commit-graph

# opens ARGS...: signgate -C r ARGS under strace; its output in $TRASH/out and
# err, the number of times it opened the commit-graph in $TRASH/opens
opens() {
	# LeakSanitizer cannot run under ptrace: off for this run of a sanitizer build
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -qq -e trace=open,openat -o "$TRASH/trace" "$SIGNGATE" -C "$TRASH/r" "$@" \
		>"$TRASH/out" 2>"$TRASH/err"
	_rc=$?
	grep -c 'objects/info/commit-graph' "$TRASH/trace" >"$TRASH/opens"
	return $_rc
}
expect 0 "the merge on main is allowed" -- opens check "$merge"
check "the merge's check opened the commit-graph once ($(cat "$TRASH/opens"))" test "$(cat "$TRASH/opens")" = 1
expect 0 "a topic commit is allowed through its merge" -- opens check "$topic"
grep_out "reachable (merged by $(git -C r rev-parse --short=7 "$merge"))" "and names the merge, as git's history has it"
check "one open for that check too ($(cat "$TRASH/opens"))" test "$(cat "$TRASH/opens")" = 1

# Twin: a merge that is not on main is still denied, with one open.
expect 3 "a merge off main is denied" -- opens check "$offmerge"
grep_out "is not on refs/heads/main" "the denial names the branch"
check "one open for the denial ($(cat "$TRASH/opens"))" test "$(cat "$TRASH/opens")" = 1
done_testing
