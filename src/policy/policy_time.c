/* RFC 3339 UTC times, exactly "YYYY-MM-DDTHH:MM:SSZ". */
#include "policy/policy.h"
#include "core/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sg_time_parse(time_t *out, const char *s)
{
	struct tm tm, back;
	int y, mo, d, h, mi, se;
	time_t t;

	if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		goto bad;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises 2026-02-30 to March: refuse what does not round-trip */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 ||
	    back.tm_mon != mo - 1 || back.tm_mday != d)
		goto bad;
	*out = t;
	return SG_OK;
bad:
	return sg_error_set(SG_ERROR, "'%s' is not an RFC 3339 UTC time; write e.g. 2026-11-01T00:00:00Z",
			    s ? s : "(null)");
}

void sg_time_format(char *out, size_t outlen, time_t t)
{
	struct tm tm;

	if (outlen == 0)
		return;
	if (!gmtime_r(&t, &tm) || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}
