/* signgate doctor [--login] [--no-tsa]: one line per check, OK/WARN/FAIL;
 * exit 1 when any check failed. */
#include "cli/cli.h"
#include "core/error.h"
#include "verify/verify.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] = "signgate doctor [--login] [--no-tsa]";

typedef struct doctor_out {
	int color;
	json_t *arr;
} doctor_out;

static void print_check(sg_check_status st, const char *what, const char *detail, void *payload)
{
	static const char *const names[] = { "OK", "WARN", "FAIL" };
	static const char *const colors[] = { "\033[32m", "\033[33m", "\033[31m" };
	doctor_out *o = payload;

	if (o->arr) {
		json_t *c = json_object();
		json_object_set_new(c, "status", json_string(names[st]));
		json_object_set_new(c, "check", json_string(what));
		json_object_set_new(c, "detail", json_string(detail));
		json_array_append_new(o->arr, c);
		return;
	}
	printf("%s%-4s%s  %s: %s\n", o->color ? colors[st] : "", names[st], o->color ? "\033[m" : "",
	       what, detail);
}

int sg_cmd_doctor(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "login", no_argument, NULL, 'l' },
		{ "no-tsa", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	sg_doctor_opts dopts = { 0, 0, 0 };
	doctor_out out = { sg_cli_color(), cli->json ? json_array() : NULL };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_check_status worst;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			dopts.login = 1;
		else if (c == 'n')
			dopts.skip_tsa = 1;
		else {
			json_decref(out.arr);
			sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
			return sg_cli_usage(usage_text);
		}
	}
	if (sg_cli_open_repo(&repo, cli) < 0) {
		print_check(SG_CHECK_FAIL, "repository", sg_error_last(), &out);
		worst = SG_CHECK_FAIL;
		repo = NULL;
	} else if (sg_policy_load(&pol, repo, cli->policy_file) < 0) {
		print_check(SG_CHECK_FAIL, "policy", sg_error_last(), &out);
		pol = NULL;
		worst = SG_CHECK_FAIL;
	} else {
		print_check(SG_CHECK_OK, "policy", pol->origin, &out);
		worst = SG_CHECK_OK;
	}
	sg_error_clear();
	{
		sg_check_status w = sg_doctor_run(repo, pol, &dopts, print_check, &out);
		if (w > worst)
			worst = w;
	}
	if (out.arr)
		sg_cli_json_out(out.arr);
	sg_policy_free(pol);
	git_repository_free(repo);
	return worst == SG_CHECK_FAIL ? 1 : 0;
}
