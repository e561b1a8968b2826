/* preempt.h — a training run stopped by SIGTERM or SIGINT (a cluster's preemption, Ctrl-C)
 * loses nothing: the handler only records the signal; the loop finishes the update in flight,
 * every rank agrees to stop after the same update (one all-reduce of a flag per update),
 * rank 0 writes a checkpoint, and the command exits 128 + signal with a message saying how to
 * continue (--resume). A second signal while that happens stops the process at once (the
 * default action), for a user who will not wait. */
#ifndef BURN_PREEMPT_H
#define BURN_PREEMPT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Catch SIGTERM and SIGINT until burn_preempt_uninstall (the previous handlers come back). */
void burn_preempt_install(void);
void burn_preempt_uninstall(void);

/* The stop signal received by any rank since burn_preempt_install, or 0. Collective under
 * data parallelism: every rank calls it once per update. */
int burn_preempt_pending(void);

#ifdef __cplusplus
}
#endif

#endif
