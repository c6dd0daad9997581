# The functions a script made by tests/lib/doc-run.py calls (one per kind of
# code block). Source it in the shell that runs the script; the script runs
# with `set -e`, so the first failing step stops its page.
#   SG_DOC_PREFIX   where signgate is installed (its bin/ is on PATH)
#   SG_DOC_SCRATCH  a repository for checking policy examples
sg_doc_at() { sg_doc_where=$1; echo "# $1"; }
sg_doc_ok() { echo "ok - $1"; }
sg_doc_fail() { echo "FAIL $sg_doc_where: $*"; exit 1; }
sg_doc_skip() { echo "skip - $1: $2"; }
sg_doc_exit() {
	[ "$3" = "$2" ] || { sg_doc_where=$1; sg_doc_fail "exit $3, the page says $2"; }
	echo "ok - $1 (exit $2, as the page says)"
}
sg_doc_file() {
	sg_doc_at "$1"
	mkdir -p "$(dirname "$2")" && cat >"$2" && echo "ok - $1 wrote $2"
}
sg_doc_policy() {
	sg_doc_at "$1"
	cat >"$SG_DOC_SCRATCH.policy"
	set +e
	signgate -C "$SG_DOC_SCRATCH" --policy "$SG_DOC_SCRATCH.policy" check >"$SG_DOC_SCRATCH.out" 2>&1
	sg_doc_rc=$?
	set -e
	case $sg_doc_rc in
	0|3) echo "ok - $1 is a policy signgate loads" ;;
	*) cat "$SG_DOC_SCRATCH.out"; sg_doc_fail "the policy does not load (exit $sg_doc_rc)" ;;
	esac
}
# note: the block is a note paragraph (or, when its first line is not a
# Signgate- field, fields of an event); stored as the note of a commit in a
# fresh repository, signgate log must read every Signgate-Event paragraph
# of it as an event and warn about none.
sg_doc_note() {
	sg_doc_at "$1"
	r=$SG_DOC_SCRATCH.note
	rm -rf "$r" && git init -q -b main "$r" && git -C "$r" commit -q --allow-empty -m note
	cat >"$r.block"
	if head -n 1 "$r.block" | grep -q '^Signgate-'; then cp "$r.block" "$r.txt"
	else { echo 'Signgate-Event: sign'; cat "$r.block"; } >"$r.txt"; fi
	want=$(awk 'BEGIN { RS = "" } /^Signgate-Event:/ { n++ } END { print n + 0 }' "$r.txt")
	git -C "$r" notes --ref signatures add -C "$(git -C "$r" hash-object -w "$r.txt")" HEAD
	signgate -C "$r" --json log >"$r.out" 2>"$r.err" || { cat "$r.err"; sg_doc_fail "signgate log cannot read the note"; }
	! grep 'warning: note' "$r.err" || sg_doc_fail "signgate log skips a paragraph of the example"
	got=$(jq '[.[] | select(.type == "event")] | length' "$r.out")
	[ "$got" = "$want" ] || sg_doc_fail "signgate log reads $got events in the example, the page shows $want"
	echo "ok - $1 is a note signgate reads ($want event(s))"
}
# in=source: the reader is in signgate's source tree; make installs into
# SG_DOC_PREFIX (PREFIX and BUILD come from the environment) and sudo is
# not needed for that.
sg_doc_source() {
	sg_doc_at "$1"
	(
		cd "$SG_TOP" || exit 1
		sudo() { "$@"; }
		PREFIX=$SG_DOC_PREFIX BUILD=$SIGNGATE_BUILD
		export PREFIX BUILD
		set -e
		eval "$(cat)"
	) || sg_doc_fail "a step failed in the source tree"
	echo "ok - $1"
}
# console: "$ command" lines run (in a subshell each); the lines after one
# must appear in its output, in order.
sg_doc_console() {
	sg_doc_at "$1"
	want=$2
	cat >"$SG_DOC_SCRATCH.console"
	: >"$SG_DOC_SCRATCH.cmds"
	n=0
	while IFS= read -r l; do
		case $l in
		'$ '*) n=$((n + 1)); printf '%s\n' "${l#\$ }" >"$SG_DOC_SCRATCH.cmd.$n"; : >"$SG_DOC_SCRATCH.want.$n" ;;
		*) [ "$n" -gt 0 ] || sg_doc_fail "console block: output before the first \$ line"
		   printf '%s\n' "$l" >>"$SG_DOC_SCRATCH.want.$n" ;;
		esac
	done <"$SG_DOC_SCRATCH.console"
	i=1
	while [ "$i" -le "$n" ]; do
		set +e
		(eval "$(cat "$SG_DOC_SCRATCH.cmd.$i")") >"$SG_DOC_SCRATCH.got" 2>&1
		sg_doc_rc=$?
		set -e
		[ "$sg_doc_rc" = "$want" ] || { cat "$SG_DOC_SCRATCH.got"; sg_doc_fail "\$ $(cat "$SG_DOC_SCRATCH.cmd.$i"): exit $sg_doc_rc, the page says $want"; }
		python3 "$SG_LIB/doc-run.py" match "$SG_DOC_SCRATCH.want.$i" "$SG_DOC_SCRATCH.got" ||
			{ sed 's/^/#   /' "$SG_DOC_SCRATCH.got"; sg_doc_fail "\$ $(cat "$SG_DOC_SCRATCH.cmd.$i"): the output differs from the page"; }
		i=$((i + 1))
	done
	echo "ok - $1 ($n command(s), output as the page shows)"
}
