/* data.h — image sources, decoding, the epoch sampler and the multithreaded batch loader.
 *
 * Sources (one interface, four kinds):
 *   imagefolder  root/<class>/[sub/]name.{jpg,jpeg,png}: classes = sub-folders sorted by name (byte
 *                order), files sorted by (folder, name) as torchvision's ImageFolder
 *   list         text file, one "relative/path label" per line, paths relative to a root
 *   idx          the MNIST family: an images file (u8, N×rows×cols) and a labels file (u8, N)
 *   synthetic    procedural RGB images with class structure (shape, colour, texture),
 *                deterministic per (seed, index), any size, no files
 * Every source gives count, label(i), num_classes and load(i) -> RGB uint8 image.
 *
 * Decoding: stb_image, JPEG and PNG only, grayscale/alpha -> RGB. The file size and the
 * pixel count (from the header, before any pixel is decoded) are checked against limits so
 * a decompression bomb is refused. A failing load returns -1 with burn_error() naming the
 * file; the loader skips such an image, counts it and stops only past max_bad_fraction.
 *
 * Sampler: a permutation of the dataset per epoch (Philox Fisher-Yates from seed, epoch),
 * global batches of batch × world, rank r taking the r-th slice of each; the last partial
 * global batch is dropped or padded by wrapping around. A position (epoch, step) fully
 * determines what comes next, so a run resumes mid-epoch.
 *
 * Loader: worker threads decode and augment ahead of the consumer into a ring of batch
 * buffers from be->host_alloc (page-locked on CUDA). One or two views per image as NCHW
 * float. The content of a batch depends only on (seed, epoch, step, rank, world), never on
 * the number of workers or their timing. */
#ifndef BURN_DATA_H
#define BURN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "burn/augment.h"
#include "burn/backend.h"
#include "burn/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Images */

/* An RGB uint8 image, rows packed: rgb[(y*w + x)*3 + c]. Buffers grow and are reused. */
typedef struct burn_image {
    int w, h;
    uint8_t *rgb;       /* [h][w][3] */
    size_t cap;         /* bytes allocated at rgb */
    uint8_t *file;      /* scratch for the encoded file */
    size_t file_cap;
} burn_image;

typedef struct burn_image_limits {
    int64_t max_bytes;  /* largest encoded file accepted (data.max_image_bytes) */
    int64_t max_pixels; /* largest w*h accepted, checked from the header (data.max_image_pixels) */
    const char *owner;  /* whose limits, for messages: NULL = the config keys above */
} burn_image_limits;

/* "data.max_image_pixels = N" (the config's limit) or "<owner>'s limit of N" for messages. */
void burn_image_limit_text(const burn_image_limits *lim, int pixels, char *buf, size_t len);

/* Make room for w×h (contents undefined); sets img->w, img->h. */
void burn_image_resize(burn_image *img, int w, int h);
void burn_image_free(burn_image *img);

/* Decode a JPEG or PNG held in memory. `name` prefixes error messages (a path). 0, or -1 with
 * burn_error() = "<name>: <reason>" (not an image, too many pixels, corrupt data). */
int burn_image_decode(const uint8_t *data, size_t n, const burn_image_limits *lim,
                      const char *name, burn_image *img);
/* Read path (size checked first) and decode it. 0, or -1 with burn_error(). */
int burn_image_load_file(const char *path, const burn_image_limits *lim, burn_image *img);

/* Write an RGB image as PNG / JPEG (stb_image_write; quality 1..100). 0, or -1 with
 * burn_error(). Used by the Fashion-MNIST preparation, the benchmark and the tests. */
int burn_image_write_png(const char *path, const uint8_t *rgb, int w, int h, int channels);
int burn_image_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int quality);

/* ------------------------------------------------------------------------------------------
 * Sources */

typedef struct burn_source burn_source;
struct burn_source {
    const char *kind;   /* "imagefolder", "list", "idx", "synthetic" (or a test's own) */
    char *origin;       /* root, list file or images file: for messages */
    int64_t count;
    int num_classes;
    int32_t *labels;    /* [count], each in [0, num_classes) */
    char **class_names; /* [num_classes]: folder names (imagefolder), else NULL */
    burn_image_limits limits;
    /* Load image i into img. Must be safe to call from several threads at once (each with its
     * own img). 0, or -1 with burn_error() naming the item and the reason. */
    int (*load)(const burn_source *s, int64_t i, burn_image *img);
    /* Name of item i for messages: a path, or "kind[i]". */
    void (*describe)(const burn_source *s, int64_t i, char *buf, size_t len);
    void (*destroy)(burn_source *s); /* frees impl (not the struct itself) */
    void *impl;
};

/* Each returns a new source, or NULL with burn_error() set. */
burn_source *burn_source_imagefolder(const char *root, const burn_image_limits *lim);
/* list_path: the list file; root: what its relative paths are relative to ("" = the list's
 * own folder). Absolute paths in the list are used as they are. */
burn_source *burn_source_list(const char *list_path, const char *root,
                              const burn_image_limits *lim);
burn_source *burn_source_idx(const char *images_path, const char *labels_path);
/* count images of w×h in `classes` classes; label(i) = i mod classes. */
burn_source *burn_source_synthetic(uint64_t seed, int64_t count, int classes, int w, int h);

/* The source the config describes for a split: split = "train" or "val" (data.train /
 * data.val and their label files, relative to data.root). NULL with burn_error() set. */
burn_source *burn_source_from_config(const burn_config *cfg, const char *split);

