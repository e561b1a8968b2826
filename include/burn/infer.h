/* infer.h — the CPU inference runtime for a bit-packed ReActNet-A (the file of
 * `burn_gpu export --packed`, layout in export.h). Self-contained: an application includes
 * this header only and links libburn.a.
 *
 *   burn_infer *m = burn_infer_load("model.safetensors");
 *   if (!m) fprintf(stderr, "%s\n", burn_error());
 *   int S = burn_infer_image_size(m), F = burn_infer_feature_dim(m);
 *   burn_infer_run(m, images, n, features);   // images [n, 3, S, S] NCHW float (normalised
 *                                             // as in training), features [n, F]
 *   burn_infer_free(m);
 *
 * The forward is the trainer's eval-mode forward (BN with running statistics, stage-2
 * binary convs α_o·xnor-popcount on the packed bits) through the CPU backend's kernels —
 * AVX-512 / AVX2 / portable xnor GEMM chosen at run time, threaded by the kernels themselves —
 * so features equal the trainer's bit for bit. A handle runs one batch at a time (not
 * thread-safe); its activation buffers are sized for the largest n seen. */
#ifndef BURN_INFER_H
#define BURN_INFER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_infer burn_infer;

/* Map, validate (format, metadata, every tensor's dtype and shape, finite values, zero pad
 * bits) and load a packed model. NULL with burn_error() = "<path>: <problem>" on failure. */
burn_infer *burn_infer_load(const char *path);
/* features[n, F] of images[n, 3, S, S]. 0, or -1 with burn_error() (n < 1, out of memory). */
int burn_infer_run(burn_infer *m, const float *images, int n, float *features);
int burn_infer_feature_dim(const burn_infer *m);
int burn_infer_image_size(const burn_infer *m);
void burn_infer_free(burn_infer *m);

/* The last error message of this thread (also declared by burn/check.h). */
const char *burn_error(void);

#ifdef __cplusplus
}
#endif

#endif
