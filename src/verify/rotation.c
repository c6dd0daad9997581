/* Certificate rotation: a profile's certificate must be valid now, is
 * warned about when it expires soon (certExpiryWarnDays) and refused when
 * it was issued too long ago (maxKeyAgeDays), so keys are rotated. */
#include "verify/verify.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

#define DAY 86400

int sg_verify_cert_dates(char **warning, const sg_profile *prof, time_t not_before,
			 time_t not_after, time_t now)
{
	char nb[32], na[32];
	long days_left, age_days;
	int warn_days = prof->cert_expiry_warn_days;

	*warning = NULL;
	sg_time_format(nb, sizeof(nb), not_before);
	sg_time_format(na, sizeof(na), not_after);
	if (not_after && now >= not_after)
		return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" expired on %s; "
				    "rotate to a new certificate", prof->name, na);
	if (not_before && now < not_before)
		return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" is not valid before %s",
				    prof->name, nb);
	if (not_before && prof->max_key_age_days > 0) {
		age_days = (long)((now - not_before) / DAY);
		if (age_days >= prof->max_key_age_days)
			return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" was issued on %s, "
					    "%ld days ago; profile.%s.maxKeyAgeDays is %d: rotate to a "
					    "new key and certificate", prof->name, nb, age_days,
					    prof->name, prof->max_key_age_days);
	}
	if (not_after && warn_days > 0) {
		days_left = (long)((not_after - now) / DAY);
		if (days_left < warn_days &&
		    asprintf(warning, "the certificate of profile \"%s\" expires on %s, in %ld day%s "
			     "(certExpiryWarnDays %d); prepare its successor", prof->name, na,
			     days_left, days_left == 1 ? "" : "s", warn_days) < 0) {
			*warning = NULL;
			return sg_error_set(SG_ERROR, "out of memory");
		}
	}
	return SG_OK;
}
