/* signgate init [--test]: write .signgate from the installed templates;
 * with --test, a test PKI and a policy whose "test" profile uses it.
 *
 * Templates are looked up, first match wins, in:
 *   $SIGNGATE_TEMPLATE_DIR
 *   <dir of the program>/../share/signgate/templates   (installed: <prefix>/bin/signgate)
 *   <dir of the program>/../templates                  (build tree: build/signgate)
 *   <dir of the program>/../../templates               (build tree: build-x/sub/signgate) */
#include "cli/cli.h"
#include "cli/testpki.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] = "signgate init [--test]";

#define SG_TEMPLATE_MAX (256 * 1024)
#define SG_RELEASE_TEMPLATE "release-policy.signgate"
#define SG_TEST_TEMPLATE "test-policy.signgate"
#define SG_PKI_PLACEHOLDER "@TEST_PKI@"

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Hand over `p` as *out, resolved (a packaged share/ may hold symlinks,
 * and the template is then read without following any). */
static int found(char **out, char *p)
{
	char *real = realpath(p, NULL);

	free(p);
	if (!real)
		return sg_error_set(SG_ERROR, "cannot resolve a template path: %s", strerror(errno));
	*out = real;
	return SG_OK;
}

/* Find `name` in the template folders; *out is malloc'd. */
static int template_path(char **out, const char *name)
{
	static const char *const rel[] = { "../share/signgate/templates", "../templates",
					   "../../templates" };
	char exe[PATH_MAX], *bindir, *p = NULL;
	const char *env = getenv("SIGNGATE_TEMPLATE_DIR");
	ssize_t n;
	size_t i;

	if (env && env[0]) {
		if (asprintf(&p, "%s/%s", env, name) < 0)
			return sg_error_set(SG_ERROR, "out of memory");
		if (is_file(p))
			return found(out, p);
		sg_error_set(SG_ERROR, "SIGNGATE_TEMPLATE_DIR=%s has no %s; unset it or point it at "
			     "<prefix>/share/signgate/templates", env, name);
		free(p);
		return SG_ERROR;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return sg_error_set(SG_ERROR, "cannot find the program's folder (/proc/self/exe: %s); "
				    "set SIGNGATE_TEMPLATE_DIR", strerror(errno));
	exe[n] = '\0';
	bindir = dirname(exe);
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (asprintf(&p, "%s/%s/%s", bindir, rel[i], name) < 0)
			return sg_error_set(SG_ERROR, "out of memory");
		if (is_file(p))
			return found(out, p);
		free(p);
	}
	return sg_error_set(SG_ERROR, "no template %s in %s/../share/signgate/templates (installed) or "
			    "%s/../templates (build tree); reinstall signgate or set SIGNGATE_TEMPLATE_DIR",
			    name, bindir, bindir);
}

/* Replace every SG_PKI_PLACEHOLDER in `text` with `dir`. */
static int substitute(sg_buf *out, const char *text, const char *dir)
{
	const char *at;
	int err = SG_OK;

	while (err == SG_OK && (at = strstr(text, SG_PKI_PLACEHOLDER)) != NULL) {
		if ((err = sg_buf_put(out, text, (size_t)(at - text))) == SG_OK)
			err = sg_buf_puts(out, dir);
		text = at + strlen(SG_PKI_PLACEHOLDER);
	}
	return err == SG_OK ? sg_buf_puts(out, text) : err;
}

/* Create `path` (never replacing anything) with `data`. */
static int write_new(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	size_t off = 0;
	ssize_t w;

	if (fd < 0)
		return sg_error_set(SG_ERROR, errno == EEXIST ?
				    "%s already exists; edit it, or remove it to start again" :
				    "cannot create %s: %s", path, strerror(errno));
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < len || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return sg_error_set(SG_ERROR, "cannot write %s: %s", path, strerror(e));
	}
	if (close(fd) != 0) {
		unlink(path);
		return sg_error_set(SG_ERROR, "cannot write %s: %s", path, strerror(errno));
	}
	return SG_OK;
}

static int parse(int *test, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "test", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 't')
			return sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
		*test = 1;
	}
	if (optind < argc)
		return sg_error_set(SG_EUSAGE, "unexpected argument '%s'", argv[optind]);
	return SG_OK;
}

