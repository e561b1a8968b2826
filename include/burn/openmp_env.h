/* openmp_env.h — the OpenMP runtime settings burn's programs start with (src/core/openmp_env.c). */
#ifndef BURN_OPENMP_ENV_H
#define BURN_OPENMP_ENV_H

#ifdef __cplusplus
extern "C" {
#endif

/* First thing in main: unless the user set GOMP_SPINCOUNT or OMP_WAIT_POLICY, re-execute this
 * program once with GOMP_SPINCOUNT=10000 (libgomp reads it when it loads, before main).
 * Returns only when nothing is to be done or the re-execution failed (then the defaults stay). */
void burn_openmp_env(char **argv);

#ifdef __cplusplus
}
#endif

#endif
