#!/bin/sh
# check agrees with git on real-style history: the reviewers it counts from
# trailers are exactly those `git interpret-trailers --parse` finds under
# Reviewed-by / Approved-by (any case), minus the author and the committer.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=0
n=0
# msg AUTHOR-EMAIL: commit the message on stdin (git's default cleanup)
msg() {
	n=$((n + 1))
	cat >"$TRASH/msg.$n"
	GIT_AUTHOR_EMAIL=$1 git -C r commit -q --allow-empty -F "$TRASH/msg.$n"
	git -C r rev-parse HEAD >>"$TRASH/revs"
}

msg alice@example.com <<'EOF'
mm: fix a use-after-free in the page cache

The folio was released before the last reference was dropped.

Fixes: 0123456789ab ("mm: something")
Signed-off-by: Alice <alice@example.com>
Reviewed-by: Bob <bob@example.com>
Acked-by: Dan <dan@example.com>
Reviewed-by: Carol Long-Name <carol@example.com>
EOF
msg alice@example.com <<'EOF'
docs: a body that quotes a trailer

As Bob said in the thread:
Reviewed-by: Mallory <mallory@example.com>
that line is prose, not a trailer.

Signed-off-by: Alice <alice@example.com>
EOF
msg bob@example.com <<'EOF'
net: folded trailer values

Reviewed-by: Carol Quite-A-Long-Name
  <carol@example.com>
reviewed-by: dan <DAN@Example.com>
APPROVED-BY: Erin <erin@example.com>
EOF
msg bob@example.com <<'EOF'
core: the author reviews his own change

Reviewed-by: Bob <bob@example.com>
Reviewed-by: Author <author@example.com>
Reviewed-by: Carol <carol@example.com>
EOF
msg carol@example.com <<'EOF'
build: a trailer block with prose in it

Reviewed-by: Bob <bob@example.com>
This line is not a trailer and neither is the next.
Nor this one, which makes the block mostly prose.
Reviewed-by: Dan <dan@example.com>
EOF
msg carol@example.com <<'EOF'
fix: cherry-picked

Reviewed-by: Bob <bob@example.com>
(cherry picked from commit 89abcdef0123456789abcdef0123456789abcdef)
Signed-off-by: Carol <carol@example.com>
EOF
msg dan@example.com <<'EOF'
Reviewed-by: Subject Line <subject@example.com>
EOF
msg dan@example.com <<'EOF'
patch: a separator ends the message

Reviewed-by: Erin <erin@example.com>
---
Reviewed-by: After-Separator <after@example.com>
EOF
msg erin@example.com <<'EOF'
misc: a value without an email and an odd key

Reviewed-by: just a name
Reviewed-by : Spaced <spaced@example.com>
Reviewed-by:NoSpace <nospace@example.com>
Approved-by: Bob <bob@example.com>
EOF

# git's answer: Reviewed-by/Approved-by trailers as interpret-trailers parses
# them, the email in <> (else the bare value), lowercase, minus author and
# committer, first occurrence kept.
git_reviewers() {
	_ae=$(git -C r log -1 --format=%ae "$1" | tr 'A-Z' 'a-z')
	_ce=$(git -C r log -1 --format=%ce "$1" | tr 'A-Z' 'a-z')
	git -C r log -1 --format=%B "$1" | git interpret-trailers --parse |
	awk -F': ' -v ae="$_ae" -v ce="$_ce" '
		{ k = tolower($1); sub(/[ \t]+$/, "", k)
		  if (k != "reviewed-by" && k != "approved-by") next
		  v = substr($0, index($0, ": ") + 2)
		  if (match(v, /<[^>]*>/)) v = substr(v, RSTART + 1, RLENGTH - 2)
		  gsub(/^[ \t]+|[ \t]+$/, "", v); v = tolower(v)
		  if (v !~ /^[^ @<>,]+@[^ @<>,]+$/ || v == ae || v == ce || seen[v]++) next
		  print v }'
}

i=0
while read -r rev; do
	i=$((i + 1))
	git_reviewers "$rev" >"$TRASH/git.$i"
	"$SIGNGATE" -C r --json check "$rev" >"$TRASH/sg.json.$i" 2>/dev/null
	jq -r '.reviewers[]' "$TRASH/sg.json.$i" >"$TRASH/sg.$i"
	check "commit $i: signgate counts what git parses ($(tr '\n' ' ' <"$TRASH/git.$i"))" \
		cmp -s "$TRASH/git.$i" "$TRASH/sg.$i"
	cmp -s "$TRASH/git.$i" "$TRASH/sg.$i" || diff "$TRASH/git.$i" "$TRASH/sg.$i" | sed 's/^/#   /'
done <"$TRASH/revs"
check "the reference is not empty" test -s "$TRASH/git.1"
check "git found bob and carol in the kernel-style commit" \
	sh -c "printf 'bob@example.com\ncarol@example.com\n' | cmp -s - '$TRASH/git.1'"
check "the author never counts" sh -c "! grep -q author@example.com '$TRASH'/sg.[0-9]*"
check "prose is not a trailer" sh -c "! grep -q mallory '$TRASH'/sg.[0-9]*"
done_testing
