#!/bin/sh
# Secret hygiene (issue 7 item 6): a known, distinctive PIN is the SoftHSM
# user PIN and the OpenPGP passphrase; every command runs with it, and it
# must appear in none of: stdout/stderr of every command, any git object
# (notes of every notes ref, their commits; `git log --notes -p`), the audit
# log, the signature and timestamp files, the policy. While a secret is held
# (a sign waiting on a slow TSA): core dumps are off (Max core file size 0),
# and the PIN is in neither argv (/proc/PID/cmdline, ps) nor -- when it came
# from pin-source=file: -- the environment.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/gpg.sh"
PIN=PIN-7f3a9c-TEST
OUTS=$TRASH/outs
mkdir -p "$OUTS"

# the fixture of sign-lib.sh, with the test PIN
PKI=$TRASH/pki TSAPKI=$TRASH/tsapki CLAMDB=$TRASH/clamdb REPO=$TRASH/repo
export PKI TSAPKI CLAMDB REPO
sg_pki_make "$PKI" >/dev/null && sg_tsa_pki "$TSAPKI" >/dev/null &&
	sg_softhsm_init "$TRASH/hsm" release "$PIN" 87654321 "$PKI" >/dev/null &&
	sg_make_clamdb "$CLAMDB" && sg_tsa_start "$TSAPKI" ok >/dev/null || { echo "fixture failed"; exit 1; }
