/* Choosing a profile per artifact: pure evaluation of profile.artifacts,
 * used by the sign pipeline and by verify alike. */
#include "policy/policy.h"
#include "core/error.h"

#include <fnmatch.h>
#include <string.h>

static int glob_match_path(const sg_strlist *globs, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	for (i = 0; i < globs->n; i++) {
		if (fnmatch(globs->v[i], path, FNM_PATHNAME) == 0)
			return 1;
		/* a glob without '/' also matches the file name alone */
		if (!strchr(globs->v[i], '/') && base && fnmatch(globs->v[i], base + 1, 0) == 0)
			return 1;
	}
	return 0;
}

int sg_profile_choose(const sg_profile **out, const sg_policy *pol, const char *name,
		      const char *path)
{
	const sg_profile *found = NULL;
	size_t i, matches = 0;

	if (name) {
		found = sg_policy_profile(pol, name);
		if (!found)
			return sg_error_set(SG_EDENIED, "no profile \"%s\" in the policy (%s)", name, pol->origin);
		if (path && found->artifacts.n && !glob_match_path(&found->artifacts, path))
			return sg_error_set(SG_EDENIED, "%s does not match profile.%s.artifacts; "
					    "this profile does not sign it", path, name);
		*out = found;
		return SG_OK;
	}
	if (!path)
		return sg_error_set(SG_EUSAGE, "no profile named for a payload that is not a file");
	if (pol->nprofiles == 0)
		return sg_error_set(SG_EDENIED, "the policy (%s) has no [profile] section", pol->origin);
	for (i = 0; i < pol->nprofiles; i++) {
		const sg_profile *p = &pol->profiles[i];
		if ((p->artifacts.n == 0 && pol->nprofiles == 1) || glob_match_path(&p->artifacts, path)) {
			found = p;
			matches++;
		}
	}
	if (matches == 0)
		return sg_error_set(SG_EDENIED, "%s matches no profile's artifacts globs; "
				    "name one with --profile or add it to a profile", path);
	if (matches > 1)
		return sg_error_set(SG_EDENIED, "%s matches the artifacts of %zu profiles; "
				    "name one with --profile", path, matches);
	*out = found;
	return SG_OK;
}
