/* preempt.c — SIGTERM/SIGINT recorded for the training loops (include/burn/preempt.h). */
#include "burn/preempt.h"

#include <signal.h>
#include <string.h>

#include "burn/dist.h"
#include "burn/log.h"

static volatile sig_atomic_t pending;
static struct sigaction previous[2];
static int installed;
static const int signals[2] = {SIGTERM, SIGINT};

static void on_stop_signal(int sig) {
    if (pending) { /* the second one: stop now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    pending = sig;
}

void burn_preempt_install(void) {
    if (installed) return;
    pending = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* reads and waits of the loader go on */
    for (int i = 0; i < 2; i++) sigaction(signals[i], &sa, &previous[i]);
    installed = 1;
}

void burn_preempt_uninstall(void) {
    if (!installed) return;
    for (int i = 0; i < 2; i++) sigaction(signals[i], &previous[i], NULL);
    installed = 0;
}

int burn_preempt_pending(void) {
    double sig[2] = {pending == SIGTERM, pending == SIGINT}; /* which one, summed over ranks */
    burn_dist_sum_host(sig, 2);
    return sig[0] > 0 ? SIGTERM : sig[1] > 0 ? SIGINT : 0;
}
