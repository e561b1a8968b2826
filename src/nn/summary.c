/* summary.c — the Larq-style per-layer model summary: output shape, 1-bit and 32-bit
 * parameters, binary and FP MACs, and weight memory as FP32 and bit-packed. */
#include <stdio.h>

#include "burn/models.h"

static void human(char *buf, size_t n, double v) {
    if (v >= 1e9)
        snprintf(buf, n, "%.3fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
}

void burn_summary_begin(burn_summary *s, FILE *f, const char *title) {
    *s = (burn_summary){f, 0, 0, 0, 0, 0};
    fprintf(f, "%s\n", title);
    fprintf(f, "%-26s %-22s %-16s %12s %12s %10s %10s\n", "layer", "type", "output (CxHxW)",
            "1-bit params", "32-bit params", "bin MACs", "FP MACs");
}

void burn_summary_row(void *summary, const burn_layer_info *in) {
    burn_summary *s = summary;
    char shape[32], bm[16], fm[16];
    if (in->out_h == 1 && in->out_w == 1)
        snprintf(shape, sizeof shape, "%lld", (long long)in->out_c);
    else
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)in->out_c,
                 (long long)in->out_h, (long long)in->out_w);
    human(bm, sizeof bm, (double)in->bin_macs);
    human(fm, sizeof fm, (double)in->fp_macs);
    fprintf(s->f, "%-26s %-22s %-16s %12lld %12lld %10s %10s\n", in->name, in->type, shape,
            (long long)in->bin_params, (long long)in->fp_params, bm, fm);
    s->bin_params += in->bin_params;
    s->fp_params += in->fp_params;
    s->bin_macs += in->bin_macs;
    s->fp_macs += in->fp_macs;
    s->rows++;
}

void burn_summary_end(burn_summary *s) {
    double fp32_bytes = 4.0 * (double)(s->bin_params + s->fp_params);
    double packed_bytes = (double)s->bin_params / 8.0 + 4.0 * (double)s->fp_params;
    char bm[16], fm[16];
    human(bm, sizeof bm, (double)s->bin_macs);
    human(fm, sizeof fm, (double)s->fp_macs);
    fprintf(s->f, "total: %lld parameters (%lld 1-bit, %lld 32-bit); %s binary MACs, %s FP MACs "
                  "per sample (%lld and %lld)\n",
            (long long)(s->bin_params + s->fp_params), (long long)s->bin_params,
            (long long)s->fp_params, bm, fm, (long long)s->bin_macs, (long long)s->fp_macs);
    fprintf(s->f, "weight memory: %.2f MiB as FP32, %.2f MiB bit-packed (%.1fx smaller)\n",
            fp32_bytes / (1 << 20), packed_bytes / (1 << 20),
            packed_bytes > 0 ? fp32_bytes / packed_bytes : 0.0);
}
