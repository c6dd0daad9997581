/* signgate check [REV]: evaluate the gate and print each rule's verdict. */
#include "cli/cli.h"
#include "core/error.h"
#include "core/json.h"
#include "audit/audit.h"
#include "gate/gate.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] = "signgate check [--json] [--] [REV]";

/* ok: 1 passed, 0 denied, -1 could not be judged (an error) */
static void print_rule(const char *name, int ok, const char *evidence, int color)
{
	const char *on = "", *off = "";

	if (color) {
		on = ok > 0 ? "\033[32m" : "\033[1;31m";
		off = "\033[0m";
	}
	printf("  %s%-4s%s %-17s %s\n", on, ok > 0 ? "ok" : ok == 0 ? "DENY" : "ERROR", off, name,
	       evidence ? evidence : "");
}

static json_t *people_json(const sg_gate_people *pp)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; pp && i < pp->n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(pp->v[i].name));
		json_object_set_new(o, "identities", sg_json_strlist(&pp->v[i].shown_by));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* With [person] sections: who counted and who is the author side, each
 * with the identities that showed them. */
static void print_people(const char *label, const sg_gate_people *pp)
{
	size_t i, j;

	for (i = 0; i < pp->n; i++) {
		printf("  %-4s %-17s %s:", "", i ? "" : label, pp->v[i].name);
		for (j = 0; j < pp->v[i].shown_by.n; j++)
			printf("%s %s", j ? "," : "", pp->v[i].shown_by.v[j]);
		printf("\n");
	}
}

static json_t *result_json(const sg_gate_result *r, const sg_policy *pol, const char *rev,
			   const char *policy_error)
{
	static const sg_strlist none = SG_STRLIST_INIT;
	json_t *doc = json_object(), *rules = json_array();
	size_t i;

	json_object_set_new(doc, "rev", json_string(rev));
	json_object_set_new(doc, "commit", r && r->commit[0] ? json_string(r->commit) : json_null());
	json_object_set_new(doc, "allowed", json_boolean(r && r->allowed));
	json_object_set_new(doc, "policy", sg_json_str_or_null(pol ? pol->origin : NULL));
	if (policy_error) {
		json_t *rule = json_object();

		json_object_set_new(rule, "rule", json_string("policy"));
		json_object_set_new(rule, "ok", json_false());
		json_object_set_new(rule, "evidence", json_string(policy_error));
		json_array_append_new(rules, rule);
	}
	for (i = 0; r && i < r->nrules; i++) {
		json_t *rule = json_object();

		json_object_set_new(rule, "rule", json_string(r->rules[i].name));
		json_object_set_new(rule, "ok", json_boolean(r->rules[i].ok));
		json_object_set_new(rule, "evidence", sg_json_str_or_null(r->rules[i].evidence));
		json_array_append_new(rules, rule);
	}
	json_object_set_new(doc, "rules", rules);
	json_object_set_new(doc, "reviewers", sg_json_strlist(r ? &r->reviewers : &none));
	json_object_set_new(doc, "persons", json_boolean(r && r->persons));
	json_object_set_new(doc, "people", people_json(r ? &r->people : NULL));
	json_object_set_new(doc, "authors", people_json(r && r->persons ? &r->authors : NULL));
	/* the note's Review-* lines */
	json_object_set_new(doc, "evidence", sg_json_strlist(r ? &r->evidence_lines : &none));
	json_object_set_new(doc, "required_reviews", r && r->required_reviews ? json_integer(r->required_reviews)
				   : pol ? json_integer(pol->required_reviews) : json_null());
	json_object_set_new(doc, "branch", sg_json_str_or_null(r ? r->branch_ref : NULL));
	json_object_set_new(doc, "signer", sg_json_str_or_null(r ? r->signer : NULL));
	json_object_set_new(doc, "summary", sg_json_str_or_null(r ? r->summary : NULL));
	if (r && r->allowed)
		json_object_set_new(doc, "decision", json_string("allowed"));
	else if (policy_error)
		json_object_set_new(doc, "decision", json_sprintf("error: %s", policy_error));
	else
		json_object_set_new(doc, "decision", json_sprintf("denied: %s",
						   r && r->denial ? r->denial : "unknown"));
	return doc;
}

/* After a denial: a test profile signs anyway (signgate init --test), which
 * would look like a contradiction without a word. */
static void explain_test_profiles(const sg_cli *cli, const sg_policy *pol)
{
	size_t i;

	for (i = 0; pol && cli->verbosity >= 0 && i < pol->nprofiles; i++)
		if (pol->profiles[i].test) {
			fflush(stdout);
			fprintf(stderr, "signgate: note: check judges the release gate; the test profile "
				"\"%s\" (test = true) may still sign this commit with its test key, so that "
				"signing can be tried anywhere; a production profile may not\n",
				pol->profiles[i].name);
			return;
		}
}

