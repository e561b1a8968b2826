/* rng.h — Philox4x32-10 counter-based generator (Salmon et al., SC'11), shared per-element
 * math (BURN_HD) for the CPU backend and the CUDA kernels.
 *
 * Element i of a random fill uses counter (offset + i) under key `seed`: the value of an
 * element never depends on thread count, launch shape or backend, so a run can be resumed or
 * sharded and the CPU and GPU draw the same numbers.
 *   uniform: 24 random bits -> exact float in [0, 1), then lo + (hi - lo) * u (bit-identical).
 *   normal:  Box-Muller in double from two 32-bit words, rounded once to float. glibc and CUDA
 *            double log/cos differ by at most an ulp of double, so the float results are equal
 *            except, very rarely, by 1 float ulp. Weights are therefore initialised on the
 *            host and uploaded, which makes CPU and GPU runs start from identical weights. */
#ifndef BURN_RNG_H
#define BURN_RNG_H

#include <math.h>
#include <stdint.h>

#include "burn/check.h"

typedef struct burn_philox4 {
    uint32_t v[4];
} burn_philox4;

BURN_HD uint32_t burn_mulhi32(uint32_t a, uint32_t b) {
    return (uint32_t)(((uint64_t)a * (uint64_t)b) >> 32);
}

/* One block of 4 random words for a 128-bit counter (ctr0..3) and 64-bit key. */
BURN_HD burn_philox4 burn_philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                        uint32_t k0, uint32_t k1) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = burn_mulhi32(M0, c0), lo0 = M0 * c0;
        uint32_t hi1 = burn_mulhi32(M1, c2), lo1 = M1 * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += W0;
        k1 += W1;
    }
    burn_philox4 r = {{c0, c1, c2, c3}};
    return r;
}

/* The 4 words for element `index` of the stream `seed`. */
BURN_HD burn_philox4 burn_rng_block(uint64_t seed, uint64_t index) {
    return burn_philox4x32_10((uint32_t)index, (uint32_t)(index >> 32), 0u, 0u, (uint32_t)seed,
                              (uint32_t)(seed >> 32));
}

/* Uniform float in [0, 1): the top 24 bits of one word, exactly representable. */
BURN_HD float burn_rng_u01(uint32_t word) {
    return (float)(word >> 8) * (1.0f / 16777216.0f);
}

BURN_HD float burn_rng_uniform(uint64_t seed, uint64_t index, float lo, float hi) {
    burn_philox4 r = burn_rng_block(seed, index);
    return lo + (hi - lo) * burn_rng_u01(r.v[0]);
}

BURN_HD float burn_rng_normal(uint64_t seed, uint64_t index, float mean, float std) {
    burn_philox4 r = burn_rng_block(seed, index);
    double u1 = ((double)r.v[0] + 1.0) * (1.0 / 4294967296.0); /* (0, 1] */
    double u2 = (double)r.v[1] * (1.0 / 4294967296.0);         /* [0, 1) */
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
    return (float)((double)mean + (double)std * z);
}

#endif
