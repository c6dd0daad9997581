#!/bin/sh
# The PIN stays home (issue 12 item 6): SIGNGATE_PIN is taken out of
# signgate's environment as soon as it starts (the copy zeroed), so no child
# inherits it: not `git push` for notes.push and the server hook it runs, not
# the tag hook's `git archive`, not signgate's own environment as its
# children read it (/proc/PPID/environ). A `git` wrapper first on PATH and a
# pre-receive hook on the remote record what they were given. Twin: the same
# recorders, run with the PIN exported by a plain shell, do see it.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
PIN=$SIGNGATE_PIN
REAL_GIT=$(command -v git)
RECORD=$TRASH/record
mkdir -p "$TRASH/bin" "$RECORD"
# the wrapper: its argv, its environment and its parent's, then the real git
cat >"$TRASH/bin/git" <<WRAP
#!/bin/sh
n=\$(ls '$RECORD' | wc -l)
{ echo "argv: \$*"; env; } >'$RECORD'/git-\$n.env 2>&1
tr '\\0' '\\n' </proc/\$PPID/environ >'$RECORD'/git-\$n.parent
exec '$REAL_GIT' "\$@"
WRAP
# git runs hooks with its exec-path first on PATH: the tag hook's git archive
# is seen through the compressor git archive runs (tar.tar.gz.command)
cat >"$TRASH/gzip-rec" <<WRAP
#!/bin/sh
env >'$RECORD'/archive.env
exec gzip -cn
WRAP
chmod +x "$TRASH/bin/git" "$TRASH/gzip-rec"

git init -q --bare "$TRASH/origin.git"
printf '#!/bin/sh\nenv >"%s/pre-receive.env"\nexit 0\n' "$RECORD" >"$TRASH/origin.git/hooks/pre-receive"
chmod +x "$TRASH/origin.git/hooks/pre-receive"
git -C "$REPO" remote add origin "$TRASH/origin.git"
sg_policy_text | sed 's/^\[scan\]/[release]\n\ttagPattern = v*\n\tarchive = true\n[notes]\n\tpush = origin\n[scan]/' |
	sg_commit_policy
sg_reviewed_commit src/more.c 'int more;'
printf 'artifact\n' >"$REPO/dist/a.txt"
# sg: signgate in the repo, the wrapper first on PATH, the PIN exported
sg() { (cd "$REPO" && PATH="$TRASH/bin:$PATH" SIGNGATE_PIN=$PIN exec "$SIGNGATE" "$@"); }

# the twin first: the recorders see a PIN that a plain shell exports
(cd "$REPO" && PATH="$TRASH/bin:$PATH" SIGNGATE_PIN=$PIN git push -q origin HEAD:refs/heads/probe) >/dev/null 2>&1
check "twin: the git wrapper records an exported PIN" grep -q "^SIGNGATE_PIN=$PIN\$" "$RECORD/git-0.env"
check "twin: the remote's pre-receive hook records it too" grep -q "^SIGNGATE_PIN=$PIN\$" "$RECORD/pre-receive.env"
rm -f "$RECORD"/*

expect 0 "sign with the PIN in the environment (the token needs it), notes.push = origin" -- sg sign dist/a.txt
check "the PKCS#11 signature verifies (the PIN was read)" cms_verify "$REPO/dist/a.txt"
check "the event reached the remote" sh -c "git -C '$TRASH/origin.git' notes --ref signatures list | grep -q ."
check "signgate ran git push through the wrapper" grep -q "^argv: .*push" "$RECORD"/git-*.env
check "the hook of the push ran" test -s "$RECORD/pre-receive.env"
check "no PIN in git push's environment" sh -c "! grep -q -F 'SIGNGATE_PIN' '$RECORD'/git-*.env"
check "no PIN in the remote hook's environment" sh -c "! grep -q -F 'SIGNGATE_PIN' '$RECORD/pre-receive.env'"
check "the parent's environment was read (/proc/PPID/environ)" grep -q "^HOME=" "$RECORD/git-0.parent"
check "signgate's own environment, as a child reads it, holds no PIN" sh -c "! grep -a -q -F '$PIN' '$RECORD'/git-*.parent"
rm -f "$RECORD"/*

# the tag hook: git tag runs the hook with the PIN; the hook's git archive and push do not get it
expect 0 "signgate install-hooks" -- sg install-hooks
git -C "$REPO" config tar.tar.gz.command "$TRASH/gzip-rec"
expect 0 "git tag v1.0 with the PIN exported (the hook signs the archive)" -- sh -c "cd '$REPO' && PATH='$SIGNGATE_BUILD:$PATH' SIGNGATE_PIN='$PIN' git tag v1.0"
check "the archive was signed (the hook read the PIN)" cms_verify "$REPO/dist/$(basename "$REPO")-v1.0.tar.gz"
check "the hook's git archive ran the recorder" grep -q "^HOME=" "$RECORD/archive.env"
check "no PIN in the environment of the hook's git archive" sh -c "! grep -q -F 'SIGNGATE_PIN' '$RECORD/archive.env'"
check "the hook's notes.push reached the remote's hook" test -s "$RECORD/pre-receive.env"
check "no PIN in the remote hook's environment" sh -c "! grep -q -F 'SIGNGATE_PIN' '$RECORD/pre-receive.env'"
# twin: git archive run by a plain shell with the PIN exported hands it on
(cd "$REPO" && SIGNGATE_PIN=$PIN git archive --format=tar.gz v1.0 >/dev/null)
check "twin: the compressor records an exported PIN" grep -q "^SIGNGATE_PIN=$PIN\$" "$RECORD/archive.env"

# a wrong PIN from the environment is still the denial it was (exit 3)
printf 'more\n' >"$REPO/dist/b.txt"
expect 3 "a wrong PIN in the environment: denied" -- sh -c "cd '$REPO' && SIGNGATE_PIN=000000 exec '$SIGNGATE' sign dist/b.txt"
done_testing
