# Shared helpers for tests/e2e/tNNNN-*.sh (git's t/ style). Source it.
# Each test runs in its own short temp dir, removed at exit; every check
# prints "ok N - what" or "not ok N - what" and the script exits non-zero
# if any check failed.
set -u
: "${SIGNGATE:?run through tests/run.sh or make check}"
: "${SG_TOP:?}"
SG_LIB=$SG_TOP/tests/lib
TRASH=$(mktemp -d /tmp/sg.XXXXXX)
export HOME=$TRASH/home GNUPGHOME=$TRASH/gnupg
mkdir -p "$HOME" && chmod 700 "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Author GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME=Author GIT_COMMITTER_EMAIL=author@example.com
export LC_ALL=C TZ=UTC
unset SIGNGATE_PIN GITHUB_TOKEN GITLAB_TOKEN
git config --global init.defaultBranch main
git config --global user.name Author
git config --global user.email author@example.com
sg_cleanup_hooks=""
sg_at_exit() { sg_cleanup_hooks="$1; $sg_cleanup_hooks"; }
sg_exit() {
	eval "$sg_cleanup_hooks" 2>/dev/null
	[ -n "${SG_KEEP:-}" ] || rm -rf "$TRASH"
}
trap sg_exit EXIT
cd "$TRASH" || exit 1
sg_n=0 sg_bad=0
ok() { sg_n=$((sg_n + 1)); echo "ok $sg_n - $*"; }
not_ok() { sg_n=$((sg_n + 1)); sg_bad=$((sg_bad + 1)); echo "not ok $sg_n - $*"; }
# expect CODE DESCRIPTION -- CMD...: run CMD, check its exit status
expect() {
	want=$1 what=$2; shift 3
	"$@" >"$TRASH/out" 2>"$TRASH/err"; got=$?
	if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else
		not_ok "$what: exit $got, wanted $want"; sed 's/^/#   /' "$TRASH/out" "$TRASH/err"; fi
}
# grep_out PATTERN DESCRIPTION: the last expect's stdout+stderr matches
grep_out() {
	if cat "$TRASH/out" "$TRASH/err" | grep -q -e "$1"; then ok "$2"; else
		not_ok "$2: no '$1' in output"; sed 's/^/#   /' "$TRASH/out" "$TRASH/err"; fi
}
no_grep_out() {
	if cat "$TRASH/out" "$TRASH/err" | grep -q -e "$1"; then
		not_ok "$2: unexpected '$1'"; sed 's/^/#   /' "$TRASH/out" "$TRASH/err"; else ok "$2"; fi
}
check() { what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
done_testing() { echo "# $sg_n checks, $sg_bad failed"; [ "$sg_bad" -eq 0 ]; exit $?; }

# commit_file REPO FILE CONTENT [MSG...]: commit with the message given (may carry trailers)
commit_file() {
	r=$1 f=$2 c=$3; shift 3
	printf '%s\n' "$c" >"$r/$f" && git -C "$r" add "$f" && git -C "$r" commit -q -m "${1:-change $f}" ${2:+-m "$2"}
}
