/* tensor.c — dtype table, tensor allocation over a backend, half/bfloat16 conversion. */
#include "burn/tensor.h"

#include <string.h>

#include "burn/backend.h"
#include "burn/check.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[BURN_DTYPE_COUNT] = {
    [BURN_F32] = {"F32", 4}, [BURN_F16] = {"F16", 2}, [BURN_BF16] = {"BF16", 2},
    [BURN_I32] = {"I32", 4}, [BURN_I64] = {"I64", 8}, [BURN_U8] = {"U8", 1},
    [BURN_U32] = {"U32", 4}, [BURN_U64] = {"U64", 8},
};

size_t burn_dtype_size(burn_dtype dt) { return dt < BURN_DTYPE_COUNT ? dtype_table[dt].size : 0; }

const char *burn_dtype_name(burn_dtype dt) {
    return dt < BURN_DTYPE_COUNT ? dtype_table[dt].name : "?";
}

int burn_dtype_parse(const char *name, burn_dtype *out) {
    for (int i = 0; i < BURN_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_table[i].name) == 0) {
            *out = (burn_dtype)i;
            return 0;
        }
    return -1;
}

int64_t burn_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

int64_t burn_tensor_numel(const burn_tensor *t) { return burn_numel(t->ndim, t->shape); }

size_t burn_tensor_bytes(const burn_tensor *t) {
    return (size_t)burn_tensor_numel(t) * burn_dtype_size(t->dtype);
}

burn_tensor burn_tensor_view(const burn_backend *be, void *data, burn_dtype dt, int ndim,
                             const int64_t *shape) {
    burn_tensor t;
    memset(&t, 0, sizeof t);
    if (ndim < 0 || ndim > BURN_MAX_DIMS)
        burn_check_fail("burn", "burn_tensor_view", __FILE__, __LINE__, "too many dimensions",
                        NULL);
    t.be = be;
    t.data = data;
    t.dtype = dt;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    return t;
}

burn_tensor burn_tensor_new(const burn_backend *be, burn_dtype dt, int ndim,
                            const int64_t *shape) {
    burn_tensor t = burn_tensor_view(be, NULL, dt, ndim, shape);
    t.data = be->alloc(burn_tensor_bytes(&t));
    t.owns_data = 1;
    return t;
}

void burn_tensor_free(burn_tensor *t) {
    if (t->owns_data && t->data) t->be->free(t->data);
    t->data = NULL;
    t->owns_data = 0;
}

void burn_tensor_upload(burn_tensor *t, const void *host) {
    t->be->upload(t->data, host, burn_tensor_bytes(t));
}

void burn_tensor_download(const burn_tensor *t, void *host) {
    t->be->download(host, t->data, burn_tensor_bytes(t));
}

/* ---- half precision ---- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t burn_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float burn_bf16_to_f32(uint16_t b) { return bits_f32((uint32_t)b << 16); }

uint16_t burn_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  /* NaN */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (abs < 0x38800000u) {                                   /* subnormal or zero */
        /* value * 2^24 rounded to nearest even gives the subnormal mantissa */
        float scaled = bits_f32(abs) * 16777216.0f;
        uint32_t m = (uint32_t)scaled;
        float rem = scaled - (float)m;
        if (rem > 0.5f || (rem == 0.5f && (m & 1u))) m++;
        return (uint16_t)(sign | m);
    }
    uint32_t e = ((abs >> 23) - 112u) << 10; /* rebias 127 -> 15 */
    uint32_t mant = abs & 0x7fffffu;
    uint32_t h = e | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++; /* may carry into exponent */
    return (uint16_t)(sign | h);
}

float burn_f16_to_f32(uint16_t h) {
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        float v = (float)m * (1.0f / 16777216.0f); /* m * 2^-24 */
        return sign ? -v : v;
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
    return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}
