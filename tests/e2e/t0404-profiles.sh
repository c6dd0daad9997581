#!/bin/sh
# Certificate separation and rotation enforced by sign.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_cert second "Second Product" "$(vt_time -3600)" "$(vt_time 86400000)"
vt_cert old "Old Key" "$(vt_time -$((400 * 86400)))" "$(vt_time $((400 * 86400)))"
vt_cert soon "Expires Soon" "$(vt_time -3600)" "$(vt_time $((10 * 86400)))"
echo lib >dist/lib.so && echo doc >doc.pdf && vt_commit files
# each signing below is on a new policy commit: a new build of the file (a
# file recorded for one commit is never signed for another), its old
# signature moved away
rebuild() { rm -f dist/app.tar.gz.p7s && echo "app build $1" >dist/app.tar.gz; }

vt_policy "$(vt_profile app "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*.tar.gz')
$(vt_profile lib "$VT_PKI/second.pem" "$VT_PKI/second.key" 'artifacts = dist/*.so')"
expect 0 "each artifact signed by its own profile" -- "$SIGNGATE" sign dist/app.tar.gz dist/lib.so
check "app signed by codesign" sh -c "git notes --ref=signatures show HEAD | grep -q 'Signer-Cert-Sha256: $(vt_cert_sha "$VT_PKI/codesign.pem")'"
check "lib signed by second" sh -c "git notes --ref=signatures show HEAD | grep -q 'Signer-Cert-Sha256: $(vt_cert_sha "$VT_PKI/second.pem")'"
expect 0 "both verify" -- "$SIGNGATE" verify dist/app.tar.gz dist/lib.so
expect 3 "an artifact matching no profile is refused" -- "$SIGNGATE" sign doc.pdf
grep_out "matches no profile" "names it"

vt_policy "$(vt_profile app "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*.tar.gz')
$(vt_profile lib "$VT_PKI/codesign.pem" "$VT_PKI/second.key" 'artifacts = dist/*.so')"
expect 3 "two profiles sharing a cert is refused" -- "$SIGNGATE" sign dist/app.tar.gz
grep_out "share the certificate" "names the shared cert"

vt_policy "$(vt_profile app "$VT_PKI/old.pem" "$VT_PKI/old.key" 'maxKeyAgeDays = 365')"
expect 3 "a cert older than maxKeyAgeDays is refused" -- "$SIGNGATE" sign dist/app.tar.gz
grep_out "maxKeyAgeDays" "says rotate"
vt_policy "$(vt_profile app "$VT_PKI/old.pem" "$VT_PKI/old.key" 'maxKeyAgeDays = 500')"
rebuild 2
expect 0 "the same cert within maxKeyAgeDays signs" -- "$SIGNGATE" sign dist/app.tar.gz

vt_policy "$(vt_profile app "$VT_PKI/soon.pem" "$VT_PKI/soon.key")"
rebuild 3
expect 0 "a cert expiring within certExpiryWarnDays signs" -- "$SIGNGATE" sign dist/app.tar.gz
grep_out "warning: .*certExpiryWarnDays 30" "with a warning"
vt_policy "$(vt_profile app "$VT_PKI/soon.pem" "$VT_PKI/soon.key" 'certExpiryWarnDays = 5')"
rebuild 4
expect 0 "outside the warning window" -- "$SIGNGATE" sign dist/app.tar.gz
no_grep_out "warning" "no warning"
vt_policy "$(vt_profile app "$VT_PKI/expired.pem" "$VT_PKI/expired.key")"
expect 3 "an expired cert is refused" -- "$SIGNGATE" sign dist/app.tar.gz
done_testing
