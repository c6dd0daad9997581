#!/bin/sh
# A commit-graph whose data lies -- a parent or a generation number edited,
# its checksum left stale or written again -- never turns a denial into an
# allow: what the graph says is reachable is confirmed from the commit
# objects (else the objects decide), and a wrong "merged by" is caught.
# An ancestor the lie hides is only a false denial. The allowed twins: true
# ancestors under the same lies.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=1 firstParent=false
g() { git -C r "$@"; }
tree=$(g rev-parse 'HEAD^{tree}')
# ct MSG [TRAILER] -p ...: a commit on the policy's tree
ct() { _m=$1; shift; case $1 in -p) _t= ;; *) _t=$1; shift ;; esac; g commit-tree -m "$_m" ${_t:+-m "$_t"} "$@" "$tree"; }
rb="Reviewed-by: Bob <bob@example.com>"
b0=$(g rev-parse HEAD)
# topic 1 (R, R2) merged by M1 without a review; topic 2 (T, built on R) by M2, reviewed.
r=$(ct "R: unreviewed" -p "$b0")
r2=$(ct "R2" -p "$r")
m1=$(ct "Merge topic 1 (unreviewed)" -p "$b0" -p "$r2")
b1=$(ct "B1" "$rb" -p "$m1")
t=$(GIT_AUTHOR_NAME=Alice GIT_AUTHOR_EMAIL=alice@example.com ct "T, by Alice" -p "$r")
m2=$(ct "Merge topic 2" "$rb
Reviewed-by: Alice <alice@example.com>" -p "$b1" -p "$t")
g update-ref refs/heads/main "$m2"
side=$(ct "side: reviewed, never merged" "$rb" -p "$b0")
g update-ref refs/heads/side "$side"
short() { g rev-parse --short=7 "$1"; }
# Two reviews: Alice's own approval of the merge that brings in her T never counts.
printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\tfirstParent = false\n' >two.policy
GRAPH=r/.git/objects/info/commit-graph
lie() { cp good-graph "$GRAPH" && chmod u+w "$GRAPH" && python3 "$SG_LIB/cgraph-edit.py" "$GRAPH" "$@"; }

# The truth, without a graph and with an honest one.
for mode in "no graph" "honest graph"; do
	[ "$mode" = "honest graph" ] && g commit-graph write --reachable 2>/dev/null
	expect 3 "$mode: side is not on main" -- sg check "$side"
	expect 3 "$mode: R was merged by M1, which nobody reviewed" -- sg check "$r"
	grep_out "reachable (merged by $(short "$m1"))" "  ...M1 named"
	expect 0 "$mode: T was merged by M2, reviewed by Bob" -- sg check "$t"
	expect 0 "$mode: the tip" -- sg check main
	expect 3 "$mode: two reviews of the tip: Alice authored T, which M2 brings in" -- sg --policy "$TRASH/two.policy" check main
	grep_out "1 of 2 required reviews" "  ...only Bob counts"
done
cp "$GRAPH" good-graph

for how in "" --stale; do
	k=${how:-"checksum written again"}
	# The tip's first parent said to be side: side "first-parent, 1 behind".
	lie parent "$m2" 1 "$side" $how
	expect 3 "($k) a lying first parent does not bring side onto main" -- sg check "$side"
	grep_out "is not on refs/heads/main" "  ...denied for what it is"
	expect 0 "($k) twin: the tip itself" -- sg check main
	# M2's second parent said to be side: side "merged by M2".
	lie parent "$m2" 2 "$side" $how
	expect 3 "($k) a lying side parent does not merge side" -- sg check "$side"
	expect 0 "($k) twin: the tip itself" -- sg check main
	# R2's parent hidden: R seems merged by the reviewed M2, not M1.
	lie parent "$r2" 1 "$b0" $how
	expect 3 "($k) a hidden parent does not make the reviewed M2 R's merge" -- sg check "$r"
	grep_out "reachable (merged by $(short "$m1"))" "  ...the objects name M1"
	expect 0 "($k) twin: T, truly merged by M2" -- sg check "$t"
	# R2's level said to be 1: the walk prunes M1's topic and meets R through M2.
	lie gen "$r2" 1 $how
	expect 3 "($k) a lying generation number does not make M2 R's merge" -- sg check "$r"
	grep_out "reachable (merged by $(short "$m1"))" "  ...the objects name M1"
	expect 0 "($k) twin: T, truly merged by M2" -- sg check "$t"
	grep_out "reachable (merged by $(short "$m2"))" "  ...by M2"
	# B1 said to merge T: M2 seems to bring in nothing, and Alice's review of it counts.
	lie parent "$b1" 2 "$t" $how
	expect 3 "($k) a lying parent does not hide T's author from M2's author side" -- sg --policy "$TRASH/two.policy" check main
	grep_out "1 of 2 required reviews" "  ...only Bob counts"
	expect 0 "($k) twin: one review is enough for the tip" -- sg check main
	# A level said to be huge only prunes: at worst a false denial, never an allow.
	lie gen "$side" 1000000 $how
	expect 3 "($k) a huge level on side does not put it on main" -- sg check "$side"
done
done_testing
