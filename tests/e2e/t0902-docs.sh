#!/bin/sh
# Docs that run (issue 14): every code block of README.md and of every
# page in docs/, and the EXAMPLES of the manual pages in docs/man/,
# extracted from the Markdown and roff now (tests/lib/doc-run.py) and
# run as a reader would, in a fresh folder, with signgate installed by
# `make install` into this test's folder and on PATH. A page is one shell:
# its first failing step fails it. The twins: broken pages in
# tests/docs-fixtures must fail.
. "$SG_TOP/tests/lib/test-lib.sh"
export SG_DOC_PREFIX="$TRASH/prefix"
make -s -C "$SG_TOP" install DESTDIR= PREFIX="$SG_DOC_PREFIX" INSTALL_BIN="$SIGNGATE" >/dev/null ||
	not_ok "make install into the test's folder"
PATH=$SG_DOC_PREFIX/bin:$PATH
export PATH SG_LIB SG_TOP SIGNGATE_BUILD
export SG_DOC_SCRATCH="$TRASH/scratch"
git init -q -b main "$SG_DOC_SCRATCH" && git -C "$SG_DOC_SCRATCH" commit -q --allow-empty -m x
check "the signgate on PATH is the installed one" test "$(command -v signgate)" = "$SG_DOC_PREFIX/bin/signgate"

# run_page PAGE: its script in a fresh folder; exit status of the page
run_page() {
	name=$(echo "$1" | tr '/.' '__')
	mkdir "$TRASH/reader-$name"
	python3 "$SG_LIB/doc-run.py" script "$1" >"$TRASH/$name.sh" 2>"$TRASH/$name.log" || return 1
	# a reader runs make from a shell, not under `make check` (make[1]: in its messages),
	# and has a git identity in ~/.gitconfig, not in GIT_AUTHOR_* (git config user.* counts)
	(unset SIGNGATE MAKELEVEL MAKEFLAGS MFLAGS GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
	 cd "$TRASH/reader-$name" && set -e && . "$SG_LIB/doc-lib.sh" && . "$TRASH/$name.sh") >"$TRASH/$name.log" 2>&1
}

cd "$SG_TOP" || exit 1
for page in ${SG_DOC_PAGES:-README.md docs/*.md docs/man/*.[1-8]}; do
	if run_page "$page"; then
		ok "$page: every block runs as the page says ($(grep -c '^ok - ' "$TRASH/$(echo "$page" | tr '/.' '__').log") steps)"
		grep '^skip - ' "$TRASH/$(echo "$page" | tr '/.' '__').log" | sed 's/^/# /'
	else
		not_ok "$page"
		tail -n 30 "$TRASH/$(echo "$page" | tr '/.' '__').log" | sed 's/^/#   /'
	fi
done

# The twins: a page with a broken example fails, and so does a page whose
# example cannot be extracted.
for page in tests/docs-fixtures/*.md tests/docs-fixtures/*.[1-8]; do
	if run_page "$page"; then
		not_ok "$page: a broken example passed"
	elif grep -q '^doc-run: ' "$TRASH/$(echo "$page" | tr '/.' '__').log"; then
		ok "$page: refused by the extractor ($(sed 's/^doc-run: //' "$TRASH/$(echo "$page" | tr '/.' '__').log"))"
	else
		log=$TRASH/$(echo "$page" | tr '/.' '__').log
		ok "$page: the broken example fails (at $(grep '^# \|^FAIL' "$log" 2>/dev/null | tail -n 1))"
	fi
done
done_testing
