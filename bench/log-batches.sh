#!/bin/sh
# bench/log-batches.sh SIGNGATE DIR BATCHES SIZE: a repository in DIR/repo
# whose refs/notes/signatures holds BATCHES x SIZE attested signing events,
# each batch a real `signgate sign` of SIZE small files on a commit of its
# own (test profile, file key, test PKI in DIR/pki, policy in DIR/policy).
# The signed files are removed after each batch; the notes stay.
set -u
SIGNGATE=$1 gen=$2 batches=$3 size=$4
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib/pki.sh"
mkdir -p "$gen" && sg_pki_make "$gen/pki" >/dev/null || exit 1
cat >"$gen/policy" <<P
[profile "bench"]
	key = file:$gen/pki/codesign.key
	cert = $gen/pki/codesign.pem
	chain = $gen/pki/chain.pem
	trustAnchor = $gen/pki/ca.pem
	test = true
[scan]
	required = false
P
repo=$gen/repo
git init -q -b main "$repo" && git -C "$repo" commit -q --allow-empty -m root || exit 1
b=1
while [ $b -le "$batches" ]; do
	git -C "$repo" commit -q --allow-empty -m "release $b" -m "Reviewed-by: Rev <rev@example.com>" &&
		git -C "$repo" tag "v1.$b" || exit 1
	mkdir -p "$repo/dist/$b"
	awk -v b="$b" -v n="$size" -v d="$repo/dist/$b" 'BEGIN { for (i = 1; i <= n; i++) { f = d "/app-" b "-" i ".tar.gz"; print "artifact " b " " i > f; close(f) } }'
	(cd "$repo" && "$SIGNGATE" -q --policy "$gen/policy" --profile bench sign --tag "v1.$b" dist/"$b"/*.tar.gz >/dev/null) ||
		{ echo "bench/log-batches.sh: batch $b failed" >&2; exit 1; }
	rm -rf "$repo/dist/$b"
	b=$((b + 1))
done
git -C "$repo" gc -q
