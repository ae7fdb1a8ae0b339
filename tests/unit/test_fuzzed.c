// SPDX-License-Identifier: MIT
/*
 * Inputs the fuzzer (tests/fuzz) found the parsers mishandling, each
 * refused now with a message.
 */
#include "unit.h"

#define FID	"0123456789abcdef0123456789abcdef"

static void expect_idx_error(const char *text, const char *why)
{
	struct crfs_page_run *r = NULL;
	struct ut_text ut;
	size_t n = 0;

	ut_expect_einval(parse_pages_idx(ut_text(&ut, "1/pages.idx", text),
					 FID, 1, &r, &n),
			 &ut, "1/pages.idx", why);
	cr_assert_null(r);
}

/* a count of runs once sized a 6 GB allocation before any run was read */
Test(fuzzed, pages_idx_count_beyond_the_file)
{
	expect_idx_error("freeze_id " FID "\nruns 160005077\n1", "only 0 of 160005077 runs");
	expect_idx_error("freeze_id " FID "\nruns 4294967296\n", "only 0 of");
}

/* a run whose end wrapped past 2^64 looked sorted and in the pages file */
Test(fuzzed, pages_idx_run_wraps_around)
{
	expect_idx_error("freeze_id " FID "\nruns 2\n"
			 "0xfffffffffffff000          1          1 0x0000000000000000 0000000000000000\n"
			 "0x0000000000001000          1          1 0x0000000000001000 0000000000000000\n",
			 "bad run");
	expect_idx_error("freeze_id " FID "\nruns 1\n"
			 "0x0000000000001000 4503599627370496          1 0x0000000000000000 0000000000000000\n",
			 "bad run");
}
