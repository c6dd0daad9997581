#!/bin/sh
# Hooks that degrade (issue 14): when neither git config signgate.program
# nor PATH finds signgate (a GUI client, cron, another shell), fetches,
# branches and tags that are no release pass; a release tag is refused with
# a message naming git config signgate.program. The twins: with the setting,
# the same tag goes through signgate (and an unreviewed one is denied).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/gate-lib.sh"
gate_repo r protectedBranch=main requiredReviews=1
printf '[release]\n\ttagPattern = v*\n\trequireNote = false\n' >>r/.signgate
git -C r commit -q -am "release tags" -m "Reviewed-by: Reviewer <reviewer@example.com>"
(cd r && "$SIGNGATE" install-hooks --all >/dev/null)
NOPATH=/usr/bin:/bin
check "signgate is not on the reduced PATH" sh -c "! PATH=$NOPATH command -v signgate"

expect 0 "a branch commit without signgate" -- env PATH=$NOPATH git -C r commit -q --allow-empty -m x
expect 0 "a tag that is no release without signgate" -- env PATH=$NOPATH git -C r tag build-1
expect 128 "a release tag without signgate is refused" -- env PATH=$NOPATH git -C r tag v1.0
grep_out "signgate: error: cannot run 'signgate'" "  ...says signgate cannot be run"
grep_out "git config signgate.program /path/to/signgate" "  ...and names the setting"
check "  ...no tag v1.0" sh -c "! git -C r rev-parse -q --verify refs/tags/v1.0"
expect 0 "deleting a release tag without signgate" -- sh -c "git -C r -c core.hooksPath=/dev/null tag v0.9 && PATH=$NOPATH git -C r tag -d v0.9"

# A clone with the hook fetches release tags without signgate.
git clone -q r c
(cd c && "$SIGNGATE" install-hooks >/dev/null)
git -C r -c core.hooksPath=/dev/null tag v5.0
expect 0 "git fetch --tags of a release tag without signgate" -- env PATH=$NOPATH git -C c fetch -q --tags origin
check "  ...the tag arrived" sh -c "git -C c rev-parse -q --verify refs/tags/v5.0 >/dev/null"
git -C r -c core.hooksPath=/dev/null tag v5.1
expect 0 "git pull without signgate" -- env PATH=$NOPATH git -C c pull -q --tags origin main
check "  ...the tag arrived" sh -c "git -C c rev-parse -q --verify refs/tags/v5.1 >/dev/null"

# The twins: with signgate.program the hook runs signgate again.
git -C r config signgate.program "$SIGNGATE"
expect 128 "with signgate.program: an unreviewed release tag is denied by the gate" -- env PATH=$NOPATH git -C r tag v1.0
grep_out "signgate: denied: tag v1.0" "  ...by signgate itself"
git -C r commit -q --allow-empty -m "reviewed" -m "Reviewed-by: Reviewer <reviewer@example.com>"
expect 0 "with signgate.program: a reviewed release tag is created" -- env PATH=$NOPATH git -C r tag v1.0
git -C r config --unset signgate.program

# The server side: branches and other tags pass, release tags and notes do not.
git init -q --bare srv.git
(cd srv.git && "$SIGNGATE" install-hooks >/dev/null)
git -C r push -q "$TRASH/srv.git" main 2>/dev/null
expect 0 "server without signgate: a branch push passes" -- env PATH=$NOPATH git -C r push -q "$TRASH/srv.git" main:topic
expect 0 "server without signgate: a tag that is no release passes" -- env PATH=$NOPATH git -C r push -q "$TRASH/srv.git" build-1
expect 1 "server without signgate: a release tag is refused" -- env PATH=$NOPATH git -C r push "$TRASH/srv.git" v1.0
grep_out "remote: signgate: error: this server cannot run 'signgate'" "  ...says so"
grep_out "git config signgate.program /path/to/signgate" "  ...and names the setting for the administrator"
git -C r notes --ref=signatures add -m "a note" HEAD
expect 1 "server without signgate: a notes push is refused" -- env PATH=$NOPATH git -C r push "$TRASH/srv.git" refs/notes/signatures
git -C srv.git config signgate.program "$SIGNGATE"
expect 0 "server with signgate.program: the reviewed release tag is judged and accepted (no requireNote)" -- \
	env PATH=$NOPATH git -C r push "$TRASH/srv.git" v1.0
done_testing
