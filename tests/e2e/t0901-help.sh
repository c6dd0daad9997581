#!/bin/sh
# Help and conventions as git's (issue 14): help CMD, CMD --help and -h show
# the manual page (the usage when none is installed), exit 0; the options of
# signgate may follow the command; long output goes through a pager on a
# terminal only; sizes are JSON numbers; a mistyped command gets git's
# "did you mean".
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*')"
expect 0 "a signing to list" -- "$SIGNGATE" sign dist/app.tar.gz

# The manual page: installed beside the program (make install DESTDIR=).
make -s -C "$SG_TOP" install DESTDIR="$TRASH/inst" PREFIX=/usr INSTALL_BIN="$SIGNGATE" >/dev/null
SGI=$TRASH/inst/usr/bin/signgate
for form in "help sign" "sign --help" "sign -h" "--json sign --help"; do
	# shellcheck disable=SC2086
	expect 0 "signgate $form" -- "$SGI" $form
	grep_out "SIGNGATE-SIGN(1)" "  ...shows signgate-sign(1)"
	grep_out "SYNOPSIS" "  ...the page itself"
done
expect 0 "signgate help" -- "$SGI" help
grep_out "SIGNGATE(1)" "  ...shows signgate(1)"
expect 0 "signgate --help" -- "$SGI" --help
grep_out "SIGNGATE(1)" "  ...shows signgate(1) too"
expect 0 "signgate help policy" -- "$SGI" help policy
grep_out "SIGNGATE-POLICY(5)" "  ...shows signgate-policy(5)"
expect 0 "signgate log -h" -- "$SGI" log -h
grep_out "SIGNGATE-LOG(1)" "  ...shows signgate-log(1)"

# No manual page anywhere: the usage text, still exit 0.
mkdir -p "$TRASH/bare/bin" && cp "$SIGNGATE" "$TRASH/bare/bin/signgate"
expect 0 "help sign without manual pages" -- env MANPATH="$TRASH/none" "$TRASH/bare/bin/signgate" help sign
grep_out "usage: signgate sign \[--rev REV\]" "  ...prints the usage"
grep_out "signgate-sign(1) is not installed" "  ...and says the page is missing"
expect 0 "sign --help without manual pages" -- env MANPATH="$TRASH/none" "$TRASH/bare/bin/signgate" sign --help
grep_out "usage: signgate sign" "  ...prints the usage"

# Mistakes are usage errors, with git's "did you mean".
expect 2 "a mistyped command" -- "$SIGNGATE" chek
grep_out "'chek' is not a signgate command" "  ...says so"
grep_out "The most similar command is" "  ...and suggests"
grep_out "	check" "  ...check"
expect 2 "help of a command that does not exist" -- "$SIGNGATE" help nosuch
expect 2 "an unknown option after a command" -- "$SIGNGATE" log --nosuch

# Options of signgate after the command.
"$SIGNGATE" --json log >"$TRASH/before" 2>/dev/null
expect 0 "log --json" -- "$SIGNGATE" log --json
check "  ...the same document as --json log" cmp -s "$TRASH/before" "$TRASH/out"
check "  ...and it is JSON" jq -e 'length == 1' "$TRASH/out"
expect 0 "verify --json FILE --quiet" -- "$SIGNGATE" verify --json dist/app.tar.gz -q
check "  ...JSON" jq -e '.verified == true' "$TRASH/out"
expect 0 "sign --rev HEAD --policy FILE (a global option after a valued one)" -- \
	"$SIGNGATE" sign --rev HEAD --policy "$VT_REPO/.signgate" dist/app.tar.gz
check "  ...the --policy after the command was used: the note says so" \
	sh -c "git notes --ref=signatures show HEAD | grep -q 'Policy: file $VT_REPO/.signgate'"
expect 1 "twin: check -- --json takes --json as a revision (unknown: an error)" -- "$SIGNGATE" check -- --json

# JSON numbers.
expect 0 "log --json" -- "$SIGNGATE" log --json
check "artifact_size is a JSON number" jq -e '.[0].artifact_size | type == "number"' "$TRASH/out"
check "  ...equal to the file's size" jq -e ".[0].artifact_size == $(wc -c <dist/app.tar.gz)" "$TRASH/out"
check "  ...a digest stays a string" jq -e '.[0].artifact_sha256 | type == "string"' "$TRASH/out"

# The pager: on a terminal only (script(1) gives one), never for --json.
# shellcheck disable=SC2016
expect 0 "log on a terminal" -- env SIGNGATE_PAGER='sed "s/^/PAGED: /"' script -qec "$SIGNGATE log" /dev/null
grep_out "PAGED: sign dist/app.tar.gz" "  ...goes through SIGNGATE_PAGER"
expect 0 "PAGER when SIGNGATE_PAGER is unset" -- env -u SIGNGATE_PAGER PAGER='sed "s/^/VIA-PAGER: /"' \
	script -qec "$SIGNGATE log" /dev/null
grep_out "VIA-PAGER: sign dist/app.tar.gz" "  ...goes through PAGER"
expect 0 "log on a terminal with the pager cat" -- env SIGNGATE_PAGER=cat NO_COLOR=1 script -qec "$SIGNGATE log" /dev/null
grep_out "^sign dist/app.tar.gz" "  ...prints directly"
expect 0 "twin: log into a pipe" -- env SIGNGATE_PAGER='sed "s/^/PAGED: /"' "$SIGNGATE" log
no_grep_out "PAGED" "  ...is not paged"
grep_out "^sign dist/app.tar.gz" "  ...and is all there"
expect 0 "twin: log --json on a terminal" -- env SIGNGATE_PAGER='sed "s/^/PAGED: /"' script -qec "$SIGNGATE log --json" /dev/null
no_grep_out "PAGED" "  ...is not paged"
done_testing
