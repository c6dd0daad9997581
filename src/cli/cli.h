/* Command-line layer: the only code that prints or exits. */
#ifndef SG_CLI_CLI_H
#define SG_CLI_CLI_H

#include <git2.h>
#include <jansson.h>

#include "core/strlist.h"
#include "policy/policy.h"

typedef struct sg_cli {
	const char *dir;          /* -C DIR */
	const char *policy_file;  /* --policy FILE */
	const char *profile;      /* --profile NAME */
	int json;                 /* --json */
	int verbosity;            /* -1 quiet, 0 normal, 1 verbose */
} sg_cli;

typedef int (*sg_cmd_fn)(sg_cli *cli, int argc, char **argv);

typedef struct sg_command {
	const char *name;
	sg_cmd_fn run;
	const char *usage;
	const char *valued;       /* " --opt ..." of the command's options that take a value */
} sg_command;

/* Open the repository (at -C DIR or discovered from cwd). */
int sg_cli_open_repo(git_repository **out, const sg_cli *cli);
/* Load the policy: --policy, else signgate.policyFile, else the blob. */
int sg_cli_load_policy(sg_policy **out, git_repository *repo, const sg_cli *cli);
/* Print "signgate: <message>" for `code` and return the exit status. */
int sg_cli_fail(int code);
/* The REV operand after the options, if any, into *rev (left as it is when
 * there is none); SG_EUSAGE "CMD takes one revision" when there are more. */
int sg_cli_rev_operand(const char **rev, int argc, char **argv, const char *cmd);
/* Print a usage error and return 2. */
int sg_cli_usage(const char *usage);
/* Show manual page `page`(section) (usage when it is not installed); 0. */
int sg_cli_help(const char *page, int section, const char *usage);
/* Send stdout through the pager when it is a terminal (not for --json). */
void sg_cli_pager_start(const sg_cli *cli);
/* Dump a JSON document on stdout (steals the reference). */
void sg_cli_json_out(json_t *doc);
/* 1 when stdout is a terminal and NO_COLOR is unset. */
int sg_cli_color(void);
void sg_cli_info(const sg_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sg_cli_verbose(const sg_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int sg_cmd_check(sg_cli *cli, int argc, char **argv);
int sg_cmd_sign(sg_cli *cli, int argc, char **argv);
int sg_cmd_init(sg_cli *cli, int argc, char **argv);
int sg_cmd_verify(sg_cli *cli, int argc, char **argv), sg_cmd_log(sg_cli *cli, int argc, char **argv), sg_cmd_revoke(sg_cli *cli, int argc, char **argv), sg_cmd_doctor(sg_cli *cli, int argc, char **argv);
int sg_cmd_hook(sg_cli *cli, int argc, char **argv), sg_cmd_install_hooks(sg_cli *cli, int argc, char **argv), sg_x509_mode(int argc, char **argv), sg_cmd_x509(int argc, char **argv);
int sg_cmd_sync(sg_cli *cli, int argc, char **argv);
int sg_cmd_approve(sg_cli *cli, int argc, char **argv);

#endif
