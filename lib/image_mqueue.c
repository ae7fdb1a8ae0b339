// SPDX-License-Identifier: MIT
/*
 * fdata/ID.msgs of a POSIX message queue: its messages in the order they
 * come out, one line each, "LEN PRIO"; their payloads one after the other
 * in fdata/ID.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crfs/format.h"

int render_mq_msgs(struct strbuf *sb, const unsigned int *prio,
		   const size_t *len, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%zu %u\n", len[i], prio[i]);
	return ret;
}

/* exactly n lines whose lengths sum to total, else -EINVAL */
int parse_mq_msgs(const char *buf, size_t n, size_t total, unsigned int *prio,
		  size_t *len)
{
	size_t i, sum = 0;
	int used;

	for (i = 0; i < n; i++, buf += used) {
		used = 0;
		if (sscanf(buf, "%zu %u\n%n", &len[i], &prio[i], &used) != 2 ||
		    !used)
			return -EINVAL;
		sum += len[i];
	}
	return *buf || sum != total ? -EINVAL : 0;
}
