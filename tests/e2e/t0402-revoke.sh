#!/bin/sh
# revoke: the entry lands in the working tree's .signgate only; the impact
# report splits a history of tags at TIME; once committed, verify fails
# signatures at/after TIME and keeps those before; sign refuses the cert.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*')"
cert=$(vt_cert_sha "$VT_PKI/codesign.pem")
for v in 1.0 1.1 1.2; do
	echo "$v" >dist/app-$v.tar.gz && vt_commit "release $v" && git tag "v$v"
	expect 0 "sign for tag v$v" -- "$SIGNGATE" sign --tag "v$v" dist/app-$v.tar.gz
	[ "$v" = 1.1 ] && { sleep 2; since=$(vt_rfc3339 0); sleep 2; }
done
policy_before=$(git rev-parse HEAD:.signgate)
expect 0 "revoke --cert --since --reason" -- "$SIGNGATE" revoke --cert "$cert" --since "$since" --reason "key exposed in CI logs"
grep_out "3 events, 3 artifacts, 3 release tags, 3 commits" "counts every event of the cert"
grep_out "2 events, 2 artifacts, 2 tags, 2 commits" "two before TIME"
grep_out "1 event, 1 artifact, 1 tag, 1 commit" "one after TIME"
grep_out "re-sign the 1 affected artifact" "lists the steps that remain"
grep_out "issuing CA" "tells to notify the CA"
check "the entry is in the working tree's .signgate" sh -c "git config -f .signgate revoked.$cert.since | grep -qx '$since'"
check "and nowhere in the committed policy" test "$(git rev-parse HEAD:.signgate)" = "$policy_before"
expect 0 "verify v1.2 still passes until the revocation is committed" -- "$SIGNGATE" verify dist/app-1.2.tar.gz
expect 0 "revoke --json" -- "$SIGNGATE" --json revoke --cert "$cert" --since "$since" --reason "key exposed in CI logs"
check "json impact: before v1.0 v1.1, after v1.2" sh -c "jq -e '.before.events == 2 and .after.events == 1 and
	(.before.tags | sort) == [\"v1.0\", \"v1.1\"] and .after.tags == [\"v1.2\"]' '$TRASH/out' >/dev/null"
expect 2 "revoke refuses a malformed digest" -- "$SIGNGATE" revoke --cert abc --since "$since" --reason x
expect 2 "revoke refuses a malformed time" -- "$SIGNGATE" revoke --cert "$cert" --since yesterday --reason x

vt_commit "revoke the release cert"
expect 0 "signed before TIME: still valid" -- "$SIGNGATE" verify dist/app-1.0.tar.gz dist/app-1.1.tar.gz
expect 5 "signed after TIME: fails" -- "$SIGNGATE" verify dist/app-1.2.tar.gz
grep_out "revoked since $since" "names the revocation"
echo 1.3 >dist/app-1.3.tar.gz && vt_commit "release 1.3"
expect 3 "sign refuses the revoked cert" -- "$SIGNGATE" sign dist/app-1.3.tar.gz
expect 0 "log lists the revocation" -- "$SIGNGATE" log
grep_out "revoked certificate $cert" "revocation block"
done_testing
