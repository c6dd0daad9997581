#!/bin/sh
# Four clones of one bare repository sign different artifacts at the same
# time, 20 rounds; each `sign` syncs (notes.push = origin). At the end the
# bare repository holds every event exactly once and a fresh clone shows
# them all in `git log --notes=signatures`.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
ROUNDS=${SG_SYNC_ROUNDS:-20}
{ sg_policy_text; printf '[notes]\n\tpush = origin\n'; } | sg_commit_policy
sg_reviewed_commit src/two.c 'int two;'
git clone -q --bare "$REPO" "$TRASH/bare.git"
# Four machines: each clone has its own copy of the token (SoftHSM's file
# store is not meant to be shared by concurrent processes).
for k in 1 2 3 4; do
	git clone -q "$TRASH/bare.git" "$TRASH/c$k" && mkdir -p "$TRASH/c$k/dist"
	cp -a "$TRASH/hsm" "$TRASH/hsm$k"
	sed "s|$TRASH/hsm/|$TRASH/hsm$k/|" "$TRASH/hsm/softhsm2.conf" >"$TRASH/hsm$k/softhsm2.conf"
done
head=$(git -C "$TRASH/c1" rev-parse HEAD)

r=1
while [ "$r" -le "$ROUNDS" ]; do
	for k in 1 2 3 4; do
		(cd "$TRASH/c$k" && export SOFTHSM2_CONF="$TRASH/hsm$k/softhsm2.conf" && printf 'clone %s round %s\n' "$k" "$r" >"dist/c$k-r$r.txt" &&
			"$SIGNGATE" -q sign "dist/c$k-r$r.txt" >"$TRASH/s$k.out" 2>&1; echo $? >"$TRASH/s$k.rc") &
	done
	wait
	for k in 1 2 3 4; do
		[ "$(cat "$TRASH/s$k.rc")" = 0 ] || { not_ok "round $r clone $k: sign+push failed"; cat "$TRASH/s$k.out"; }
	done
	r=$((r + 1))
done
ok "$ROUNDS rounds of 4 concurrent sign+push ran"
for k in 1 2 3 4; do
	expect 0 "final sync of clone $k" -- sh -c "cd '$TRASH/c$k' && '$SIGNGATE' sync"
done

total=$((ROUNDS * 4))
note=$(git -C "$TRASH/bare.git" notes --ref signatures show "$head")
check "the bare repository holds $total events" test "$(printf '%s\n' "$note" | grep -c '^Signgate-Event: sign$')" = "$total"
missing=0 dup=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for k in 1 2 3 4; do
		c=$(printf '%s\n' "$note" | grep -c "^Artifact: dist/c$k-r$r.txt\$")
		[ "$c" = 0 ] && missing=$((missing + 1))
		[ "$c" -gt 1 ] && dup=$((dup + 1))
	done
	r=$((r + 1))
done
check "no event lost ($missing missing)" test "$missing" = 0
check "no event duplicated ($dup duplicated)" test "$dup" = 0
echo "# figure: $total events signed concurrently over $ROUNDS rounds; $missing lost, $dup duplicated"
for k in 1 2 3 4; do
	check "clone $k has the same $total events after its sync" test \
		"$(git -C "$TRASH/c$k" notes --ref signatures show "$head" | grep -c '^Signgate-Event: sign$')" = "$total"
done
check "the notes history has merge commits (both parents kept)" test \
	"$(git -C "$TRASH/bare.git" rev-list --merges --count refs/notes/signatures)" -gt 0
check "every clone's notes history is contained in the bare one" sh -c "
	for k in 1 2 3 4; do git -C '$TRASH/bare.git' merge-base --is-ancestor \
		\$(git -C '$TRASH/c'\$k rev-parse refs/notes/signatures) refs/notes/signatures 2>/dev/null ||
		git -C '$TRASH/c'\$k merge-base --is-ancestor refs/notes/signatures \
		\$(git -C '$TRASH/bare.git' rev-parse refs/notes/signatures) || exit 1; done"

# a fresh clone, with git only
git clone -q "$TRASH/bare.git" "$TRASH/fresh"
git -C "$TRASH/fresh" fetch -q origin 'refs/notes/*:refs/notes/*'
log=$(git -C "$TRASH/fresh" log --notes=signatures -1 --format=%N "$head")
check "git log --notes=signatures in a fresh clone shows all $total events" \
	test "$(printf '%s\n' "$log" | grep -c '^Signgate-Event: sign$')" = "$total"
printf '%s\n' "$log" | awk 'BEGIN { RS = "" } /^Signgate-Event:/ { print; exit }' >"$TRASH/event1"
check "git interpret-trailers parses the first event" sh -c \
	"{ printf 'title\n\n'; cat '$TRASH/event1'; } | git interpret-trailers --parse | grep -q '^Artifact-Sha256: '"
printf 'clone 3 round 2\n' >"$TRASH/fresh/c3r2.txt"
cp "$TRASH/c3/dist/c3-r2.txt.p7s" "$TRASH/fresh/c3r2.txt.p7s"
expect 0 "a fresh clone verifies an artifact signed by another clone" -- \
	sh -c "cd '$TRASH/fresh' && '$SIGNGATE' verify c3r2.txt"

# the twin: without sync, a force push of one clone's notes loses the others'
git -C "$TRASH/c1" notes --ref signatures add -f -m 'Signgate-Event: sign
Artifact: only-this' "$head"
git -C "$TRASH/c1" push -q -f origin refs/notes/signatures 2>/dev/null
check "the twin: a plain force push keeps 1 event, not $total (the count above can fail)" test \
	"$(git -C "$TRASH/bare.git" notes --ref signatures show "$head" | grep -c '^Signgate-Event: sign$')" = 1
done_testing
