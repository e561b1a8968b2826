/* cmd_export.c — `burn_gpu export --packed`: a stage-2 ReActNet-A checkpoint -> the bit-packed
 * deployable file of export.h, read by the CPU runtime (infer.h). Packing goes through the
 * CPU backend's own binarize_weights and bconv_pack_weights, so the file holds exactly the
 * α and sign bits the trainer's stage-2 forward uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/backend.h"
#include "burn/bconv.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/config.h"
#include "burn/export.h"
#include "burn/safetensors.h"

/* Geometry of the binary conv whose latent weight is parameter `idx` (stride and size do not
 * change the packing: it depends on O, C and the kernel only). */
static int conv_of_param(const burn_reactnet *net, int idx, burn_bconv *cv) {
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++) {
        const burn_reactnet_block *k = &net->blocks[b];
        if (idx == k->conv3x3)
            return burn_bconv_init(cv, 1, k->cin, k->in_hw, k->in_hw, k->cin, 3, k->stride, 1);
        if (idx == k->conv1x1[0] || idx == k->conv1x1[1])
            return burn_bconv_init(cv, 1, k->cin, k->out_hw, k->out_hw, k->cin, 1, 1, 0);
    }
    burn_error_set("export: binary parameter %d is not a conv of the student", idx);
    return -1;
}

/* The architecture in __metadata__: what a loader needs to rebuild the network. */
static void add_arch_meta(burn_st_writer *w, const burn_reactnet *net, const char *format) {
    char v[64];
    burn_st_add_meta(w, "format", format);
    burn_st_add_meta(w, "arch", "reactnet-a");
    snprintf(v, sizeof v, "%.17g", net->cfg.width);
    burn_st_add_meta(w, "width", v);
    snprintf(v, sizeof v, "%d", net->cfg.image_size);
    burn_st_add_meta(w, "image_size", v);
    snprintf(v, sizeof v, "%d", net->cfg.stem_stride);
    burn_st_add_meta(w, "stem_stride", v);
    snprintf(v, sizeof v, "%d", net->cfg.feature_fc ? 1 : 0);
    burn_st_add_meta(w, "feature_fc", v);
    snprintf(v, sizeof v, "%d", net->feature_dim);
    burn_st_add_meta(w, "feature_dim", v);
}

int burn_export_packed(const burn_reactnet *net, const burn_params *ps, const char *prefix,
                       int fp16, const char *out_path, burn_export_sizes *sizes) {
    if (net->cfg.stage != 2) {
        burn_error_set("export --packed needs a stage-2 student (binary weights): model.stage "
                       "is %d", net->cfg.stage);
        return -1;
    }
    const burn_backend *be = burn_cpu_backend();
    if (ps->be && ps->be->is_device) {
        burn_error_set("export: the parameters must be in host memory (CPU backend)");
        return -1;
    }
    burn_export_sizes sz = {0, 0, 0, 0};
    size_t plen = strlen(prefix);
    burn_st_writer w;
    burn_st_writer_init(&w);
    /* every host array handed to the writer lives until burn_st_save returns */
    int nkeep = 0;
    void **keep = burn_xcalloc((size_t)ps->n * 2 + 1, sizeof *keep);
    char **names = burn_xcalloc((size_t)ps->n * 2 + 1, sizeof *names);
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (strncmp(p->name, prefix, plen) != 0) continue;
        const char *name = p->name + plen;
        const float *data = burn_param_data(ps, i);
        sz.fp32_student_bytes += p->numel * 4;
        if (p->binary) {
            burn_bconv cv;
            if (conv_of_param(net, i, &cv) != 0) goto fail;
            sz.fp32_binary_bytes += p->numel * 4;
            /* bconv_pack_weights writes bits then tap sums; only the bits are kept */
            void *packed = burn_xcalloc(1, burn_bconv_packed_bytes(&cv));
            float *alpha = burn_xcalloc((size_t)cv.O, sizeof(float));
            float *wb = burn_xcalloc((size_t)p->numel, sizeof(float));
            be->binarize_weights(wb, alpha, data, cv.O, cv.K);
            be->bconv_pack_weights(&cv, packed, data);
            free(wb);
            keep[nkeep++] = packed;
            keep[nkeep++] = alpha;
            size_t nl = strlen(name);
            if (nl < 7 || strcmp(name + nl - 7, ".weight") != 0) {
                burn_error_set("export: binary tensor %s is not a .weight", p->name);
                goto fail;
            }
            char *nb = burn_xcalloc(nl + 8, 1), *na = burn_xcalloc(nl + 8, 1);
            snprintf(nb, nl + 8, "%.*s.bits", (int)(nl - 7), name);
            snprintf(na, nl + 8, "%.*s.alpha", (int)(nl - 7), name);
            names[2 * i] = nb;
            names[2 * i + 1] = na;
            int64_t sb[2] = {cv.O, cv.ldk}, sa[1] = {cv.O};
            burn_st_add(&w, nb, BURN_U64, 2, sb, packed);
            burn_st_add(&w, na, BURN_F32, 1, sa, alpha);
            sz.packed_binary_bytes += (int64_t)burn_bconv_bits_bytes(&cv) + 4LL * cv.O;
        } else if (fp16) {
            uint16_t *h = burn_xcalloc((size_t)p->numel, sizeof *h);
            for (int64_t j = 0; j < p->numel; j++) h[j] = burn_f32_to_f16(data[j]);
            keep[nkeep++] = h;
            burn_st_add(&w, name, BURN_F16, p->ndim, p->shape, h);
            sz.packed_fp_bytes += p->numel * 2;
        } else {
            burn_st_add(&w, name, BURN_F32, p->ndim, p->shape, data);
            sz.packed_fp_bytes += p->numel * 4;
        }
    }
    add_arch_meta(&w, net, BURN_PACKED_FORMAT);
    burn_st_add_meta(&w, "fp_dtype", fp16 ? "F16" : "F32");
    int rc = burn_st_save(&w, out_path);
    if (rc == 0 && sizes) *sizes = sz;
    goto done;