/* <common git dir>/signgate/test-pki, and the repository's folder name. */
static int pki_dir(char **out, char **label, git_repository *repo)
{
	const char *common = git_repository_commondir(repo);
	const char *wd = git_repository_workdir(repo);
	char parent[PATH_MAX], wdcopy[PATH_MAX];
	size_t clen = strlen(common);

	if (snprintf(parent, sizeof(parent), "%s%ssigngate", common,
		     clen && common[clen - 1] == '/' ? "" : "/") >= (int)sizeof(parent))
		return sg_error_set(SG_ERROR, "path too long: %s", common);
	if (mkdir(parent, 0700) != 0 && errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", parent, strerror(errno));
	snprintf(wdcopy, sizeof(wdcopy), "%s", wd);
	if (wdcopy[0] && wdcopy[strlen(wdcopy) - 1] == '/')
		wdcopy[strlen(wdcopy) - 1] = '\0';
	if (asprintf(out, "%s/test-pki", parent) < 0)
		return sg_error_set(SG_ERROR, "out of memory");
	if (!(*label = strdup(basename(wdcopy)))) {
		free(*out);
		*out = NULL;
		return sg_error_set(SG_ERROR, "out of memory");
	}
	return SG_OK;
}

static int run_init(const sg_cli *cli, git_repository *repo, int test)
{
	sg_buf tmpl = SG_BUF_INIT, text = SG_BUF_INIT;
	char *tpath = NULL, *policy = NULL, *pki = NULL, *label = NULL;
	const char *wd = git_repository_workdir(repo);
	struct stat st;
	int err;

	if (!wd)
		return sg_error_set(SG_ERROR, "%s is a bare repository; signgate init writes .signgate "
				    "into a working tree", git_repository_path(repo));
	if (asprintf(&policy, "%s.signgate", wd) < 0) {
		policy = NULL;
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	/* checked again by O_EXCL when writing; this spares making a PKI for nothing */
	if (lstat(policy, &st) == 0) {
		err = sg_error_set(SG_ERROR, "%s already exists; edit it, or remove it to start again",
				   policy);
		goto done;
	}
	if ((err = template_path(&tpath, test ? SG_TEST_TEMPLATE : SG_RELEASE_TEMPLATE)) < 0 ||
	    (err = sg_file_read_all(&tmpl, tpath, SG_TEMPLATE_MAX)) < 0)
		goto done;
	if (test) {
		if ((err = pki_dir(&pki, &label, repo)) < 0 || (err = sg_testpki_make(pki, label)) < 0 ||
		    (err = substitute(&text, tmpl.ptr ? tmpl.ptr : "", pki)) < 0)
			goto done;
	} else if ((err = sg_buf_put(&text, tmpl.ptr ? tmpl.ptr : "", tmpl.size)) < 0) {
		goto done;
	}
	if ((err = write_new(policy, text.ptr ? text.ptr : "", text.size)) < 0)
		goto done;
	printf("wrote %s from %s\n", policy, tpath);
	if (test)
		printf("test PKI in %s: ca.pem (trust anchor), codesign.pem, codesign.key (mode 0600)\n",
		       pki);
	sg_cli_info(cli, "signgate: review .signgate, then commit it to the protected branch "
		    "(the policy is read from there, never from the working tree):\n"
		    "  git add .signgate && git commit -m 'signgate policy'\n");
	err = SG_OK;
done:
	sg_buf_dispose(&tmpl);
	sg_buf_dispose(&text);
	free(tpath);
	free(policy);
	free(pki);
	free(label);
	return err;
}

int sg_cmd_init(sg_cli *cli, int argc, char **argv)
{
	git_repository *repo = NULL;
	int test = 0, err;

	if ((err = parse(&test, argc, argv)) < 0)
		return sg_cli_usage(usage_text);
	if ((err = sg_cli_open_repo(&repo, cli)) == SG_OK)
		err = run_init(cli, repo, test);
	git_repository_free(repo);
	if (err == SG_EDENIED)
		err = SG_ERROR; /* "not a git repository" is a setup error here, not a gate denial */
	return err == SG_OK ? 0 : sg_cli_fail(err);
}
