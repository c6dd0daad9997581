# A merge-heavy history as one `git fast-import` stream, deterministic for
# given -v topics=N -v seed=S (its own LCG: mawk and gawk differ in rand()).
#
# main starts with a root commit carrying the policy (.signgate); then, for
# each topic: now and then a direct commit on main, then a topic branch forked
# from a recent main commit (one in eight from an old one: long-lived
# branches), 1..15 commits (one in ten of them a merge of main into the topic),
# merged into main by a merge commit. Commit times only grow. Every message
# has a Reviewed-by trailer, so `signgate check` can allow any commit on main
# under the policy below (firstParent = false).
#   awk -v topics=11000 -v seed=1 -f bench/merge-history.awk | git fast-import
function rnd(n) {  # 0..n-1 (Park-Miller, exact in doubles)
	state = (state * 16807) % 2147483647
	return state % n
}
function commit(ref, msg, from, merge) {
	mark++
	t++
	printf "commit %s\nmark :%d\n", ref, mark
	printf "author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n", 1500000000 + 60 * t, 1500000000 + 60 * t
	msg = msg "\n\nReviewed-by: Reviewer <reviewer@example.com>\n"
	printf "data %d\n%s", length(msg), msg
	if (from != "")
		printf "from :%d\n", from
	if (merge != "")
		printf "merge :%d\n", merge
	printf "\n"
	return mark
}
BEGIN {
	if (topics == "") topics = 100
	state = (seed == "" ? 1 : seed) % 2147483646 + 1
	pol = "[gate]\n\tprotectedBranch = main\n\tfirstParent = false\n\trequiredReviews = 1\n"
	printf "blob\nmark :1\ndata %d\n%s\n", length(pol), pol
	mark = 1
	mark++
	t++
	msg = "root\n\nReviewed-by: Reviewer <reviewer@example.com>\n"
	printf "commit refs/heads/main\nmark :%d\n", mark
	printf "author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n", 1500000000, 1500000000
	printf "data %d\n%sM 100644 :1 .signgate\n\n", length(msg), msg
	nm = 1
	mainm[nm] = mark
	for (k = 1; k <= topics; k++) {
		if (rnd(3) == 0) {
			m = commit("refs/heads/main", "direct " k, "", "")
			mainm[++nm] = m
		}
		back = rnd(8) == 0 ? rnd(2000) : rnd(20)
		fork = nm - back < 1 ? 1 : nm - back
		tip = commit("refs/heads/topic", "topic " k " commit 1", mainm[fork], "")
		n = 1 + rnd(15)
		for (j = 2; j <= n; j++) {
			if (rnd(10) == 0)
				tip = commit("refs/heads/topic", "topic " k ": merge main", "", mainm[nm])
			else
				tip = commit("refs/heads/topic", "topic " k " commit " j, "", "")
		}
		m = commit("refs/heads/main", "Merge topic " k, mainm[nm], tip)
		mainm[++nm] = m
	}
}