static inline int64_t burn_source_count(const burn_source *s) { return s->count; }
static inline int burn_source_label(const burn_source *s, int64_t i) { return s->labels[i]; }
int burn_source_load(const burn_source *s, int64_t i, burn_image *img); /* range-checked */
void burn_source_free(burn_source *s);
/* A seeded random subset of n images of `inner` (which it takes over), in index order; inner
 * itself when n <= 0 or n >= its count (data.train_subset, data.val_subset). */
burn_source *burn_source_subset(burn_source *inner, int64_t n, uint64_t seed);

/* Limits from data.max_image_bytes / data.max_image_pixels. */
burn_image_limits burn_image_limits_from_config(const burn_config *cfg);

/* Write synthetic image `index` (w×h RGB) into rgb[h*w*3]; its label is index mod classes.
 * Exposed for the benchmark, which encodes synthetic images as JPEG/PNG. */
void burn_synthetic_render(uint64_t seed, int64_t index, int classes, int w, int h,
                           uint8_t *rgb);

/* ------------------------------------------------------------------------------------------
 * Sampler */

typedef struct burn_sampler {
    int64_t count;      /* dataset size N */
    int batch;          /* per rank */
    int rank, world;
    int shuffle;        /* 0: identity order every epoch (evaluation) */
    int drop_last;      /* 1: drop the last partial global batch; 0: pad it by wrapping */
    uint64_t seed;
    int64_t steps_per_epoch;
    /* cache: the permutation of `perm_epoch` */
    int64_t *perm, perm_epoch;
} burn_sampler;

/* 0, or -1 with burn_error() (empty dataset, rank outside the world, no full batch with
 * drop_last, ...). */
int burn_sampler_init(burn_sampler *s, int64_t count, int batch, int rank, int world,
                      int shuffle, int drop_last, uint64_t seed);
void burn_sampler_free(burn_sampler *s);
/* Dataset indices of this rank's batch `step` of `epoch`: idx[batch]. is_pad[k] (may be NULL)
 * is 1 where the slot repeats an image from the start of the epoch to fill the last batch.
 * Returns how many slots are real (not padding). step must be < steps_per_epoch. */
int burn_sampler_batch(burn_sampler *s, int64_t epoch, int64_t step, int64_t *idx,
                       uint8_t *is_pad);
/* The epoch's permutation of [0, N) written to perm[N] (the same on every rank). */
void burn_sampler_permutation(uint64_t seed, int64_t epoch, int64_t n, int shuffle,
                              int64_t *perm);

/* ------------------------------------------------------------------------------------------
 * Loader */

typedef struct burn_loader_opts {
    int batch;                /* images per batch on this rank */
    int views;                /* 1 or 2 augmented views per image */
    int train;                /* 1: the training augmentation; 0: evaluation transform */
    int size;                 /* output side (data.image_size) */
    int workers;              /* threads; 0 = decode on the consumer's thread */
    int prefetch;             /* batch buffers in the ring (>= 1) */
    int rank, world;
    int shuffle, drop_last;
    int64_t epochs;           /* the last batch is the end of epoch epochs-1 (counted from
                               * 0, whatever the start); 0 = endless */
    int64_t start_epoch, start_step; /* resume position */
    uint64_t seed;
    double max_bad_fraction;  /* stop once more than this share of the dataset failed */
    double stall_timeout_s;   /* no image finished for this long -> error (0 = 120 s) */
    burn_aug_params aug;
    const burn_backend *be;   /* batch buffers from be->host_alloc */
} burn_loader_opts;

/* Defaults from a config: data.*, augment.*, run.seed; batch, rank, world, train, epochs
 * and be are the caller's. */
void burn_loader_opts_from_config(burn_loader_opts *o, const burn_config *cfg);

typedef struct burn_batch {
    int n;                 /* images (= opts.batch) */
    int n_real;            /* images that are not padding */
    int views, h, w;       /* x[v] is [n][3][h][w] */
    float *x[2];           /* host memory from be->host_alloc */
    int32_t *labels;       /* [n] */
    int64_t *indices;      /* [n] dataset index actually used (a substitute for a bad image) */
    uint8_t *is_pad;       /* [n] */
    int64_t epoch, step;   /* position of this batch */
} burn_batch;

typedef struct burn_loader burn_loader;

/* Starts the workers. The source must outlive the loader. NULL with burn_error() set. */
burn_loader *burn_loader_create(const burn_source *src, const burn_loader_opts *o);
/* The next batch in order: 0 and *out; 1 when `epochs` are done; -1 with burn_error() set
 * (too many bad images, a stalled worker). The batch stays valid until the next call (or
 * burn_loader_free): finish any asynchronous upload from it before calling again. */
int burn_loader_next(burn_loader *l, const burn_batch **out);
/* burn_loader_next, and view v of the batch as a network input in backend memory: uploaded
 * into dev (n·3·h·w floats of be's memory) on a device backend, the host batch itself on the
 * CPU (dev may be NULL there). Same return values. */
int burn_loader_next_view(burn_loader *l, const burn_backend *be, int v, float *dev,
                          const burn_batch **out, const float **x);
/* Images skipped as unreadable so far (distinct dataset indices). */
int64_t burn_loader_bad_count(const burn_loader *l);
int64_t burn_loader_steps_per_epoch(const burn_loader *l);
/* Seconds the consumer waited inside burn_loader_next so far (the input pipeline's stall). */
double burn_loader_wait_seconds(const burn_loader *l);
/* Stops and joins the workers, frees the buffers. */
void burn_loader_free(burn_loader *l);

#ifdef __cplusplus
}
#endif

#endif
