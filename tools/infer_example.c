/* infer_example — the smallest program on the inference runtime, using include/burn/infer.h
 * only: load a packed model, run one synthetic image, print the first features.
 *   infer_example MODEL.safetensors */
#include <stdio.h>
#include <stdlib.h>

#include "burn/infer.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: infer_example MODEL.safetensors\n");
        return 2;
    }
    burn_infer *m = burn_infer_load(argv[1]);
    if (!m) {
        fprintf(stderr, "infer_example: %s\n", burn_error());
        return 1;
    }
    int S = burn_infer_image_size(m), F = burn_infer_feature_dim(m);
    float *image = malloc(sizeof *image * 3 * S * S), *feat = malloc(sizeof *feat * F);
    for (int i = 0; i < 3 * S * S; i++) image[i] = (float)((i * 37 % 101) - 50) / 25.0f;
    int rc = burn_infer_run(m, image, 1, feat);
    if (rc != 0) {
        fprintf(stderr, "infer_example: %s\n", burn_error());
    } else {
        printf("%d features:", F);
        for (int i = 0; i < F && i < 8; i++) printf(" %.4f", feat[i]);
        printf("%s\n", F > 8 ? " ..." : "");
    }
    free(image);
    free(feat);
    burn_infer_free(m);
    return rc ? 1 : 0;
}
