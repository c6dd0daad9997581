/* Who runs the signing, and the gate.signer rule. The identity is what the
 * machine says (git user.email, the OS account); gate.signer narrows who may
 * start a signing on a machine that holds the key, it is not authentication. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sg_gate_os_user(char **out)
{
	struct passwd *pw = getpwuid(geteuid());
	sg_buf b = SG_BUF_INIT;
	int err;

	if (pw && pw->pw_name && *pw->pw_name)
		err = sg_buf_printf(&b, "user:%s", pw->pw_name);
	else
		err = sg_buf_printf(&b, "user:%lu", (unsigned long)geteuid());
	if (err < 0) {
		sg_buf_dispose(&b);
		return err;
	}
	*out = sg_buf_detach(&b);
	return SG_OK;
}

static int git_email(char **out, git_repository *repo)
{
	git_config *snap = NULL;
	const char *v = NULL;
	int ret = SG_ENOTFOUND;

	*out = NULL;
	if (git_repository_config_snapshot(&snap, repo) < 0)
		return sg_error_set(SG_ERROR, "cannot read git config: %s", sg_git_errmsg());
	if (git_config_get_string(&v, snap, "user.email") == 0 && v && *v) {
		ret = SG_OK;
		if (!(*out = strdup(v)))
			ret = sg_error_set(SG_ERROR, "out of memory");
	}
	git_config_free(snap);
	return ret;
}

int sg_gate_current_signer(char **out, git_repository *repo)
{
	int err = git_email(out, repo);

	if (err == SG_ENOTFOUND)
		return sg_gate_os_user(out);
	return err;
}

int sg_gate_signer_rule(sg_rule *rule, char **signer, git_repository *repo, const sg_policy *pol)
{
	char *email = NULL, *user = NULL;
	sg_buf ev = SG_BUF_INIT;
	size_t i;
	int ret, ok = 0;

	rule->name = "signer";
	rule->ok = 0;
	if ((ret = git_email(&email, repo)) < 0 && ret != SG_ENOTFOUND)
		goto done;
	/* The OS account (a passwd lookup) only where it is shown or matched. */
	if ((!email || pol->signer.n) && (ret = sg_gate_os_user(&user)) < 0)
		goto done;
	if (!pol->signer.n) {
		ok = 1;
		ret = sg_buf_printf(&ev, "gate.signer not set: anyone may sign (%s)", email ? email : user);
	} else if (email && sg_strlist_match(&pol->signer, email, 1)) {
		ok = 1;
		ret = sg_buf_printf(&ev, "%s is allowed by gate.signer", email);
	} else if (sg_strlist_match(&pol->signer, user, 0)) {
		ok = 1;
		ret = sg_buf_printf(&ev, "%s is allowed by gate.signer", user);
	} else {
		ret = email ? sg_buf_printf(&ev, "%s (%s) is not allowed by gate.signer (", email, user)
			    : sg_buf_printf(&ev, "%s (no git user.email) is not allowed by gate.signer (", user);
		for (i = 0; ret == SG_OK && i < pol->signer.n; i++)
			ret = sg_buf_printf(&ev, "%s%s", i ? ", " : "", pol->signer.v[i]);
		if (ret == SG_OK)
			ret = sg_buf_puts(&ev, ")");
	}
	if (ret < 0)
		goto done;
	rule->evidence = sg_buf_detach(&ev);
	rule->ok = ok;
	if (email) {
		*signer = email;
		email = NULL;
	} else {
		*signer = user;
		user = NULL;
	}
done:
	free(email);
	free(user);
	sg_buf_dispose(&ev);
	return ret;
}
