#!/bin/sh
# signgate check: a policy that cannot be read is an error (exit 1), never a decision; gate.remote.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=1
expect 0 "valid policy" -- sg check

# Unknown key: an error with file and line, the key as written and the closest valid one.
printf '[gate]\n\tprotectedBranch = main\n\trequiredReveiws = 1\n' >r/.signgate
git -C r commit -q -am typo -m "Reviewed-by: Bob <bob@example.com>"
expect 1 "unknown policy key" -- sg check
grep_out "signgate: error: .signgate at refs/heads/main:3: " "message has file:line"
grep_out "unknown key requiredReveiws in \[gate\]; did you mean requiredReviews?" "names the key as written, suggests the valid one"
grep_out "signgate-policy(5)" "points at the man page"
no_grep_out "denied" "no decision was made"

# include.path in a blob.
printf 'allowSelfReview = true\n' >"$TRASH/inc"
printf '[gate]\n\tprotectedBranch = main\n[include]\n\tpath = %s\n' "$TRASH/inc" >r/.signgate
git -C r commit -q -am include -m "Reviewed-by: Bob <bob@example.com>"
expect 1 "include.path in the policy blob" -- sg check
grep_out ":3: include" "points at the include"
git -C r reset -q --hard HEAD~2
expect 0 "back to the valid policy" -- sg check

# Missing policy.
git init -q -b main nopol
git -C nopol commit -q --allow-empty -m "x" -m "Reviewed-by: Bob <bob@example.com>"
expect 1 "no policy anywhere" -- "$SIGNGATE" -C nopol check
grep_out "signgate: error: no policy: .*signgate init" "says what to do"
expect 1 "--json without a policy" -- "$SIGNGATE" -C nopol --json check
check "json names the policy rule" sh -c "jq -e '.allowed == false and .rules[0].rule == \"policy\" and (.decision | startswith(\"error: \"))' '$TRASH/out' >/dev/null"
expect 0 "--policy FILE" -- "$SIGNGATE" -C nopol --policy "$TRASH/r/.signgate" check

# gate.remote: judged against refs/remotes/origin/main, not the local main.
git clone -q r c
write_policy r protectedBranch=main requiredReviews=1 remote=origin
git -C r commit -q -am "judge origin" -m "Reviewed-by: Bob <bob@example.com>"
git -C c pull -q
reviewed_commit c "local only" "Reviewed-by: Bob <bob@example.com>"
expect 3 "gate.remote: a local commit not pushed" -- "$SIGNGATE" -C c check
grep_out "is not on refs/remotes/origin/main" "judged against origin/main"
expect 0 "gate.remote: the commit origin has" -- "$SIGNGATE" -C c check origin/main
done_testing
