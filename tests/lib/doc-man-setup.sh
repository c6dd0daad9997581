# The repository the EXAMPLES of docs/man/signgate-{verify,log,revoke}.1 run
# in; a hidden block of each page sources it (.ig, which man does not show).
# hello/: profile "release" (the test PKI's key as a file, no token, TSA or
# scan database needed), v1.0 signed for its archive dist/hello-1.0.tar.gz,
# v1.1 a later, unsigned tag; release.pem is the signer's certificate.
git init -q -b main hello && cd hello
signgate init --test >/dev/null 2>&1
pki=$PWD/.git/signgate/test-pki
cp "$pki/codesign.pem" release.pem
cat >.signgate <<POLICY
[gate]
	protectedBranch = main
	requiredReviews = 1
[profile "release"]
	format = cms
	key = file:$pki/codesign.key
	cert = $pki/codesign.pem
	trustAnchor = $pki/ca.pem
	requireHardwareKey = false
	requireTimestamp = false
[scan]
	required = false
POLICY
git add .signgate && git commit -q -m "signgate policy" -m "Reviewed-by: Bob <bob@example.com>"
git tag v1.0 && mkdir -p dist && git archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz v1.0
signgate sign --tag v1.0 dist/hello-1.0.tar.gz >/dev/null 2>&1
git commit -q --allow-empty -m "After 1.0" -m "Reviewed-by: Bob <bob@example.com>" && git tag v1.1
