#!/bin/sh
# The commit-graph is a local file that only git on this machine writes; it
# is trusted as git trusts it, and what is caught is damage: a graph whose
# data was changed (a parent or a generation number edited) with its
# checksum left stale is not used (the objects answer, and a warning names
# the fix), so it never turns a denial into an allow. The checksum is
# verified once per change of the file ($GIT_COMMON_DIR/signgate/
# cgraph-verified, keyed by the file's stat identity): an edit in place with
# its size and mtime put back is still verified again (ctime). A graph
# edited with its checksum written again is trusted, as git trusts it
# (docs/threat-model.md): no test here asserts either answer for it.
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

warn="checksum does not match.*git commit-graph write --reachable"
k="checksum stale"
# The tip's first parent said to be side: side "first-parent, 1 behind".
lie parent "$m2" 1 "$side" --stale
expect 3 "($k) a lying first parent does not bring side onto main" -- sg check "$side"
grep_out "is not on refs/heads/main" "  ...denied for what it is"
grep_out "signgate: warning: .*$warn" "  ...with a warning that names the fix"
expect 0 "($k) twin: the tip itself" -- sg check main
# M2's second parent said to be side: side "merged by M2".
lie parent "$m2" 2 "$side" --stale
expect 3 "($k) a lying side parent does not merge side" -- sg check "$side"
expect 0 "($k) twin: the tip itself" -- sg check main
# R2's parent hidden: R seems merged by the reviewed M2, not M1.
lie parent "$r2" 1 "$b0" --stale
expect 3 "($k) a hidden parent does not make the reviewed M2 R's merge" -- sg check "$r"
grep_out "reachable (merged by $(short "$m1"))" "  ...the objects name M1"
expect 0 "($k) twin: T, truly merged by M2" -- sg check "$t"
# R2's level said to be 1: the walk would prune M1's topic and meet R through M2.
lie gen "$r2" 1 --stale
expect 3 "($k) a lying generation number does not make M2 R's merge" -- sg check "$r"
grep_out "reachable (merged by $(short "$m1"))" "  ...the objects name M1"
expect 0 "($k) twin: T, truly merged by M2" -- sg check "$t"
grep_out "reachable (merged by $(short "$m2"))" "  ...by M2"
# B1 said to merge T: M2 would seem to bring in nothing, and Alice's review count.
lie parent "$b1" 2 "$t" --stale
expect 3 "($k) a lying parent does not hide T's author from M2's author side" -- sg --policy "$TRASH/two.policy" check main
grep_out "1 of 2 required reviews" "  ...only Bob counts"
expect 0 "($k) twin: one review is enough for the tip" -- sg check main
lie gen "$side" 1000000 --stale
expect 3 "($k) a huge level on side does not put it on main" -- sg check "$side"

# A damaged layout (the chunk count zeroed) is no graph: the objects answer.
cp good-graph "$GRAPH" && printf '\000' | dd of="$GRAPH" bs=1 seek=6 conv=notrunc 2>/dev/null
expect 3 "damaged layout: side is still not on main" -- sg check "$side"
expect 3 "damaged layout: R still merged by M1" -- sg check "$r"
grep_out "reachable (merged by $(short "$m1"))" "  ...the objects name M1"
expect 0 "damaged layout: twin: T" -- sg check "$t"

# The verification is cached by the file's stat identity, and any change of
# the file verifies it again.
CACHE=r/.git/signgate/cgraph-verified
cp good-graph "$GRAPH"
expect 0 "an honest graph: T allowed" -- sg check "$t"
no_grep_out "warning" "  ...without a warning"
check "the cache records the graph, by inode" grep -q " $(stat -c %i "$GRAPH") .*objects/info/commit-graph\$" "$CACHE"
check "the cache is 0600 in a 0700 folder" test "$(stat -c %a "$CACHE") $(stat -c %a r/.git/signgate)" = "600 700"
expect 0 "the cached verdict is used: T still allowed" -- sg check "$t"
# The same bytes edited in place (same inode), then size and mtime put back:
# only the ctime tells, and it is enough.
size=$(stat -c %s "$GRAPH") mtime=$(stat -c %y "$GRAPH")
python3 "$SG_LIB/cgraph-edit.py" "$GRAPH" parent "$m2" 1 "$side" --stale
touch -d "$mtime" "$GRAPH"
check "edited in place: same size and mtime" test "$(stat -c %s "$GRAPH") $(stat -c %y "$GRAPH")" = "$size $mtime"
expect 3 "edited in place, size and mtime restored: verified again, side denied" -- sg check "$side"
grep_out "signgate: warning: .*$warn" "  ...the stale checksum is caught"
# A cache that cannot be read is "nothing verified".
cp good-graph "$GRAPH" && sg check "$t" >/dev/null 2>&1
printf 'garbage\n' >"$CACHE"
lie parent "$m2" 1 "$side" --stale
expect 3 "a damaged cache: the stale graph is verified and caught" -- sg check "$side"
grep_out "signgate: warning: .*$warn" "  ...with the warning"

# A split chain: each file of the chain is verified; a stale top layer is caught.
rm -f "$GRAPH"
g commit-graph write --reachable --split 2>/dev/null
top=$(ct "more" "$rb" -p "$m2")
g update-ref refs/heads/main "$top"
g commit-graph write --reachable --split=no-merge 2>/dev/null
check "the chain has two files" test "$(wc -l <r/.git/objects/info/commit-graphs/commit-graph-chain)" = 2
expect 0 "split chain: T allowed" -- sg check "$t"
no_grep_out "warning" "  ...without a warning"
layer=r/.git/objects/info/commit-graphs/graph-$(tail -n 1 r/.git/objects/info/commit-graphs/commit-graph-chain).graph
chmod u+w "$layer"
# the low byte of the first commit's date (CDAT): the layout stays valid
python3 - "$layer" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(d[6]):
    cid, off = struct.unpack(">4sQ", d[8 + 12 * i:20 + 12 * i])
    if cid == b"CDAT":
        d[off + 35] ^= 1
open(sys.argv[1], "r+b").write(d)
PY
expect 0 "split chain, a date in the top layer changed (checksum stale): T still allowed (objects)" -- sg check "$t"
grep_out "signgate: warning: .*checksum does not match.*file 2 of 2" "  ...the second file is named"
expect 3 "split chain, damaged: side still denied" -- sg check "$side"
done_testing
