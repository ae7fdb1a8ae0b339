// SPDX-License-Identifier: MIT
/*
 * NUMA memory policies of mappings (mbind), as /proc/PID/numa_maps shows
 * them: the policy word after each mapping's address is "default" unless
 * the mapping (or the shared memory object it maps) has one of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kh.h"

int kh_vma_mempolicy(pid_t pid, uint64_t *addr, char *pol, size_t len)
{
	char path[64], line[1024], word[64];
	uint64_t a;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		/* a kernel without CONFIG_NUMA has no numa_maps: no policy */
		return errno == ENOENT ? 0 : -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %63s", &a, word) != 2 ||
		    !strcmp(word, "default"))
			continue;
		*addr = a;
		snprintf(pol, len, "%s", word);
		found = 1;
	}
	fclose(f);
	return found;
}
