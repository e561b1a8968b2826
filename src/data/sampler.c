/* sampler.c — which images make up each batch: a fresh permutation of the dataset every epoch
 * (Fisher-Yates driven by Philox keyed by (seed, epoch), identical on every rank), cut into
 * global batches of batch × world; rank r takes slice r of each global batch.
 *
 *   epoch permutation   perm[0..N)
 *   global batch s      perm[s·G .. s·G + G), G = batch · world
 *   rank r, slot k      position p = s·G + r·batch + k
 *
 * drop_last: steps = floor(N / G) and the tail of the permutation is left out this epoch
 * (a different tail next epoch). Otherwise steps = ceil(N / G) and positions p >= N wrap to
 * perm[p - N], flagged as padding (torch's DistributedSampler pads the same way).
 * Nothing depends on the history: (epoch, step) fixes the batch, so resuming mid-epoch is
 * computing from the saved position; and for a fixed global batch G the positions an image
 * lands in do not depend on how G is split across ranks. */
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/data.h"
#include "burn/rng.h"

void burn_sampler_permutation(uint64_t seed, int64_t epoch, int64_t n, int shuffle,
                              int64_t *perm) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    burn_philox4 k = burn_philox4x32_10((uint32_t)epoch, (uint32_t)((uint64_t)epoch >> 32), 0u,
                                        0x53414d50u /* "SAMP" */, (uint32_t)seed,
                                        (uint32_t)(seed >> 32));
    uint64_t stream = (uint64_t)k.v[0] | (uint64_t)k.v[1] << 32;
    for (int64_t i = n - 1; i > 0; i--) {
        burn_philox4 r = burn_rng_block(stream, (uint64_t)i);
        uint64_t word = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
        /* uniform j in [0, i]: 64-bit multiply-shift, bias < (i+1) / 2^64 */
        int64_t j = (int64_t)(((unsigned __int128)word * (uint64_t)(i + 1)) >> 64);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

int burn_sampler_init(burn_sampler *s, int64_t count, int batch, int rank, int world,
                      int shuffle, int drop_last, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (count < 1) {
        burn_error_set("sampler: the dataset is empty");
        return -1;
    }
    if (batch < 1 || world < 1 || rank < 0 || rank >= world) {
        burn_error_set("sampler: batch %d, rank %d, world %d: need batch >= 1 and 0 <= rank < "
                       "world", batch, rank, world);
        return -1;
    }
    int64_t g = (int64_t)batch * world;
    if (drop_last && count < g) {
        burn_error_set("sampler: %lld images make no full global batch of %lld (batch %d x %d "
                       "ranks); lower the batch size or set data.drop_last = false",
                       (long long)count, (long long)g, batch, world);
        return -1;
    }
    s->count = count;
    s->batch = batch;
    s->rank = rank;
    s->world = world;
    s->shuffle = shuffle;
    s->drop_last = drop_last;
    s->seed = seed;
    s->steps_per_epoch = drop_last ? count / g : (count + g - 1) / g;
    s->perm = NULL;
    s->perm_epoch = -1;
    return 0;
}

void burn_sampler_free(burn_sampler *s) {
    free(s->perm);
    s->perm = NULL;
    s->perm_epoch = -1;
}

int burn_sampler_batch(burn_sampler *s, int64_t epoch, int64_t step, int64_t *idx,
                       uint8_t *is_pad) {
    if (s->perm_epoch != epoch || !s->perm) {
        if (!s->perm) s->perm = burn_xmalloc((size_t)s->count * sizeof(int64_t));
        burn_sampler_permutation(s->seed, epoch, s->count, s->shuffle, s->perm);
        s->perm_epoch = epoch;
    }
    int64_t base = step * (int64_t)s->batch * s->world + (int64_t)s->rank * s->batch;
    int real = 0;
    for (int k = 0; k < s->batch; k++) {
        int64_t p = base + k;
        int pad = p >= s->count;
        idx[k] = s->perm[pad ? (p - s->count) % s->count : p];
        if (is_pad) is_pad[k] = (uint8_t)pad;
        real += !pad;
    }
    return real;
}
