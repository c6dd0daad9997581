#!/bin/sh
# signgate check: the reviews rule (trailers, gerrit notes, counting).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=2
reviewed_commit r "one review" "Reviewed-by: Bob <bob@example.com>"
expect 3 "1 of 2 reviews" -- sg check
grep_out "signgate: denied: 1 of 2 required reviews on $(git -C r rev-parse --short=7 HEAD) (bob@example.com)" "the DESIGN's diagnostic"

reviewed_commit r "two reviews" "Reviewed-by: Bob <bob@example.com>" "Approved-by: Carol <carol@example.com>"
expect 0 "2 of 2 reviews" -- sg check
grep_out "2 of 2 required reviews on .* (bob@example.com, carol@example.com)" "both counted"

reviewed_commit r "self" "Reviewed-by: Bob <bob@example.com>" "Reviewed-by: Author <author@example.com>"
expect 3 "self-review does not count" -- sg check
grep_out "the author's own review does not count (author@example.com)" "says why"
self=$(git -C r rev-parse HEAD)

reviewed_commit r "twice" "Reviewed-by: Bob <bob@example.com>" "reviewed-by:   Bob <BOB@Example.com>  "
expect 3 "same reviewer twice, different case, counts once" -- sg check
grep_out "1 of 2 required reviews" "counted once"
twice=$(git -C r rev-parse HEAD)

reviewed_commit r "outsider" "Reviewed-by: Bob <bob@example.com>" "Reviewed-by: Olga <olga@elsewhere.org>"
outsider=$(git -C r rev-parse HEAD)
expect 0 "any reviewer when gate.reviewer is unset" -- sg check "$outsider"

two="Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
# Policy change: allow-list and self review (the policy at main's tip judges older commits too).
write_policy r protectedBranch=main requiredReviews=2 reviewer='*@example.com'
git -C r commit -q -am "allow-list" -m "$two"
expect 3 "reviewer outside the allow-list" -- sg check "$outsider"
grep_out "not allowed by gate.reviewer (olga@elsewhere.org)" "says who and why"
expect 0 "allow-listed reviewers" -- sg check

write_policy r protectedBranch=main requiredReviews=2 allowSelfReview=true
git -C r commit -q -am "self ok" -m "$two"
expect 0 "self-review with allowSelfReview" -- sg check "$self"
expect 3 "duplicate still counts once with allowSelfReview" -- sg check "$twice"

# Gerrit review notes.
write_policy r protectedBranch=main requiredReviews=1 reviewSource=gerrit
git -C r commit -q -am "gerrit" -m "Reviewed-by: Bob <bob@example.com>"
reviewed_commit r "change" "Change-Id: I123"
git -C r notes --ref=refs/notes/review add -m "Code-Review+1: Gina <gina@example.com>
Verified+1: CI <ci@example.com>" HEAD
expect 3 "gerrit Code-Review+1 is not enough" -- sg check
grep_out "Code-Review+1 is below +2 (gina@example.com)" "says the score is too low"
git -C r notes --ref=refs/notes/review add -f -m "Code-Review+2: Gina <gina@example.com>
Submitted-by: Gina <gina@example.com>" HEAD 2>/dev/null
expect 0 "gerrit Code-Review+2" -- sg check
grep_out "1 of 1 required review on .* (gina@example.com)" "gerrit reviewer counted"
git -C r notes --ref=refs/notes/review add -f -m "Code-Review-2: Gina <gina@example.com>" HEAD 2>/dev/null
expect 3 "gerrit Code-Review-2" -- sg check

# A source the policy leaves unusable (here: github with no repository set)
# is a configuration error: exit 1, nothing allowed (fail closed).
write_policy r protectedBranch=main requiredReviews=1 reviewSource=trailers
printf '\treviewSource = github\n' >>r/.signgate
git -C r commit -q -am "github too" -m "Reviewed-by: Bob <bob@example.com>"
expect 1 "unusable review source: an error" -- sg check
grep_out "reviewSource github needs forge.githubRepository" "says so"
done_testing
