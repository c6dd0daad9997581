#!/bin/sh
# Hostile policies (issue 7 item 3): every key with a malformed value, huge
# values, include sections, policy files that are not regular files. Each is
# refused with exit 1 (an error, not a decision) and "FILE:LINE: what" -- a policy that cannot be read
# exactly never weakens the gate. Covered elsewhere: an unknown key and
# include.path in the policy *blob* (t0101-check-policy.sh), every value
# checker in isolation (tests/unit/test_policy.c), random policies
# (tests/fuzz/fuzz_policy.c).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/gate-lib.sh"
gate_repo r protectedBranch=main requiredReviews=1
reviewed_commit r "x" "Reviewed-by: Bob <bob@example.com>"
P=$TRASH/policy
sg() { timeout 60 "$SIGNGATE" -C "$TRASH/r" "$@"; }
G='[gate]\n\tprotectedBranch = main\n'
PR='[profile "r"]\n\tkey = file:/k\n\tcert = /c\n'
H='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'

printf "$G" >"$P"
expect 0 "the base policy is accepted" -- sg --policy "$P" check

# bad SECTION_TEXT KEY VALUE LINE: the key with that value is refused at LINE
bad() {
	printf "$1\t%s = %s\n" "$2" "$3" >"$P"
	expect 1 "$2 = '$3' refused" -- sg --policy "$P" check
	grep_out "signgate: error: $P:$4: " "  ...with the file and line $4"
}
for kv in protectedBranch= remote= "remote=a b" "remote=-x" "remote=--upload-pack=touch" firstParent=maybe \
	requiredReviews=abc requiredReviews=-1 requiredReviews=99999999999999999999 reviewSource=carrier-pigeon \
	reviewer= allowSelfReview=2 signer= trailer= "trailer=a b:" gerritNotesRef=refs/heads/review \
	gerritLabel= gerritMinScore=x gerritMinScore=0 reviewerKey=0123 reviewerKeyring= allowStaleReviews=x \
	'protectedBranch="main'; do
	bad "$G" "${kv%%=*}" "${kv#*=}" 3
done
for kv in format=x509 key=file:/other pkcs11Module= pkcs11Module=libsofthsm2.so cert=/other chain= trustAnchor= \
	requireHardwareKey=x tsa= tsa=ftp://tsa tsa=notaurl tsaTrustAnchor= requireTimestamp=x test=x artifacts= \
	allowedKey=zz notesRef=refs/heads/x notesRef=refs/notes/../x certExpiryWarnDays=-5 maxKeyAgeDays=x \
	tsaTimeout=0 tsaTimeout=99999999999 tsaAttempts=0 bogus=1; do
	bad "$G$PR" "${kv%%=*}" "${kv#*=}" 6
done
for kv in engine=other database= required=x maxFileSize=x maxFileSize=-1 maxFileSize=99999999999999999999999; do
	bad "$G[scan]\n" "${kv%%=*}" "${kv#*=}" 4
done
for kv in since=yesterday since=2026-02-30T00:00:00Z reason= other=1; do
	bad "$G[revoked \"$H\"]\n" "${kv%%=*}" "${kv#*=}" 4
done
for kv in tagPattern= archive=x artifact= requireNote=x; do bad "$G[release]\n" "${kv%%=*}" "${kv#*=}" 4; done
for kv in githubApi=notaurl githubApi=file:///etc/passwd githubRepository=noslash gitlabApi=x gitlabProject=; do
	bad "$G[forge]\n" "${kv%%=*}" "${kv#*=}" 4
done
for kv in push= push=-oops "push=--upload-pack=touch /tmp/x"; do bad "$G[notes]\n" "${kv%%=*}" "${kv#*=}" 4; done

# sections and syntax
for t in '[unknown]\n\tx = 1\n' '[profile]\n\tformat = cms\n' '[revoked "NOTHEX"]\n\tsince = 2026-01-01T00:00:00Z\n' \
	'[gate "sub"]\n\tx = 1\n' '\tprotectedBranch\n' '\t= x\n'; do
	printf "$G$t" >"$P"
	expect 1 "refused: $(printf "$t" | tr '\n\t' '  ')" -- sg --policy "$P" check
	grep_out "signgate: error: $P:[34]: " "  ...with the file and line"
done
printf '[gate\n' >"$P"
expect 1 "an unclosed section header" -- sg --policy "$P" check

# include sections, in a policy FILE (the blob case is t0101)
printf 'allowSelfReview = true\n' >"$TRASH/inc"
for t in "[include]\n\tpath = $TRASH/inc\n" "[Include]\n\tpath = $TRASH/inc\n" "[includeIf \"gitdir:/\"]\n\tpath = $TRASH/inc\n" \
	"[include \"x\"]\n\tpath = $TRASH/inc\n"; do
	printf "$G$t" >"$P"
	expect 1 "--policy FILE with $(printf "$t" | head -1)" -- sg --policy "$P" check
	grep_out "include sections .* are not allowed" "  ...says includes are not allowed"
done
printf "$G\tinclude.path = $TRASH/inc\n" >"$P"
expect 1 "include.path written as a dotted key" -- sg --policy "$P" check

# huge values and huge files
v=$(head -c 200000 /dev/zero | tr '\0' a)
printf "$G\tprotectedBranch = %s\n" "$v" >"$P"
expect 0 "a 200 kB glob is a valid (if odd) value" -- sg --policy "$P" check
v=$(head -c 1100000 /dev/zero | tr '\0' a)
printf "$G\treviewer = %s\n" "$v" >"$P"
expect 1 "a policy over 1 MiB is refused" -- sg --policy "$P" check
grep_out "$P" "  ...naming the file"
{ printf "$G"; i=0; while [ $i -lt 20000 ]; do printf '\tprotectedBranch = release/r%d\n' $i; i=$((i + 1)); done; } >"$P"
expect 0 "20000 values of one key (under 1 MiB) load" -- sg --policy "$P" check
printf "$G\trequiredReviews = 1\0\n" >"$P"
expect 1 "a NUL byte in the policy" -- sg --policy "$P" check

# policy "files" that are not regular files: no hang; like any policy that
# cannot be read, a denial (exit 3)
expect 1 "--policy /dev/zero (a device) is refused without reading it" -- sg --policy /dev/zero check
mkfifo "$TRASH/fifo"
expect 1 "--policy FIFO is refused without blocking" -- sg --policy "$TRASH/fifo" check
expect 1 "--policy DIR is refused" -- sg --policy "$TRASH" check
printf "$G" >"$TRASH/real" && ln -s "$TRASH/real" "$TRASH/link"
expect 1 "--policy SYMLINK is refused" -- sg --policy "$TRASH/link" check
expect 2 "--policy '' is refused" -- sg --policy "" check
done_testing
