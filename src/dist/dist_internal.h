/* dist_internal.h — what src/dist/dist.c shares with the CPU collectives in src/dist/dist_mpi.c: the
 * job's communicator and the deadline-bounded wait every MPI collective of burn goes through. */
#ifndef BURN_DIST_INTERNAL_H
#define BURN_DIST_INTERNAL_H

#include <mpi.h>

/* burn's duplicate of MPI_COMM_WORLD, with MPI_ERRORS_RETURN (errors come back as codes). */
MPI_Comm burn_dist_comm(void);

/* Complete reqs[n] (nonblocking collectives) within dist.timeout. An MPI error (a peer's
 * connection broke) or the deadline passing (a peer is dead or hung) prints one line naming
 * `what`, this rank and the cause, then MPI_Abort stops the whole job: never returns then. */
void burn_dist_wait(MPI_Request *reqs, int n, const char *what);

/* Same message and MPI_Abort for a failed MPI call (rc != MPI_SUCCESS). */
void burn_dist_mpi_failed(int rc, const char *what) __attribute__((noreturn));

/* Largest element count one MPI call takes (int). */
#define BURN_DIST_MAX_COUNT (1 << 30)

#endif
