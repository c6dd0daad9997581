# Helpers for the hostile-input tests (t075x). Source after sign-lib.sh.
#
#   sg ARGS...            signgate in $REPO, bounded by `timeout 60` (a hang
#                         shows as exit 124, never as a pass)
#   snap NAME             record every path under $TRASH (with size and
#                         mtime), leaving out the stores the fixture and
#                         signgate itself write to: $REPO/.git (notes, audit
#                         log), the token, the TSA's work dir, HOME, GNUPGHOME
#   new_paths A B         paths added or changed between snapshots A and B
#   only_written A B WHAT EXPECTED...  check that exactly EXPECTED (paths
#                         relative to $TRASH, "./repo/dist/x.p7s") appeared
sg() { (cd "$REPO" && timeout 60 "$SIGNGATE" "$@"); }
snap() {
	(cd "$TRASH" && find . \( -path ./repo/.git -o -path ./hsm -o -path ./tsapki -o -path ./home \
		-o -path ./gnupg -o -name 'snap.*' -o -path ./out -o -path ./err -o -name '*.err' \
		-o -path ./token.der -o -path ./sigvalue.bin \) -prune -o -type d -printf '%p/\n' -o -printf '%p\t%s\t%T@\n' |
		LC_ALL=C sort) >"$TRASH/snap.$1"
}
new_paths() { LC_ALL=C comm -13 "$TRASH/snap.$1" "$TRASH/snap.$2" | cut -f1; }
only_written() {
	_a=$1 _b=$2 _what=$3; shift 3
	_want=$(for _p in "$@"; do printf '%s\n' "$_p"; done | LC_ALL=C sort)
	_got=$(new_paths "$_a" "$_b")
	if [ "$_got" = "$_want" ]; then ok "$_what"; else
		not_ok "$_what"; echo "#   wanted: $(echo $_want)"; echo "#   got:    $(echo $_got)"; fi
}
