# Helpers for the gate's end-to-end tests (t01xx). Source after test-lib.sh.
#
# gate_repo DIR KEY=VALUE...: a new repository whose main holds a committed
#   .signgate with a [gate] section of the given keys, in a commit reviewed by
#   Reviewer <reviewer@example.com>.
# write_policy DIR KEY=VALUE...: write DIR/.signgate (not committed)
# sg ARGS...: signgate -C $TRASH/r ARGS
write_policy() {
	_d=$1; shift
	{
		echo "[gate]"
		for _kv in "$@"; do printf '\t%s = %s\n' "${_kv%%=*}" "${_kv#*=}"; done
	} >"$_d/.signgate"
}
gate_repo() {
	_d=$1; shift
	git init -q -b main "$_d" || return 1
	write_policy "$_d" "$@"
	git -C "$_d" add .signgate &&
	git -C "$_d" commit -q -m "policy" -m "Reviewed-by: Reviewer <reviewer@example.com>"
}
sg() { "$SIGNGATE" -C "$TRASH/r" "$@"; }
# reviewed_commit DIR MSG TRAILER...: an empty commit whose message carries the trailers
reviewed_commit() {
	_d=$1 _m=$2; shift 2
	_t=""
	for _x in "$@"; do _t="$_t$_x
"; done
	git -C "$_d" commit -q --allow-empty -m "$_m" ${_t:+-m "$_t"}
}
