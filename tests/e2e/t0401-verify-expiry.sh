#!/bin/sh
# A certificate that expires after signing: the timestamped signature stays
# valid (judged at the token's time); the untimestamped twin does not.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_cert short "Short Lived" "$(vt_time -60)" "$(vt_time 20)"
vt_cert short2 "Short Lived Untimestamped" "$(vt_time -60)" "$(vt_time 20)"
end=$(( $(date +%s) + 20 ))
vt_policy "$(vt_profile stamped "$VT_PKI/short.pem" "$VT_PKI/short.key" 'artifacts = dist/a*' 'certExpiryWarnDays = 0')
$(vt_profile plain "$VT_PKI/short2.pem" "$VT_PKI/short2.key" -notsa 'artifacts = dist/b*' 'requireTimestamp = false' 'certExpiryWarnDays = 0')"
head -c 1000 /dev/urandom >dist/a.bin
head -c 1000 /dev/urandom >dist/b.bin
expect 0 "sign with the timestamped profile" -- "$SIGNGATE" sign dist/a.bin
expect 0 "sign with the untimestamped profile" -- "$SIGNGATE" sign dist/b.bin
expect 0 "both verify while the certs are valid" -- "$SIGNGATE" verify dist/a.bin dist/b.bin
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 1; done
expect 0 "timestamped signature still valid after expiry" -- "$SIGNGATE" verify dist/a.bin
grep_out "timestamp  20" "judged at the timestamp"
expect 5 "untimestamped signature invalid after expiry" -- "$SIGNGATE" verify dist/b.bin
grep_out "expired on .* and the signature has no timestamp" "names expiry without timestamp"
expect 3 "sign refuses the expired certificate" -- "$SIGNGATE" sign dist/a.bin
done_testing
