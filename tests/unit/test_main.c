#include "unit.h"

int
main(void)
{
	int failed = 0;

	fault_install_jansson();
	failed += run_common_tests();
	failed += run_procjson_tests();
	failed += run_jscan_tests();
	failed += run_jtree_tests();
	failed += run_log_tests();
	return failed == 0 ? 0 : 1;
}