/* Print the verdict; returns the exit status. */
static int report(const sg_cli *cli, const sg_gate_result *r, const sg_policy *pol, const char *rev,
		  int err)
{
	const char *policy_error = pol ? NULL : sg_error_last();
	size_t i;

	if (r && r->warning)
		sg_cli_info(cli, "signgate: warning: %s\n", r->warning);
	if (cli->json)
		sg_cli_json_out(result_json(r, pol, rev, policy_error));
	else if (cli->verbosity >= 0) {
		int color = sg_cli_color();

		if (!pol)
			print_rule("policy", -1, policy_error, color);
		if (pol && pol->origin)
			sg_cli_verbose(cli, "signgate: policy: %s\n", pol->origin);
		for (i = 0; r && i < r->nrules; i++)
			print_rule(r->rules[i].name, r->rules[i].ok, r->rules[i].evidence, color);
		if (r && r->persons) {
			print_people("people", &r->people);
			print_people("authors", &r->authors);
		}
		printf("%s\n", err == SG_OK ? "allowed" : err == SG_EDENIED ? "denied" : "error");
	}
	if (err == SG_OK)
		return 0;
	err = sg_cli_fail(err);
	if (err == 3)
		explain_test_profiles(cli, pol);
	return err;
}

/* The one place a check decision is made: evaluate the gate for REV. */
/* Every decision goes to the audit log, denials included. A decision that
 * cannot be logged is reported; it does not turn a denial into an allow. */
static int audit_check(git_repository *repo, const sg_policy *pol, const sg_gate_result *res,
		       const char *rev, int err)
{
	json_t *rec = json_object();
	char reason[1024];
	int aerr;

	snprintf(reason, sizeof(reason), "%s", err != SG_OK && sg_error_last() ? sg_error_last() : "");
	json_object_set_new(rec, "op", json_string("check"));
	json_object_set_new(rec, "rev", json_string(rev));
	if (res && res->commit[0])
		json_object_set_new(rec, "commit", json_string(res->commit));
	json_object_set_new(rec, "decision", json_string(err == SG_OK ? "allowed" :
							 err == SG_EDENIED ? "denied" : "error"));
	json_object_set_new(rec, "exit", json_integer(sg_error_exit_code(err)));
	if (err != SG_OK)
		json_object_set_new(rec, "reason", json_string(reason));
	if (res && res->summary)
		json_object_set_new(rec, "gate", json_string(res->summary));
	if (pol && pol->origin)
		json_object_set_new(rec, "policy", json_string(pol->origin));
	aerr = sg_audit_append(repo, rec);
	json_decref(rec);
	if (aerr < 0)
		return aerr;
	if (err != SG_OK)
		sg_error_set(err, "%s", reason); /* keep the decision's message */
	return err;
}

static int check_decide(sg_gate_result *res, git_repository *repo, const sg_policy *pol, const char *rev)
{
	return audit_check(repo, pol, res, rev, sg_gate_evaluate(res, repo, pol, rev, NULL));
}

int sg_cmd_check(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_gate_result res;
	const char *rev = "HEAD";
	int at, c, err, rc;

	memset(&res, 0, sizeof(res));
	opterr = 0;
	/* at: the argument getopt reads next ("-x.txt" keeps optind on itself) */
	while ((at = optind, c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': cli->json = 1; break;
		case 'h': printf("usage: %s\n", usage_text); return 0;
		default:
			sg_error_set(SG_EUSAGE, "unknown option '%s' (use -- before a revision that starts with -)",
				     argv[at]);
			return sg_cli_usage(usage_text);
		}
	}
	if (sg_cli_rev_operand(&rev, argc, argv, "check") < 0)
		return sg_cli_usage(usage_text);
	if ((err = sg_cli_open_repo(&repo, cli)) < 0)
		return sg_cli_fail(err);
	if ((err = sg_cli_load_policy(&pol, repo, cli)) < 0) {
		/* no rules to judge by: an error (exit 1), reported per rule */
		int aerr = audit_check(repo, NULL, NULL, rev, err);

		rc = aerr != err ? sg_cli_fail(aerr) : report(cli, NULL, NULL, rev, err);
		goto done;
	}
	err = check_decide(&res, repo, pol, rev);
	if (err < 0 && err != SG_EDENIED) {
		rc = sg_cli_fail(err);
		goto done;
	}
	rc = report(cli, &res, pol, rev, err);
done:
	sg_gate_result_release(&res);
	sg_policy_free(pol);
	git_repository_free(repo);
	return rc;
}
