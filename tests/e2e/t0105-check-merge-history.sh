#!/bin/sh
# check on a merge-heavy history (bench/merge-history.awk, small): for every
# commit, the gate's first-parent membership, reachability and "merged by"
# equal git's (git rev-list --first-parent, git merge-base --is-ancestor,
# the first-parent merge M with the commit in M^1..M), without a
# commit-graph, with one, with a split chain and commits beyond it, and with
# a damaged graph (read from the objects instead). A clock-skewed commit and
# an octopus merge are part of the history.
. "$SG_TOP/tests/lib/test-lib.sh"

JUDGE=$SIGNGATE_BUILD/tools/reach-judge
if [ ! -x "$JUDGE" ]; then
	not_ok "tools/reach-judge is built (make $SIGNGATE_BUILD/tools/reach-judge)"
	done_testing
fi
g() { git -C r "$@"; }

git init -q -b main r
awk -v topics=80 -v seed=7 -f "$SG_TOP/bench/merge-history.awk" | g fast-import --quiet
g update-ref -d refs/heads/topic
tree=$(g rev-parse 'main^{tree}')
ct() { msg=$1; shift; g commit-tree -m "$msg" -m "Reviewed-by: Reviewer <reviewer@example.com>" "$@" "$tree"; }
# A commit whose clock is years behind its parent's, brought in by an
# octopus merge with two more branches; commits on main after it.
skew=$(GIT_COMMITTER_DATE="1000000000 +0000" ct skewed -p main~5)
after=$(ct "after skew" -p "$skew")
a=$(ct a -p main~3)
b=$(ct b -p main~7)
g update-ref refs/heads/main "$(ct octopus -p main -p "$a" -p "$b" -p "$after")"
g update-ref refs/heads/main "$(ct "after octopus" -p main)"
# Never merged: a side branch, and a commit dated in the future.
g update-ref refs/heads/side "$(ct side2 -p "$(ct side1 -p main~10)")"
g update-ref refs/heads/future "$(GIT_COMMITTER_DATE="4000000000 +0000" ct future -p main~2)"
check "the history is merge-heavy ($(g rev-list --count main) commits, $(g rev-list --count --merges main) merges)" \
	test "$(g rev-list --count --merges main)" -ge 80

# git's answers, one line per commit: ID fp=.. reach=.. merge=..
expected() {
	g rev-list --all | sort >all
	g rev-list --first-parent main | sort >fp
	g rev-list main | sort >reach
	g rev-list --first-parent --merges main | while read -r m; do
		g rev-list "$m^1..$m" | grep -v "^$m\$" | sed "s/\$/ $m/"
	done | sort >merged
	awk 'FILENAME == "fp" { fp[$1] = 1; next } FILENAME == "reach" { r[$1] = 1; next }
	     FILENAME == "merged" { m[$1] = $2; next }
	     { printf "%s fp=%d reach=%d merge=%s\n", $1, fp[$1] ? 1 : 0, r[$1] ? 1 : 0,
	       (r[$1] && !fp[$1]) ? m[$1] : "-" }' fp reach merged all >want
}
# judge MODE GRAPH: every commit, compared; GRAPH is the graph= expected (or *)
judge() {
	"$JUDGE" r main <all >got.raw 2>judge.err || { not_ok "$1: reach-judge ran ($(cat judge.err))"; return; }
	sed 's/ graph=.*//' got.raw | sort >got
	if cmp -s want got; then ok "$1: all $(wc -l <all) commits agree with git"
	else not_ok "$1: verdicts differ from git"; diff want got | head -5; fi
	[ "$2" = "*" ] || check "$1: graph=$2 for every commit" \
		test "$(grep -c " graph=$2\$" got.raw)" -eq "$(wc -l <all)"
}
expected
judge "no commit-graph" 0

# git merge-base --is-ancestor itself, on a sample, and check through the CLI.
n=0 bad=0
for c in $(awk 'NR % 37 == 1' all); do
	n=$((n + 1))
	if g merge-base --is-ancestor "$c" main; then want_rc=0; else want_rc=3; fi
	"$SIGNGATE" -C r check "$c" >out 2>&1; rc=$?
	[ "$rc" = "$want_rc" ] || { bad=$((bad + 1)); echo "# $c: check $rc, git says $want_rc"; }
