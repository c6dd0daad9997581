/* A throwaway test PKI for `signgate init --test`. */
#ifndef SG_CLI_TESTPKI_H
#define SG_CLI_TESTPKI_H

/* Make, in `dir` (created 0700 if missing, must not be a symlink):
 *   ca.pem         a self-signed test CA (the test profile's trustAnchor)
 *   codesign.pem   a certificate issued by it, EKU codeSigning
 *   codesign.key   its private key, PEM PKCS#8, mode 0600
 * EC P-256 keys from OpenSSL's C API. The CA key is never written, so
 * nothing else can ever be issued under this CA. `label` names the test CA
 * (e.g. the repository's folder name). Existing files are replaced. */
int sg_testpki_make(const char *dir, const char *label);

#endif
