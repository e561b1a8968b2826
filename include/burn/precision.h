/* precision.h — mixed precision (train.precision): the compute format of the FP GEMMs and
 * convolutions, and FP16 dynamic loss scaling.
 *
 * Semantics, the same on both backends: under BF16 or FP16 compute, every operand of an FP
 * GEMM (be->gemm: the heads, the FC layers) and of an FP convolution (be->conv2d_*: the
 * teacher ResNet, the student's FP stem) is rounded to nearest even to that format's values;
 * products are exact in FP32 (8- or 11-bit significands) and accumulate in FP32; results,
 * activations, BN, the loss and the optimiser stay FP32, and the master weights are FP32.
 * FP16's range ends at 65504: a larger operand becomes ±Inf (that is what loss scaling
 * guards); its subnormals (down to 2^-24) are kept. The binary convolutions are unaffected
 * (their operands are ±1 or packed bits).
 *   CPU:  operands rounded into scratch, then OpenBLAS sgemm (an emulation for testing: it is
 *         slower than FP32, never faster).
 *   CUDA: operands rounded into scratch, then TF32 tensor cores (cuBLAS COMPUTE_32F_FAST_TF32,
 *         cuDNN TENSOR_OP_MATH): a TF32 product of two BF16- or FP16-valued operands is exact,
 *         so the GPU computes what the CPU computes, up to the FP32 summation order.
 *
 * Loss scaling (FP16 only; PyTorch GradScaler's rule): the loss gradient is multiplied by the
 * scale S, so small gradients survive FP16 operand rounding; the optimiser divides by S. An
 * update whose gradient (or loss) is non-finite is skipped and counted, and S halves; after
 * `growth_interval` finite updates in a row S doubles. BF16 and FP32 use S = 1 and stop the
 * run at a non-finite value, naming the tensor. */
#ifndef BURN_PRECISION_H
#define BURN_PRECISION_H

#include <stdint.h>
#include <string.h>

#include "burn/check.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum burn_precision {
    BURN_COMPUTE_FP32 = 0,
    BURN_COMPUTE_BF16 = 1,
    BURN_COMPUTE_FP16 = 2
} burn_precision;

/* "fp32" | "bf16" | "fp16" -> burn_precision, or -1 with burn_error() set. */
int burn_precision_parse(const char *name);
const char *burn_precision_name(int precision);

BURN_HD uint32_t burn_prec_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

BURN_HD float burn_prec_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* x rounded to nearest even with `drop` low significand bits cleared (the exponent carries). */
BURN_HD float burn_prec_drop_bits(float x, int drop) {
    uint32_t u = burn_prec_bits(x);
    uint32_t half = (1u << (drop - 1)) - 1u;
    u += half + ((u >> drop) & 1u);
    return burn_prec_float(u & ~((1u << drop) - 1u));
}

/* The BF16 value nearest to x (ties to even), as a float; NaN stays NaN, overflow -> ±Inf. */
BURN_HD float burn_round_bf16(float x) {
    if (x != x) return x;
    return burn_prec_drop_bits(x, 16);
}

/* The IEEE binary16 value nearest to x (ties to even), as a float: ±Inf from 65520 on (the
 * midpoint above 65504), subnormals in steps of 2^-24, NaN stays NaN. */
BURN_HD float burn_round_fp16(float x) {
    if (x != x) return x;
    float a = x < 0 ? -x : x;
    float r;
    if (a >= 65520.0f) {
        r = burn_prec_float(0x7f800000u); /* +Inf */
    } else if (a < 6.103515625e-05f) {  /* below 2^-14: the fixed subnormal step 2^-24 */
        float scaled = a * 16777216.0f; /* exact: a power of two */
        uint32_t q = (uint32_t)scaled;  /* < 1024: exact truncation */
        float frac = scaled - (float)q;
        if (frac > 0.5f || (frac == 0.5f && (q & 1u))) q++;
        r = (float)q * (1.0f / 16777216.0f);
    } else {
        r = burn_prec_drop_bits(a, 13);
    }
    return burn_prec_bits(x) >> 31 ? -r : r; /* the sign bit: -0 stays -0 */
}

BURN_HD float burn_round_to_precision(float x, int precision) {
    return precision == BURN_COMPUTE_BF16   ? burn_round_bf16(x)
           : precision == BURN_COMPUTE_FP16 ? burn_round_fp16(x)
                                            : x;
}

/* ---- dynamic loss scaling (host) ---- */
typedef struct burn_loss_scaler {
    int enabled;             /* FP16 */
    double scale;            /* S (1 when disabled) */
    int64_t growth_interval; /* finite updates in a row before S doubles */
    int64_t good;            /* finite updates since the last change of S */
    int64_t skipped;         /* updates skipped over the whole run */
} burn_loss_scaler;

/* Scale floor: below it an FP16 overflow cannot be a gradient problem (it is in the forward
 * values), and the run stops instead of skipping forever. */
#define BURN_LOSS_SCALE_MIN (1.0 / 65536.0)

static inline void burn_loss_scaler_init(burn_loss_scaler *s, int precision, double init_scale,
                                         int64_t growth_interval) {
    memset(s, 0, sizeof *s);
    s->enabled = precision == BURN_COMPUTE_FP16;
    s->scale = s->enabled ? init_scale : 1.0;
    s->growth_interval = growth_interval;
}

/* After an update's gradient check: finite = 1 applies the update (returns 1), else the update
 * is skipped (returns 0) and S halves. Only meaningful when enabled. */
static inline int burn_loss_scaler_update(burn_loss_scaler *s, int finite) {
    if (!finite) {
        s->scale *= 0.5;
        s->good = 0;
        s->skipped++;
        return 0;
    }
    if (++s->good >= s->growth_interval) {
        s->scale *= 2.0;
        s->good = 0;
    }
    return 1;
}

#ifdef __cplusplus
}
#endif

#endif
