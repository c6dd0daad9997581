#!/bin/sh
# Hostile artifact names and file types (issue 7 item 3). Each case has its
# exact exit code, no hang (timeout 60), and writes nothing but the expected
# signature, inside the folder it belongs to (before/after listing of the
# trash dir). Already covered elsewhere, not repeated here: symlink, directory,
# FIFO, missing file, device behind a link, empty file, a leading dash with a
# space after --, a newline in the name (t0203-sign-files.sh).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/hostile-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
printf 'artifact\n' >"$REPO/dist/a.txt"
mkdir -p "$TRASH/outside" && printf 'x\n' >"$TRASH/outside/o.txt"

# ".." in names
snap 0
expect 3 "../ out of the repository matches no profile: denied" -- sg sign ../outside/o.txt
expect 3 "dist/../../ out of the repository: denied" -- sg sign dist/../../outside/o.txt
expect 3 "an absolute path outside the repository: denied" -- sg sign "$TRASH/outside/o.txt"
grep_out "matches no profile's artifacts globs" "the reason names the artifacts globs"
snap 1
only_written 0 1 "nothing was written for the refused names"
expect 0 "dist/../dist/a.txt is dist/a.txt: signed" -- sg sign dist/../dist/a.txt
snap 2
head=$(git -C "$REPO" rev-parse HEAD)
only_written 1 2 "only dist/a.txt.p7s and the batch's .intoto.jsonl were written" ./repo/dist/a.txt.p7s "./repo/dist/$head.intoto.jsonl"
check "its signature verifies" cms_verify "$REPO/dist/a.txt"
check "the note records the normalised name" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -qx 'Artifact: dist/a.txt'"
printf 'x\n' >"$REPO/dist/..x.."
expect 0 "a name made of dots (dist/..x..) is an ordinary name" -- sg sign "dist/..x.."

# non-UTF-8 bytes
bad=$(printf 'dist/bad\377\376name.txt')
printf 'x\n' >"$REPO/$bad"
snap 3
expect 0 "a non-UTF-8 name signs" -- sg sign "$bad"
snap 4
only_written 3 4 "only its signature and the batch's .intoto.jsonl were written" "./repo/$bad.p7s" "./repo/dist/$head.intoto.jsonl"
check "its signature verifies" cms_verify "$REPO/$bad"
expect 0 "verify accepts it" -- sg verify "$bad"
expect 0 "log --json with a non-UTF-8 artifact name" -- sg --json log
check "log --json is valid JSON" jq -e . "$TRASH/out"
expect 0 "sign --json with a non-UTF-8 name" -- sg --json sign "$bad"
check "sign --json is valid JSON" jq -e . "$TRASH/out"
nl=$(printf 'dist/two\nlines.txt')
printf 'x\n' >"$REPO/$nl"
expect 0 "sign --json with a newline in the name" -- sg --json sign "$nl"
check "sign --json is valid JSON" jq -e . "$TRASH/out"

# leading dashes
printf 'x\n' >"$REPO/dist/-n"
expect 0 "dist/-n (a dash after the folder) is a name, not an option" -- sg sign dist/-n
check "its signature verifies" cms_verify "$REPO/dist/-n"
printf 'x\n' >"$REPO/-x.txt"
snap 5
expect 2 "-x.txt without -- is an unknown option: usage error" -- sg sign -x.txt
grep_out "unknown option '-x.txt'" "the message names the option as given"
expect 2 "--rev=x --bogus: usage error" -- sg sign --bogus dist/a.txt
expect 3 "-x.txt after -- is a name (outside the artifacts globs: denied)" -- sg sign -- -x.txt
snap 6
only_written 5 6 "nothing was written for them"

# file types not covered in t0203
mknod "$REPO/dist/nulldev" c 1 3 2>/dev/null && {
	expect 1 "a character device inside dist/ is refused" -- sg sign dist/nulldev
	grep_out "character device" "the reason says character device"
	check "nothing was read from or written next to it" test ! -e "$REPO/dist/nulldev.p7s"
}
expect 3 "/dev/zero (outside every glob) is denied without reading it" -- sg sign /dev/zero
ln -s "$TRASH/outside" "$REPO/dist/linkdir"
sg_policy_text | sed 's|artifacts = dist/\*|artifacts = dist/*/*|' >"$TRASH/policy-sub"
expect 3 "a file reached through a symlinked folder is judged where it is (outside dist/): denied" -- sg --policy "$TRASH/policy-sub" sign dist/linkdir/o.txt
grep_out "$TRASH/outside/o.txt matches no profile" "the message names the real path"
check "nothing was written in the folder the link points to" test ! -e "$TRASH/outside/o.txt.p7s"

# a file over 2 GiB (sparse): refused by the scan limit, before reading it
truncate -s 3G "$REPO/dist/huge.bin"
sg_policy_text | sed 's|required = true|required = false|' >"$TRASH/policy"
snap 7
expect 4 "a 3 GiB file: over the scan limit, exit 4" -- sg sign dist/huge.bin
grep_out "3221225472 bytes, over the scan limit" "the message gives the size and the limit"
expect 4 "scan.required = false does not let it through unscanned" -- sg --policy "$TRASH/policy" sign dist/huge.bin
snap 8
only_written 7 8 "no signature and no temp file for it"

# the output name already exists as a symlink: replaced, never followed
printf 'victim\n' >"$TRASH/outside/victim"
ln -sf "$TRASH/outside/victim" "$REPO/dist/a.txt.p7s"
expect 0 "signing over a planted symlink at FILE.p7s" -- sg sign dist/a.txt
check "the link's target is untouched" sh -c "[ \"\$(cat '$TRASH/outside/victim')\" = victim ]"
check "FILE.p7s is now a regular file" sh -c "[ -f '$REPO/dist/a.txt.p7s' ] && [ ! -L '$REPO/dist/a.txt.p7s' ]"
check "and it verifies" cms_verify "$REPO/dist/a.txt"

# --out: only inside the folder named
mkdir "$TRASH/sigs"
snap 9
expect 0 "--out DIR with a hostile name" -- sg sign --out "$TRASH/sigs" "$bad"
snap 10
only_written 9 10 "only DIR/<name>.p7s and DIR/<commit>.intoto.jsonl were written" \
	"./sigs/bad$(printf '\377\376')name.txt.p7s" "./sigs/$head.intoto.jsonl"
expect 2 "--out naming a file is a usage error" -- sg sign --out "$REPO/dist/a.txt" dist/a.txt
expect 2 "--out naming a missing folder is a usage error" -- sg sign --out "$TRASH/nope" dist/a.txt
check "no folder was created for it" test ! -e "$TRASH/nope"
check "the outside folder is unchanged" sh -c "[ \"\$(ls '$TRASH/outside' | tr '\n' ' ')\" = 'o.txt victim ' ]"
done_testing
