#!/bin/sh
# What may be signed: regular files only, scanned, within the scan limits.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
printf 'artifact\n' >"$REPO/dist/a.txt"

ln -s a.txt "$REPO/dist/link.txt"
expect 1 "a symlinked artifact is refused" -- sg sign dist/link.txt
grep_out "symbolic link" "the reason says symbolic link"
check "no signature for the link or its target" sh -c "[ ! -e '$REPO/dist/link.txt.p7s' ] && [ ! -e '$REPO/dist/a.txt.p7s' ]"
mkdir "$REPO/dist/dir"
expect 1 "a directory is refused" -- sg sign dist/dir
grep_out "directory" "the reason says directory"
mkfifo "$REPO/dist/fifo"
expect 1 "a FIFO is refused (without hanging)" -- sg sign dist/fifo
expect 1 "a missing file is refused" -- sg sign dist/missing.txt
grep_out "missing.txt" "the message names the file"
ln -s /dev/null "$REPO/dist/null"
expect 1 "a device behind a link is refused" -- sg sign dist/null
expect 0 "the twin: the regular file signs" -- sg sign dist/a.txt
check "its signature verifies" cms_verify "$REPO/dist/a.txt"
: >"$REPO/dist/empty.bin"
expect 0 "an empty file signs" -- sg sign dist/empty.bin
check "its signature verifies" cms_verify "$REPO/dist/empty.bin"

# scan limits: a file above scan.maxFileSize is never passed as clean
head -c 4096 /dev/zero >"$REPO/dist/big.bin"
sg_policy_text | sed 's|^\[scan\]|[scan]\n\tmaxFileSize = 1000|' >"$TRASH/policy"
expect 4 "a file over the scan limit: exit 4" -- sg --policy "$TRASH/policy" sign dist/big.bin
grep_out "too large" "the reason says too large to scan"
check "no signature for it" test ! -e "$REPO/dist/big.bin.p7s"
expect 0 "the twin: a file under the limit signs" -- sg --policy "$TRASH/policy" sign dist/a.txt

# scan database
sg_policy_text | sed "s|database = $CLAMDB|database = $TRASH/nodb|" >"$TRASH/policy"
expect 4 "scan database missing (required): exit 4" -- sg --policy "$TRASH/policy" sign dist/a.txt
grep_out "nodb" "the message names the database"
mkdir "$TRASH/emptydb"
sg_policy_text | sed "s|database = $CLAMDB|database = $TRASH/emptydb|" >"$TRASH/policy"
expect 4 "scan database empty (required): exit 4" -- sg --policy "$TRASH/policy" sign dist/a.txt
sg_policy_text | sed "s|database = $CLAMDB|database = $TRASH/nodb|; s|required = true|required = false|" >"$TRASH/policy"
expect 0 "scan database missing, scan.required = false: signed" -- sg --policy "$TRASH/policy" sign dist/a.txt
check "the note says the scan was skipped by policy" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Scan: skipped by policy'"
check "the digest is still recorded" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q \"^Artifact-Sha256: \$(sha256sum '$REPO/dist/a.txt' | cut -d' ' -f1)\""

# names that are hostile to shells and to the note format
printf 'x\n' >"$REPO/dist/-leading dash.txt"
expect 0 "an artifact named with a leading dash and a space signs (after --)" -- sg sign -- "dist/-leading dash.txt"
check "its signature verifies" cms_verify "$REPO/dist/-leading dash.txt"
nl=$(printf 'dist/new\nline.txt')
printf 'x\n' >"$REPO/$nl"
expect 0 "an artifact with a newline in its name signs" -- sg sign "$nl"
check "the newline cannot inject a field into the note" sh -c "! git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^line.txt'"
done_testing