sg_gpg_init "$GNUPGHOME" && sg_at_exit "gpgconf --kill all"
FPR=$(sg_gpg_genkey "Release Key" release@example.com "$PIN") && [ -n "$FPR" ] || { echo "no gpg key"; exit 1; }
sg_gpg_kill
git init -q "$REPO"
{ sg_policy_text; cat <<POLICY
[profile "pgp"]
	format = openpgp
	key = $FPR
	requireHardwareKey = false
	tsa = $SG_TSA_URL
	tsaTrustAnchor = $TSAPKI/tsa-ca.pem
	artifacts = pgp/*
POLICY
} | sg_commit_policy
mkdir -p "$REPO/dist" "$REPO/pgp"
sg_reviewed_commit src/hello.c 'int main(void) { return 0; }'
printf 'artifact\n' >"$REPO/dist/a.txt"
printf 'pgp artifact\n' >"$REPO/pgp/b.txt"
export SIGNGATE_PIN=$PIN

# run NAME CODE ARGS...: signgate in the repo, output kept for the final grep
n=0
run() {
	name=$1 code=$2; shift 2
	n=$((n + 1))
	expect "$code" "$name" -- sh -c 'cd "$REPO" && exec "$SIGNGATE" "$@"' sh "$@"
	cp "$TRASH/out" "$OUTS/$n.out"; cp "$TRASH/err" "$OUTS/$n.err"
}
run "check" 0 check
run "check --json" 0 --json check
run "sign (cms, PKCS#11 token with the PIN)" 0 sign dist/a.txt
check "the cms signature verifies" cms_verify "$REPO/dist/a.txt"
run "sign (openpgp, the PIN as passphrase)" 0 sign pgp/b.txt
check "gpg verifies the openpgp signature" gpg --verify "$REPO/pgp/b.txt.asc" "$REPO/pgp/b.txt"
run "sign --json" 0 --json sign dist/a.txt
run "verify" 0 verify dist/a.txt pgp/b.txt
run "verify --json" 0 --json verify dist/a.txt pgp/b.txt
run "log" 0 log
run "log --json" 0 --json log
run "doctor --login" 0 doctor --login --no-tsa
run "revoke" 0 revoke --cert "$(printf x | sha256sum | cut -d' ' -f1)" --since 2026-01-01T00:00:00Z --reason "test"
sg_gpg_kill
SIGNGATE_PIN=wrong-pin-0000
run "sign with a wrong PIN is refused" 3 sign dist/a.txt
SIGNGATE_PIN=$PIN
run "check (a denial): feature branch" 3 check "$(git -C "$REPO" commit-tree -m x 'HEAD^{tree}')"

# the twin: the grep finds the PIN where it is planted
printf 'planted %s\n' "$PIN" >"$TRASH/planted"
check "the twin: grep finds a planted PIN" grep -q -F "$PIN" "$TRASH/planted"
rm -f "$TRASH/planted"

check "the PIN is in no command's stdout or stderr" sh -c "! grep -r -l -F '$PIN' '$OUTS'"
git -C "$REPO" cat-file --batch-all-objects --batch >"$TRASH/objects" 2>/dev/null
check "the object dump has the notes in it" grep -q -F "Signgate-Event: sign" "$TRASH/objects"
check "the PIN is in no git object (notes, notes commits, policy, commits)" sh -c "! grep -q -a -F '$PIN' '$TRASH/objects'"
for ref in $(git -C "$REPO" for-each-ref --format='%(refname)' refs/notes); do
	check "the PIN is not in git log --notes=$ref -p" sh -c "! git -C '$REPO' log -p --notes='$ref' --all | grep -q -a -F '$PIN'"
done
check "the audit log exists" test -s "$REPO/.git/signgate/audit.log"
check "the PIN is not in the audit log" sh -c "! grep -q -a -F '$PIN' '$REPO/.git/signgate/audit.log'"
check "the PIN is in no file of the repository (signatures, .tsr, policy, .git)" \
	sh -c "! grep -r -l -a -F '$PIN' '$REPO'"

# while a secret is held: a sign waiting on a slow TSA
sg_tsa_start "$TSAPKI" slow --slow-seconds 8 --log "$TRASH/slow.log" >/dev/null
printf '%s\n' "$PIN" >"$TRASH/pinfile" && chmod 600 "$TRASH/pinfile"
sg_policy_text | sed "s|^\(\ttsa = \).*|\1$SG_TSA_URL|; s|object=codesign\"|object=codesign;pin-source=file:$TRASH/pinfile\"|" >"$TRASH/slow-policy"
check "the slow policy reads the PIN from a file" grep -q "pin-source=file:" "$TRASH/slow-policy"
unset SIGNGATE_PIN
(cd "$REPO" && exec "$SIGNGATE" --policy "$TRASH/slow-policy" sign dist/a.txt >"$TRASH/slow.out" 2>&1) &
pid=$!
i=0
while [ ! -s "$TRASH/slow.log" ] && [ $i -lt 300 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
check "sign is waiting on the TSA (the PIN was used already)" test -s "$TRASH/slow.log"
cp "/proc/$pid/limits" "$TRASH/limits" 2>/dev/null
tr '\0' ' ' <"/proc/$pid/cmdline" >"$TRASH/cmdline" 2>/dev/null
tr '\0' '\n' <"/proc/$pid/environ" >"$TRASH/environ" 2>/dev/null
ps -ww -o args= -p "$pid" >"$TRASH/ps" 2>/dev/null
check "core dumps are off while the secret is held (Max core file size 0 0)" \
	sh -c "grep -q '^Max core file size  *0  *0 ' '$TRASH/limits'"
check "argv is the command line, read" grep -q "sign dist/a.txt" "$TRASH/cmdline"
check "the PIN is not in argv (/proc/PID/cmdline)" sh -c "! grep -q -F '$PIN' '$TRASH/cmdline'"
check "the PIN is not in ps output" sh -c "! grep -q -F '$PIN' '$TRASH/ps'"
check "the environment was read" grep -q "^HOME=" "$TRASH/environ"
check "the PIN is not in the environment (pin-source=file:)" sh -c "! grep -q -F '$PIN' '$TRASH/environ'"
wait $pid
check "the slow sign completed (exit 0)" test $? -eq 0
check "the PIN is not in its output" sh -c "! grep -q -F '$PIN' '$TRASH/slow.out'"
done_testing