fail:
    rc = -1;
done:
    burn_st_writer_free(&w);
    for (int i = 0; i < nkeep; i++) free(keep[i]);
    for (int i = 0; i < ps->n * 2; i++) free(names[i]);
    free(keep);
    free(names);
    return rc;
}

int burn_export_torch(const burn_reactnet *net, const burn_params *ps, const char *prefix,
                      const char *out_path) {
    if (ps->be && ps->be->is_device) {
        burn_error_set("export: the parameters must be in host memory (CPU backend)");
        return -1;
    }
    size_t plen = strlen(prefix);
    burn_st_writer w;
    burn_st_writer_init(&w);
    static const int64_t zero = 0; /* num_batches_tracked: eval never reads it */
    int nnames = 0;
    char **names = burn_xcalloc((size_t)ps->n, sizeof *names);
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (strncmp(p->name, prefix, plen) != 0) continue;
        const char *name = p->name + plen;
        burn_st_add(&w, name, BURN_F32, p->ndim, p->shape, burn_param_data(ps, i));
        size_t nl = strlen(name), tl = strlen(".running_var");
        if (nl > tl && strcmp(name + nl - tl, ".running_var") == 0) {
            char *nb = NULL;
            if (asprintf(&nb, "%.*s.num_batches_tracked", (int)(nl - tl), name) < 0) abort();
            names[nnames++] = nb;
            burn_st_add(&w, nb, BURN_I64, 0, NULL, &zero);
        }
    }
    add_arch_meta(&w, net, BURN_TORCH_FORMAT);
    char v[16];
    snprintf(v, sizeof v, "%d", net->cfg.stage);
    burn_st_add_meta(&w, "stage", v);
    int rc = burn_st_save(&w, out_path);
    burn_st_writer_free(&w);
    for (int i = 0; i < nnames; i++) free(names[i]);
    free(names);
    return rc;
}

static double mib(int64_t b) { return (double)b / (1024.0 * 1024.0); }

/* Does path hold a training checkpoint (burn-ckpt-1, burn-moco-ckpt-1)? */
static int is_training_checkpoint(const char *path) {
    burn_st_file f;
    if (access(path, F_OK) != 0 || burn_st_open(&f, path) != 0) return 0;
    const char *format = burn_st_meta(&f, "format");
    int yes = format && strncmp(format, "burn-", 5) == 0 && strstr(format, "ckpt-");
    burn_st_close(&f);
    return yes;
}

