#!/bin/sh
# Timestamps: every TSA fault with requireTimestamp is exit 1 with nothing
# published and a message naming each TSA; failover to a second TSA; a test
# profile (requireTimestamp = false) signs without a timestamp and says so.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
printf 'artifact\n' >"$REPO/dist/a.txt"
good_url=$SG_TSA_URL

# policy with the given TSA URL(s) for the release profile, short timeouts
tsa_policy() {
	sg_policy_text | awk -v urls="$*" '
		/^\ttsa = / && !done { n = split(urls, u, " "); for (i = 1; i <= n; i++) print "\ttsa = " u[i];
			print "\ttsaTimeout = 3"; print "\ttsaAttempts = 2"; done = 1; next }
		{ print }' >"$TRASH/policy"
}

for mode in http500 garbage slow wrong-nonce wrong-imprint untrusted huge badtype rejected; do
	sg_tsa_start "$TSAPKI" "$mode" --slow-seconds 8 >/dev/null
	url=$SG_TSA_URL
	tsa_policy "$url"
	expect 1 "TSA fault '$mode' with requireTimestamp: operational error" -- sg --policy "$TRASH/policy" sign dist/a.txt
	grep_out "$url" "the message names the TSA ($mode)"
	check "nothing published ($mode)" sh -c "[ ! -e '$REPO/dist/a.txt.p7s' ] && ! ls -a '$REPO/dist' | grep -q tmp"
	check "no event recorded ($mode)" sh -c "! git -C '$REPO' notes --ref signatures list 2>/dev/null | grep -q ."
	sg_tsa_stop "$SG_TSA_PID"
done

# first TSA down, second fine: signs, and the note names the second
tsa_policy "http://127.0.0.1:1/" "$good_url"
expect 0 "first TSA down, second fine: signed" -- sg --policy "$TRASH/policy" sign dist/a.txt
check "the note names the TSA that answered" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Timestamp: .*($good_url)'"
check "the token verifies with openssl ts" ts_verify_p7s "$REPO/dist/a.txt"
check "the policy file is named in the note" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Policy: file $TRASH/policy sha256 '"

# a profile that does not require a timestamp signs without, and says why
printf 'test\n' >"$REPO/test/t.bin"
sg_policy_text | sed "s|tsa = $good_url|tsa = http://127.0.0.1:1/\n\ttsaTimeout = 2\n\ttsaAttempts = 1|" >"$TRASH/policy"
expect 0 "test profile with its TSA down: signed without timestamp" -- sg --policy "$TRASH/policy" sign test/t.bin
check "the note says there is no timestamp and why" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Timestamp: none (.*requireTimestamp = false)'"
check "the signature still verifies" cms_verify "$REPO/test/t.bin" "$PKI/other-ca.pem"
check "and carries no token" sh -c "! python3 '$SG_LIB/p7s-token.py' '$REPO/test/t.bin.p7s' '$TRASH/t1' '$TRASH/t2' 2>/dev/null"

# the artifact modified while the (slow) TSA answers: detected, nothing published
sg_tsa_start "$TSAPKI" slow --slow-seconds 3 >/dev/null
tsa_policy "$SG_TSA_URL"
sed -i 's/tsaTimeout = 3/tsaTimeout = 10/' "$TRASH/policy"
printf 'original\n' >"$REPO/dist/m.txt"
(cd "$REPO" && "$SIGNGATE" --policy "$TRASH/policy" sign dist/m.txt >"$TRASH/m.out" 2>&1; echo $? >"$TRASH/m.rc") &
sleep 1.5
printf 'modified after the scan\n' >>"$REPO/dist/m.txt"
wait
check "a file modified between scan and signature: exit 1" test "$(cat "$TRASH/m.rc")" = 1
check "the message says it changed" grep -q "changed" "$TRASH/m.out"
check "no signature for the modified file" test ! -e "$REPO/dist/m.txt.p7s"
done_testing
