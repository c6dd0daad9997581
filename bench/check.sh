#!/bin/sh
# bench/check.sh BUILD_DIR: `signgate check <root>` on a 100,000-commit
# linear history against `git merge-base --is-ancestor <root> main`, without
# and with a commit-graph, best of 3. Goal: no slower than git (ratio <= 1).
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
SIGNGATE=${SIGNGATE:-$BUILD/signgate}
N=${SG_BENCH_COMMITS:-100000}
. "$top/bench/lib.sh"
[ -x "$SIGNGATE" ] || { echo "bench/check.sh: no $SIGNGATE; run make first" >&2; exit 1; }
BENCH_TMP=$(mktemp -d /tmp/sgb.XXXXXX)
trap 'rm -rf "$BENCH_TMP"' EXIT
export HOME=$BENCH_TMP GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
git config --global user.email bench@example.com
git config --global user.name Bench
repo=$BENCH_TMP/r
git init -q -b main "$repo"
# One fast-import stream: the root commit carries the policy and a review
# trailer; the other N-1 commits keep its tree.
start=$(now)
awk -v n="$N" 'BEGIN {
	pol = "[gate]\n\tprotectedBranch = main\n\tfirstParent = true\n\trequiredReviews = 1\n"
	printf "blob\nmark :1\ndata %d\n%s\n", length(pol), pol
	for (i = 1; i <= n; i++) {
		msg = (i == 1) ? "root\n\nReviewed-by: Reviewer <reviewer@example.com>\n" : "commit " i "\n"
		printf "commit refs/heads/main\nmark :%d\n", i + 1
		printf "author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n", 1600000000 + i, 1600000000 + i
		printf "data %d\n%s", length(msg), msg
		if (i == 1) printf "M 100644 :1 .signgate\n"; else printf "from :%d\n", i
		printf "\n"
	}
}' | git -C "$repo" fast-import --quiet || { echo "bench/check.sh: fast-import failed" >&2; exit 1; }
root=$(git -C "$repo" rev-list --max-parents=0 main)
echo "# $(git -C "$repo" rev-list --count main) commits built in $(awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }') s"
# A denial twin: the gate must refuse a commit that is not on main.
git -C "$repo" commit-tree -m off -p "$root" "$(git -C "$repo" rev-parse "$root^{tree}")" >"$BENCH_TMP/off"
if "$SIGNGATE" -C "$repo" check "$(cat "$BENCH_TMP/off")" >/dev/null 2>&1; then
	echo "bench/check.sh: an off-branch commit was allowed" >&2; exit 1
fi
"$SIGNGATE" -C "$repo" check "$root" >/dev/null || { echo "bench/check.sh: root commit not allowed" >&2; exit 1; }
status=0
row "check <root> of $N commits" "signgate" "git" "ratio" ""
for mode in "without commit-graph" "with commit-graph"; do
	[ "$mode" = "with commit-graph" ] && git -C "$repo" commit-graph write --reachable >/dev/null 2>&1
	s=$(best_of 3 "$SIGNGATE" -C "$repo" check "$root")
	g=$(best_of 3 git -C "$repo" merge-base --is-ancestor "$root" main)
	r=$(ratio "$s" "$g")
	row "$mode" "${s}s" "${g}s" "$r" "$(awk -v r="$r" 'BEGIN { print (r <= 1.0) ? "goal met" : "SLOWER than git" }')"
done
exit $status