int cmd_export(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--packed", NULL, "bit-packed deployable file for burn_infer (stage 2)", 0},
        {"--torch", NULL, "the backbone as a PyTorch state dict (FP32 latent weights; "
                          "tools/reference/burn_reference.py ReActNetA names)", 0},
        {"--checkpoint", "PATH", "a checkpoint or its run directory (newest checkpoint)",
         0},
        {"--out", "FILE", "output .safetensors", 0},
        {"--fp16", NULL, "store the FP layers (stem, BN, RSign, RPReLU, fc) as F16", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu export",
                             "--packed|--torch --config FILE --checkpoint CKPT|RUNDIR --out FILE",
                             "Export the student: --packed, bit-packed for the CPU inference "
                             "runtime (include/burn/infer.h, burn_infer; stage 2 only); --torch, "
                             "a PyTorch state dict in safetensors (include/burn/export.h).",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *ckpt = burn_arg(&a, "--checkpoint"), *out = burn_arg(&a, "--out");
    int torch = burn_arg_flag(&a, "--torch");
    if (burn_arg_flag(&a, "--packed") == torch || !ckpt || !out ||
        (torch && burn_arg_flag(&a, "--fp16"))) {
        fprintf(stderr, "burn_gpu export: needs one of --packed and --torch, --checkpoint and "
                        "--out; --fp16 goes with --packed only (see --help)\n");
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    if (is_training_checkpoint(out)) { /* its own input, or any run's: never replaced */
        fprintf(stderr, "burn_gpu export: --out %s is a training checkpoint; export writes a new "
                        "file (choose another --out)\n", out);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    burn_reactnet net;
    burn_params ps;
    burn_params_init_registry(&ps);
    rc = 2;
    if (burn_models_from_config(&cfg, &net, NULL, NULL, NULL) != 0) goto out;
    if (!torch && net.cfg.stage != 2) {
        burn_error_set("export --packed needs a stage-2 model: set model.stage = 2 (the "
                       "config says %d)", net.cfg.stage);
        goto out;
    }
    burn_reactnet_register(&net, &ps, "student.");
    burn_params_finalize(&ps, burn_cpu_backend());
    static const char *const student[] = {"student.", NULL};
    if (burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", ckpt, &cfg, 0}, &ps, student) != 0)
        goto out; /* a checkpoint that does not fit: exit 2, as eval and train */
    rc = 1;
    if (torch) {
        if (burn_export_torch(&net, &ps, "student.", out) != 0) goto out;
        printf("exported %s (PyTorch state dict of the stage-%d backbone, FP32)\n", out,
               net.cfg.stage);
        rc = 0;
        goto out;
    }
    burn_export_sizes sz;
    if (burn_export_packed(&net, &ps, "student.", burn_arg_flag(&a, "--fp16"), out, &sz) != 0)
        goto out;
    int64_t packed = sz.packed_binary_bytes + sz.packed_fp_bytes;
    printf("exported %s\n", out);
    printf("  student in FP32:  %10lld bytes (%.2f MiB), binary-conv weights %.2f MiB\n",
           (long long)sz.fp32_student_bytes, mib(sz.fp32_student_bytes),
           mib(sz.fp32_binary_bytes));
    printf("  packed tensors:   %10lld bytes (%.2f MiB), %.1fx smaller\n", (long long)packed,
           mib(packed), (double)sz.fp32_student_bytes / (double)packed);
    printf("  binary part:      %10lld bytes (bits + alpha), %.1fx smaller than its FP32\n",
           (long long)sz.packed_binary_bytes,
           (double)sz.fp32_binary_bytes / (double)sz.packed_binary_bytes);
    printf("  FP layers:        %10lld bytes (%s), %.1f%% of the packed file\n",
           (long long)sz.packed_fp_bytes, burn_arg_flag(&a, "--fp16") ? "F16" : "F32",
           100.0 * (double)sz.packed_fp_bytes / (double)packed);
    rc = 0;
out:
    if (rc) fprintf(stderr, "burn_gpu export: %s\n", burn_error());
    burn_params_free(&ps);
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