done
check "signgate check and git merge-base --is-ancestor agree on $n sampled commits" test "$bad" -eq 0
old=$(awk '$4 != "merge=-" { print; exit }' want)
expect 0 "a commit brought in by a merge is allowed (firstParent = false)" -- "$SIGNGATE" -C r check "${old%% *}"
grep_out "refs/heads/main reachable (merged by $(echo "$old" | sed 's/.*merge=\(.......\).*/\1/'))" "the merge git names"
expect 0 "the skewed commit, through the octopus" -- "$SIGNGATE" -C r check "$skew"
expect 3 "the future-dated commit off main is denied" -- "$SIGNGATE" -C r check future
grep_out "is not on refs/heads/main" "denied for what it is"
expect 3 "the side branch is denied" -- "$SIGNGATE" -C r check side

g commit-graph write --reachable 2>/dev/null
judge "with a commit-graph" 1
expect 0 "check with the graph: merged commit" -- "$SIGNGATE" -C r check "${old%% *}"
expect 3 "check with the graph: side branch denied" -- "$SIGNGATE" -C r check side

# A damaged graph: every parent position out of range. With its checksum
# stale the graph is not used; sealed with a matching checksum (a buggy
# writer) the walks notice, read the objects instead, and still agree with git.
cp r/.git/objects/info/commit-graph good-graph
chmod u+w r/.git/objects/info/commit-graph
perl -e '
	open(my $f, "+<", $ARGV[0]) or die; binmode $f; local $/; my $d = <$f>;
	my $n = ord(substr($d, 6, 1));
	for my $i (0 .. $n - 1) {
		my ($id, $hi, $lo) = unpack("a4 N N", substr($d, 8 + 12 * $i, 12));
		next unless $id eq "CDAT";
		my $off = $hi * 4294967296 + $lo;
		my ($nhi, $nlo) = unpack("N N", substr($d, 8 + 12 * ($i + 1) + 4, 8));
		my $end = $nhi * 4294967296 + $nlo;
		for (my $p = $off; $p + 36 <= $end; $p += 36) {
			substr($d, $p + 20, 4) = pack("N", 0x6ffffff0) unless unpack("N", substr($d, $p + 20, 4)) == 0x70000000;
		}
	}
	seek($f, 0, 0); print $f $d; close $f;' r/.git/objects/info/commit-graph
check "the graph was damaged" sh -c '! cmp -s good-graph r/.git/objects/info/commit-graph'
judge "parents out of range, checksum stale" 0
cp r/.git/objects/info/commit-graph stale-graph
perl -MDigest::SHA=sha1 -e '
	open(my $f, "+<", $ARGV[0]) or die; binmode $f; local $/; my $d = <$f>;
	substr($d, -20) = sha1(substr($d, 0, -20)); seek($f, 0, 0); print $f $d; close $f;' r/.git/objects/info/commit-graph
judge "parents out of range, checksum sealed" 0
expect 0 "check with the damaged graph: merged commit" -- "$SIGNGATE" -C r check "${old%% *}"
expect 3 "check with the damaged graph: side branch denied" -- "$SIGNGATE" -C r check side
cp stale-graph r/.git/objects/info/commit-graph
expect 1 "doctor fails (no scan database here, and the graph)" -- "$SIGNGATE" -C r doctor
grep_out "^FAIL  commit-graph: the commit-graph's checksum does not match" "doctor names the damaged commit-graph"
head -c 3000 good-graph >r/.git/objects/info/commit-graph
judge "a truncated graph file" 0
printf 'CGPH\001\001\377\000' >r/.git/objects/info/commit-graph
judge "a graph file that is only a header" 0
rm -f r/.git/objects/info/commit-graph

# A split chain of two layers, and commits beyond it.
g commit-graph write --reachable --split 2>/dev/null
t1=$(ct "topic x1" -p main~4)
t2=$(ct "topic x2" -p "$t1")
g update-ref refs/heads/main "$(ct "Merge topic x" -p main -p "$t2")"
g commit-graph write --reachable --split=no-merge 2>/dev/null
check "the graph is a chain of 2 layers" test "$(wc -l <r/.git/objects/info/commit-graphs/commit-graph-chain)" -eq 2
check "no single commit-graph file" test ! -e r/.git/objects/info/commit-graph
t3=$(ct "topic y1" -p main~2)
g update-ref refs/heads/main "$(ct "Merge topic y" -p main -p "$t3")"
g update-ref refs/heads/main "$(ct "beyond the graph" -p main)"
expected
judge "a split chain, the tip beyond it" 1
expect 0 "check: the topic merged after the last graph write" -- "$SIGNGATE" -C r check "$t3"
grep_out "merged by $(g rev-parse --short=7 main~1)" "names its merge"
expect 0 "check: the topic merged in the second layer" -- "$SIGNGATE" -C r check "$t1"
expect 1 "doctor (no scan database here)" -- "$SIGNGATE" -C r doctor
grep_out "^OK    commit-graph: 2 files, [0-9]* commits, checksums match" "doctor accepts the chain's two layers"
done_testing
