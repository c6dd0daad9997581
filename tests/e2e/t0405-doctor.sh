#!/bin/sh
# doctor: one line per check; exit 1 on any FAIL.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key")"
expect 0 "doctor on a good setup" -- "$SIGNGATE" doctor
grep_out "^OK    profile release: key:" "key check"
grep_out "^OK    profile release: chain:" "chain check"
grep_out "^OK    profile release: tsa $SG_TSA_URL: answered" "TSA answered a real request"
grep_out "^OK    scan database" "scan database"
grep_out "^WARN  hooks" "hooks not installed: a warning"
no_grep_out "^FAIL" "no failure"
chmod 644 "$VT_PKI/codesign.key"
expect 1 "key file 0644" -- "$SIGNGATE" doctor
grep_out "^FAIL  profile release: key: .*0644" "names the mode"
chmod 600 "$VT_PKI/codesign.key"
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'tsa = http://127.0.0.1:9/')"
sed -i "s|\ttsa = $SG_TSA_URL||" .signgate && vt_commit "dead tsa"
expect 1 "an unreachable TSA" -- "$SIGNGATE" doctor
grep_out "^FAIL  profile release: tsa http://127.0.0.1:9/" "names the TSA"
vt_policy "$(vt_profile release "$VT_PKI/other.pem" "$VT_PKI/other.key")"
expect 1 "a cert that does not chain to the anchor" -- "$SIGNGATE" doctor --no-tsa
grep_out "^FAIL  profile release: chain" "names the chain"
rm -rf "$VT_DB"
expect 1 "missing scan database" -- "$SIGNGATE" doctor --no-tsa
grep_out "^FAIL  scan database" "names it"
done_testing
