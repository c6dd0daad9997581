#!/bin/sh
# templates/ci: the GitHub Actions and GitLab CI snippets are valid YAML and
# their signing job, run as shell against a local "server" (a bare origin),
# signs a tag of a reviewed commit and pushes the notes; on an unreviewed
# tag the job fails at the gate and the server's notes do not change.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }

for f in github-actions.yml gitlab-ci.yml; do
	check "templates/ci/$f is valid YAML" python3 -c "import sys, yaml; yaml.safe_load(open(sys.argv[1]))" "$SG_TOP/templates/ci/$f"
done
check "the GitHub workflow runs on v* tags" python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d[True]['push']['tags'] == ['v*']" "$SG_TOP/templates/ci/github-actions.yml"
check "the GitLab job runs on v tags only" python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert 'CI_COMMIT_TAG' in d['sign']['rules'][0]['if']" "$SG_TOP/templates/ci/gitlab-ci.yml"

# a CI checkout has no local main: the policy judges refs/remotes/origin/main
sg_policy_text | sed 's|^\tprotectedBranch = main$|&\n\tremote = origin|' | sg_commit_policy
sg_reviewed_commit src/release.c 'int release(void) { return 1; }'
git -C "$REPO" tag v1.0
git clone -q --bare "$REPO" "$TRASH/origin.git"

# the jobs call `signgate` from PATH, as on a runner
mkdir -p "$TRASH/bin" && ln -s "$SIGNGATE" "$TRASH/bin/signgate" && PATH=$TRASH/bin:$PATH

run_job() { # KIND TAG DIR
	rm -rf "$3" && git clone -q "$TRASH/origin.git" "$3" && git -C "$3" checkout -q "$2" &&
	mkdir -p "$3/dist" && git -C "$3" archive --prefix=hello/ -o "dist/hello-$2.tar.gz" "$2" &&
	python3 "$SG_LIB/ci-steps.py" "$1" "$SG_TOP/templates/ci/$([ "$1" = github ] && echo github-actions.yml || echo gitlab-ci.yml)" >"$TRASH/job.sh" &&
	(cd "$3" && GITHUB_REF_NAME=$2 CI_COMMIT_TAG=$2 CI_DEFAULT_BRANCH=main sh "$TRASH/job.sh")
}
notes_on_server() { git -C "$TRASH/origin.git" notes --ref signatures list 2>/dev/null | wc -l; }

expect 0 "the GitHub job signs tag v1.0" -- run_job github v1.0 "$TRASH/gh"
check "openssl cms -verify accepts the signed tarball" cms_verify "$TRASH/gh/dist/hello-v1.0.tar.gz"
check "the server has the notes, with Tag: v1.0" sh -c "git -C '$TRASH/origin.git' log --notes=signatures -1 --format=%N v1.0 | grep -q '^Tag: v1.0\$'"
expect 0 "the GitLab job signs it again and pushes after the GitHub job's notes" -- run_job gitlab v1.0 "$TRASH/gl"
check "the server's note now has both events" test "$(git -C "$TRASH/origin.git" log --notes=signatures -1 --format=%N v1.0 | grep -c '^Signgate-Event: sign')" = 2
check "openssl cms -verify accepts the GitLab job's signature" cms_verify "$TRASH/gl/dist/hello-v1.0.tar.gz"

# denial twins: a tag on an unreviewed commit
git -C "$REPO" checkout -q -b feature
commit_file "$REPO" src/evil.c 'int evil;' "unreviewed"
git -C "$REPO" tag v1.1
git -C "$REPO" push -q "$TRASH/origin.git" feature v1.1
before=$(git -C "$TRASH/origin.git" rev-parse refs/notes/signatures)
for kind in github gitlab; do
	expect 3 "the $kind job fails at the gate on unreviewed v1.1" -- run_job $kind v1.1 "$TRASH/$kind-bad"
	grep_out "DENY" "the $kind job shows the gate's verdict"
	check "no signature was made by the $kind job" test ! -e "$TRASH/$kind-bad/dist/hello-v1.1.tar.gz.p7s"
done
check "the server's notes did not change" test "$(git -C "$TRASH/origin.git" rev-parse refs/notes/signatures)" = "$before"
done_testing
