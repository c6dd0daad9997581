#!/bin/sh
# signgate check: gate.signer against git user.email and user:OSUSER.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

me=$(id -un)
gate_repo r protectedBranch=main requiredReviews=1 signer=release@example.com
expect 3 "signer not allowed" -- sg check
grep_out "author@example.com (user:$me) is not allowed by gate.signer (release@example.com)" "names both identities"
git -C r config user.email Release@Example.com
expect 0 "signer allowed by git user.email (any case)" -- sg check
grep_out "Release@Example.com is allowed by gate.signer" "names the identity"
git -C r config user.email other@example.com
write_policy r protectedBranch=main requiredReviews=1 signer="user:$me"
git -C r commit -q -am "OS user" -m "Reviewed-by: Bob <bob@example.com>"
expect 0 "signer allowed as user:OSUSER even with user.email set" -- sg check
write_policy r protectedBranch=main requiredReviews=1 signer="user:nobody-$me"
git -C r commit -q -am "someone else" -m "Reviewed-by: Bob <bob@example.com>"
expect 3 "another OS user is not allowed" -- sg check
grep_out "DENY signer" "signer rule denied"
done_testing
