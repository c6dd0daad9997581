#!/bin/sh
# The hooks' own fallbacks, when git cannot run signgate (signgate.program
# and PATH find nothing): release.tagPattern comes from the policy signgate
# would read -- signgate.policyFile (an absolute, readable file) or the
# policy blob -- with v* when the policy sets none; a policy that cannot be
# read makes every tag a release (refused). And the hooks that
# `signgate install-hooks` writes are hooks/ byte for byte (one source).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/gate-lib.sh"
gate_repo r protectedBranch=main requiredReviews=1
(cd r && "$SIGNGATE" install-hooks --all >/dev/null)
for h in reference-transaction pre-receive; do
	check "installed $h is hooks/$h, byte for byte" cmp "$SG_TOP/hooks/$h" "r/.git/hooks/$h"
done
git init -q --bare srv.git
(cd srv.git && "$SIGNGATE" install-hooks >/dev/null)
check "the server's pre-receive is hooks/pre-receive" cmp "$SG_TOP/hooks/pre-receive" srv.git/hooks/pre-receive
git -C r config signgate.program /nonexistent/signgate
git -C srv.git config signgate.program /nonexistent/signgate
git -C r push -q "$TRASH/srv.git" main 2>/dev/null
tag() { git -C r tag "$1"; }
push() { git -C r push -q "$TRASH/srv.git" "refs/tags/$1"; }
gone() { check "  ...no tag $1" sh -c "! git -C r rev-parse -q --verify refs/tags/$1"; }

# The policy blob sets no tagPattern: v* (signgate's default).
expect 0 "no tagPattern: a tag that is not v* passes" -- tag build-1
expect 0 "  ...and is accepted by the server" -- push build-1
expect 128 "no tagPattern: v2.0 is a release, refused" -- tag v2.0
grep_out "release tag v2.0 cannot be gated" "  ...says which tag"
gone v2.0
git -C r -c core.hooksPath=/dev/null tag v2.0
expect 1 "  ...and the server refuses it" -- push v2.0

# signgate.policyFile: its tagPattern, not the blob's, not v*.
printf '[gate]\n\tprotectedBranch = main\n[release]\n\ttagPattern = rel-*\n' >"$TRASH/admin.policy"
git -C r config signgate.policyFile "$TRASH/admin.policy"
git -C srv.git config signgate.policyFile "$TRASH/admin.policy"
expect 0 "policyFile says rel-*: v3.0 is no release there" -- tag v3.0
expect 0 "  ...and the server accepts it" -- push v3.0
expect 128 "policyFile says rel-*: rel-1 is refused" -- tag rel-1
gone rel-1
git -C r -c core.hooksPath=/dev/null tag rel-1
expect 1 "  ...and the server refuses it" -- push rel-1
grep_out "so rel-1 cannot be checked" "  ...naming it"

# A policy that cannot be read: every tag is a release.
for bad in "$TRASH/no-such.policy" "$TRASH" "$TRASH/broken.policy" "admin.policy"; do
	printf '[release\n' >"$TRASH/broken.policy"
	git -C r config signgate.policyFile "$bad"
	git -C srv.git config signgate.policyFile "$bad"
	expect 128 "policyFile $bad cannot be read: even build-2 is refused" -- tag build-2
	gone build-2
	git -C r -c core.hooksPath=/dev/null tag build-2
	expect 1 "  ...and the server refuses it" -- push build-2
	git -C r tag -d build-2 >/dev/null
done
# The policy blob cannot be read either: every tag.
git -C r config --unset signgate.policyFile
git -C r config signgate.policyRef refs/heads/no-such-branch
expect 128 "no policy blob at signgate.policyRef: build-3 is refused" -- tag build-3
git -C r config --unset signgate.policyRef
expect 0 "the twin: the policy blob again, build-3 passes" -- tag build-3
done_testing
