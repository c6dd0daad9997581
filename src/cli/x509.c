/* git's signing program (gpg.format = x509, gpg.x509.program = signgate):
 *   signgate --status-fd=N -bsau KEY          payload on stdin, PEM signature on stdout
 *   signgate --status-fd=N --verify SIGFILE -  payload on stdin, status lines on fd N
 * Status lines are gpgsm's, as git 2.39's gpg-interface.c reads them. */
#include "cli/cli.h"
#include "core/error.h"
#include "core/git.h"
#include "core/file.h"
#include "hooks/hooks.h"
#include "verify/verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"signgate --status-fd=N -bsau KEY | signgate --status-fd=N --verify SIGFILE - (git's signing program)";

typedef struct x509_args {
	int status_fd;
	const char *key;      /* -bsau KEY */
	const char *sigfile;  /* --verify SIGFILE */
} x509_args;

static int parse(x509_args *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->status_fd = -1;
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--status-fd=", 12)) {
			char *end;
			long fd = strtol(argv[i] + 12, &end, 10);
			if (*end || fd < 0 || fd > 1024)
				return SG_EUSAGE;
			a->status_fd = (int)fd;
		} else if (!strcmp(argv[i], "-bsau") && i + 1 < argc) {
			a->key = argv[++i];
		} else if (!strcmp(argv[i], "--verify") && i + 1 < argc) {
			a->sigfile = argv[++i];
		} else if (!strcmp(argv[i], "-") && a->sigfile) {
			continue;
		} else {
			return SG_EUSAGE;
		}
	}
	return a->status_fd >= 0 && (!a->key != !a->sigfile) ? SG_OK : SG_EUSAGE;
}

int sg_x509_mode(int argc, char **argv)
{
	return argc > 1 && !strncmp(argv[1], "--status-fd=", 12);
}

static int open_repo(git_repository **repo)
{
	if (git_repository_open_ext(repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0) {
		return sg_error_set(SG_ERROR, "not in a git repository (%s)", sg_git_errmsg());
	}
	return SG_OK;
}

/* git 2.39 keeps the signing program's stderr to itself ("gpg failed to
 * sign the data"): say why on the terminal too, when there is one. The
 * audit log has the reason in every case. */
static void tell_terminal(int err)
{
	int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	dprintf(fd, "signgate: %s%s\n", err == SG_EDENIED ? "denied: " : "error: ",
		sg_error_last() ? sg_error_last() : "signing failed");
	close(fd);
}

static int do_sign(const x509_args *a)
{
	sg_cli cli = { 0 };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_buf payload = SG_BUF_INIT;
	sg_x509_signed s;
	int err;

	memset(&s, 0, sizeof(s));
	if ((err = sg_read_fd(&payload, STDIN_FILENO, SG_X509_PAYLOAD_MAX, "the payload on stdin")) < 0 ||
	    (err = open_repo(&repo)) < 0 || (err = sg_cli_load_policy(&pol, repo, &cli)) < 0 ||
	    (err = sg_x509_sign(&s, repo, pol, a->key, payload.ptr, payload.size)) < 0)
		goto done;
	if (fwrite(s.pem.ptr, 1, s.pem.size, stdout) != s.pem.size || fflush(stdout) != 0) {
		err = sg_error_set(SG_ERROR, "cannot write the signature to stdout");
		goto done;
	}
	fprintf(stderr, "signgate: signed the tag on %.12s with profile %s (%s)\nsigngate: gate: %s\n",
		s.commit, s.profile, s.subject, s.gate_summary ? s.gate_summary : "allowed");
	fflush(stderr);
	dprintf(a->status_fd, "[GNUPG:] SIG_CREATED D 1 8 00 %lld %s\n", (long long)s.created, s.cert_sha256);
done:
	if (err < 0)
		tell_terminal(err);
	sg_x509_signed_release(&s);
	sg_buf_dispose(&payload);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}

static int do_verify(const x509_args *a)
{
	sg_cli cli = { 0 };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_buf payload = SG_BUF_INIT, sig = SG_BUF_INIT;
	sg_x509_verified v;
	char when[32] = "";
	int err, fd = a->status_fd;

	memset(&v, 0, sizeof(v));
	dprintf(fd, "[GNUPG:] NEWSIG\n");
	if ((err = sg_read_fd(&payload, STDIN_FILENO, SG_X509_PAYLOAD_MAX, "the payload on stdin")) < 0 ||
	    (err = sg_file_read_all(&sig, a->sigfile, SG_SIG_MAX)) < 0 ||
	    (err = open_repo(&repo)) < 0 || (err = sg_cli_load_policy(&pol, repo, &cli)) < 0) {
		dprintf(fd, "[GNUPG:] ERRSIG 0000000000000000 0 8 00 %lld 4\n", (long long)time(NULL));
		goto done;
	}
	err = sg_x509_verify(&v, pol, NULL, (const unsigned char *)sig.ptr, sig.size, payload.ptr,
			     payload.size);
	if (err == SG_OK) {
		if (v.when)
			sg_time_format(when, sizeof(when), v.when);
		dprintf(fd, "[GNUPG:] GOODSIG %s %s\n", v.id, v.subject);
		dprintf(fd, "[GNUPG:] VALIDSIG %s %s %lld 0 0 0 1 8 00 %s\n", v.id,
			when[0] ? when : "-", (long long)(v.when ? v.when : time(NULL)), v.id);
		dprintf(fd, "[GNUPG:] %s 0 shell\n", v.test ? "TRUST_UNDEFINED" : "TRUST_FULLY");
		fprintf(stderr, "signgate: good signature from \"%s\"\nsigngate:   profile %s%s, certificate "
			"sha256 %s, %s%s\n", v.subject, v.profile, v.test ? " (a TEST profile)" : "", v.id,
			when[0] ? "timestamp " : "no timestamp", when);
	} else if (v.revoked) {
		dprintf(fd, "[GNUPG:] REVKEYSIG %s %s\n", v.id, v.subject);
	} else if (v.bad) {
		dprintf(fd, "[GNUPG:] BADSIG %s %s\n", v.id[0] ? v.id : "0000000000000000",
			v.subject[0] ? v.subject : "unknown signer");
	} else {
		dprintf(fd, "[GNUPG:] ERRSIG %s 0 8 00 %lld 9\n", v.id[0] ? v.id : "0000000000000000",
			(long long)time(NULL));
	}
done:
	sg_buf_dispose(&payload);
	sg_buf_dispose(&sig);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}

int sg_cmd_x509(int argc, char **argv)
{
	x509_args a;
	int rc;

	if (parse(&a, argc, argv) < 0) {
		sg_error_set(SG_EUSAGE, "not a signing-program call git makes");
		return sg_cli_usage(usage_text);
	}
	git_libgit2_init();
	rc = a.key ? do_sign(&a) : do_verify(&a);
	git_libgit2_shutdown();
	return rc;
}
