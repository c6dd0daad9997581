#!/bin/sh
# 8 concurrent `signgate sign` runs on the same commit: all 8 events recorded.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
for i in 1 2 3 4 5 6 7 8; do printf 'artifact %s\n' $i >"$REPO/dist/a$i.txt"; done
for i in 1 2 3 4 5 6 7 8; do
	(cd "$REPO" && "$SIGNGATE" -q sign "dist/a$i.txt" >"$TRASH/run$i.out" 2>&1; echo $? >"$TRASH/run$i.rc") &
done
wait
for i in 1 2 3 4 5 6 7 8; do
	check "run $i succeeded" test "$(cat "$TRASH/run$i.rc")" = 0
	[ "$(cat "$TRASH/run$i.rc")" = 0 ] || sed "s/^/#   /" "$TRASH/run$i.out"
done
note=$(git -C "$REPO" log --notes=signatures -1 --format=%N)
check "8 events on the commit" test "$(printf '%s\n' "$note" | grep -c '^Signgate-Event: sign')" = 8
for i in 1 2 3 4 5 6 7 8; do
	check "event for a$i.txt present exactly once" test "$(printf '%s\n' "$note" | grep -c "^Artifact: dist/a$i.txt\$")" = 1
	check "a$i.txt.p7s verifies" cms_verify "$REPO/dist/a$i.txt"
done
check "8 notes commits (one per batch)" test "$(git -C "$REPO" rev-list --count refs/notes/signatures)" = 8
check "the audit chain has 8 signings" test "$(jq -r 'select(.op == "sign" and .decision == "signed") | .op' "$REPO/.git/signgate/audit.log" | wc -l)" = 8
done_testing
