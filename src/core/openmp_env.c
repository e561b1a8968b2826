/* openmp_env.c — libgomp's spin count for burn's programs (include/burn/openmp_env.h).
 *
 * At each barrier libgomp's threads busy-wait GOMP_SPINCOUNT iterations (300000 by default,
 * up to a millisecond) before they sleep. On a machine whose cores other work shares (the
 * data loader's threads, other processes, several ranks) the spinning threads hold the cores
 * that the thread everyone waits for needs, and each parallel loop can cost a time slice
 * (seen, as wall time, not a benchmark: tests/test_moco_train on 2 cores beside a 2-thread
 * job took 82 s by default, 31 s at 10000); `burn_bench step` on a quiet 2-core machine
 * showed no difference beyond its run-to-run noise.
 * The variable is read when libgomp loads, before main, hence the one re-execution. */
#include "burn/openmp_env.h"

#include <stdlib.h>
#include <unistd.h>

void burn_openmp_env(char **argv) {
#ifdef _OPENMP
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return; /* the user's choice */
    if (setenv("GOMP_SPINCOUNT", "10000", 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: go on with the defaults */
    unsetenv("GOMP_SPINCOUNT");
#else
    (void)argv;
#endif
}
