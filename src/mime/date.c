/*
 * Dates: RFC 5322 "Tue, 1 Jul 2003 10:52:37 +0200" and what real mailers
 * write instead (two- and three-digit years, zone names, missing seconds,
 * weekday or zone, comments, "Jul 1 2003", ISO 8601). Tokens are taken in
 * any order and assigned by their shape.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mime-private.h"

static const char *const date_months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

struct date_zone {
	const char	*name;
	int		 min;
};

static const struct date_zone date_zones[] = {
	{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
	{ "est", -300 }, { "edt", -240 }, { "cst", -360 }, { "cdt", -300 },
	{ "mst", -420 }, { "mdt", -360 }, { "pst", -480 }, { "pdt", -420 },
};

static int
date_mdays(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* Read up to max digits at p; the count read, value in *v. */
static int
date_num(const char *p, const char *end, int max, int *v)
{
	int	n = 0;

	*v = 0;
	while (p + n < end && n < max && p[n] >= '0' && p[n] <= '9') {
		*v = *v * 10 + (p[n] - '0');
		n++;
	}
	return n;
}

int
mime_parse_date(const char *value, size_t len, int64_t *t, int *tzoff_min)
{
	const char	*p = value, *end = value + len;
	int		 day = -1, mon = -1, year = -1, hh = -1, mi = 0, ss = 0;
	int		 zone = 0, v, n, depth;
	bool		 have_zone = false;
	size_t		 i, wl;
	char		 word[8];

	while (p < end) {
		if (*p == '(') {
			for (depth = 0; p < end; p++) {
				if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0)
					break;
			}
			if (p < end)
				p++;
			continue;
		}
		if ((*p == '+' || *p == '-') && p + 1 < end &&
		    p[1] >= '0' && p[1] <= '9' && hh >= 0 && !have_zone) {
			int zh, zm = 0;

			n = date_num(p + 1, end, 4, &v);
			if (n == 4) {
				zh = v / 100;
				zm = v % 100;
			} else if (n <= 2 && p + 1 + n < end && p[1 + n] == ':') {
				zh = v;
				n += 1 + date_num(p + 2 + n, end, 2, &zm);
			} else
				zh = v;
			if (zh <= 23 && zm <= 59) {
				zone = (zh * 60 + zm) * (*p == '-' ? -1 : 1);
				have_zone = true;
			}
			p += 1 + n;
			continue;
		}
		if (*p >= '0' && *p <= '9') {
			n = date_num(p, end, 9, &v);
			p += n;
			if (n == 4 && p + 5 < end && p[0] == '-' &&
			    year < 0) {
				/* ISO 8601: 2003-07-01[T ]10:52:37 */
				int mm, dd;

				if (date_num(p + 1, end, 2, &mm) == 2 &&
				    p + 3 < end && p[3] == '-' &&
				    date_num(p + 4, end, 2, &dd) == 2) {
					year = v;
					mon = mm - 1;
					day = dd;
					p += 6;
					if (p < end && (*p == 'T' || *p == 't'))
						p++;
					continue;
				}
			}
			if (p < end && (*p == ':' || *p == '.') && n <= 2 &&
			    hh < 0 && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
				hh = v;
				p += 1 + date_num(p + 1, end, 2, &mi);
				if (p < end && (*p == ':' || *p == '.') &&
				    p + 1 < end && p[1] >= '0' && p[1] <= '9')
					p += 1 + date_num(p + 1, end, 2, &ss);
				while (p < end && *p >= '0' && *p <= '9')
					p++;	/* fractions */
				continue;
			}
			if (n <= 2 && day < 0)
				day = v;
			else if (n >= 2 && n <= 4 && year < 0)
				year = n == 2 ? (v < 50 ? 2000 + v : 1900 + v) :
				    n == 3 ? 1900 + v : v;
			continue;
		}
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
			for (wl = 0; p < end && ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z')); p++, wl++)
				if (wl < sizeof word - 1)
					word[wl] = (char)(*p | 0x20);
			if (wl >= sizeof word)
				wl = sizeof word - 1;
			word[wl] = '\0';
			if (wl >= 3 && mon < 0)
				for (i = 0; i < 12; i++)
					if (memcmp(word, date_months[i], 3) == 0) {
						mon = (int)i;
						break;
					}
			if (hh >= 0 && !have_zone) {
				for (i = 0; i < sizeof date_zones /
				    sizeof date_zones[0]; i++)
					if (strcmp(word, date_zones[i].name) == 0) {
						zone = date_zones[i].min;
						have_zone = true;
						break;
					}
			}
			continue;
		}
		p++;
	}
	if (day < 1 || mon < 0 || mon > 11 || year < 1900 || year > 9999 ||
	    day > date_mdays(year, mon + 1))
		return -1;
	if (hh < 0)
		hh = 0;
	if (hh > 23 || mi > 59 || ss > 60)
		return -1;
	if (ss == 60)
		ss = 59;
	*t = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mi * 60 + ss -
	    (int64_t)zone * 60;
	*tzoff_min = zone;
	return 0;
}
