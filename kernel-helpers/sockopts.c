// SPDX-License-Identifier: MIT
/* On/off socket options, read as one bitmask: what an image stores. */
#include <sys/socket.h>

#include "kh.h"

uint32_t kh_sockopts_on(int sk, const struct kh_sockopt *o, int n)
{
	uint32_t on = 0;
	socklen_t l;
	int i, v;

	for (i = 0; i < n; i++) {
		l = sizeof(v);
		if (!getsockopt(sk, o[i].level, o[i].name, &v, &l) && v)
			on |= 1u << i;
	}
	return on;
}
