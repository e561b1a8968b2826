/* config_keys.h — every config key of burn, in one list: section, key, type, default, range
 * or choices, one-line doc. config.h turns the list into `struct burn_config` fields named
 * section_key and into the schema table the parser, `--set` and `config --dump` use.
 *
 *   CFG_INT(section, key, default, min, max, doc)       int64_t
 *   CFG_FLOAT(section, key, default, min, max, doc)     double, finite, min <= v <= max
 *   CFG_BOOL(section, key, default, doc)                int; true/false/yes/no/on/off/1/0
 *   CFG_STR(section, key, default, doc)                 char * (may be empty)
 *   CFG_ENUM(section, key, default, "a|b|c", doc)       char *, one of the choices
 *
 * Add a key here and it exists everywhere (parser, dump, resolved config). Keep sections in
 * the order a config file reads best; keys of one section together. */
#ifndef BURN_CONFIG_KEYS_H
#define BURN_CONFIG_KEYS_H

#define BURN_CONFIG_KEYS(CFG_INT, CFG_FLOAT, CFG_BOOL, CFG_STR, CFG_ENUM)                      \
    CFG_STR(run, dir, "runs/default",                                                          \
            "run directory: resolved config, metrics.jsonl and checkpoints go here")           \
    CFG_INT(run, seed, 0, 0, 1000000000000000,                                            \
            "global seed: weights, sampling and augmentation all derive from it")              \
    CFG_ENUM(run, device, "auto", "auto|cpu|cuda",                                             \
             "backend: auto = CUDA when a device exists, else CPU (--device overrides)")       \
    CFG_FLOAT(model, width, 1.0, 0.01, 16.0,                                                   \
              "ReActNet-A width multiplier on the channel list [32 .. 1024] (1.0 = METHOD.md)")      \
    CFG_INT(model, stem_stride, 2, 1, 2, "ReActNet-A stem conv stride: 2 at 224, 1 for small inputs") \
    CFG_INT(model, stage, 1, 1, 2,                                                             \
            "1: binary activations, real weights; 2: binary weights and activations")          \
    CFG_BOOL(model, feature_fc, true, "pooled feature -> FC(F->feature_dim) + ReLU (METHOD.md §2)") \
    CFG_INT(model, feature_dim, 0, 0, 1048576,                                                 \
            "student feature width (FC output); 0 = the teacher's feature width when "          \
            "loss.fs_on = features, else the pooled width (docs/METHOD.md)")                  \
    CFG_ENUM(teacher, arch, "resnet50", "resnet18|resnet34|resnet50", "FP teacher backbone")  \
    CFG_FLOAT(teacher, width, 1.0, 0.01, 16.0, "teacher width multiplier on the base width 64") \
    CFG_BOOL(teacher, small_input, false,                                                      \
             "teacher stem conv3x3/1 without max pool (for 32x32 inputs)")                     \
    CFG_STR(teacher, checkpoint, "",                                                           \
            "teacher backbone weights (safetensors, see tools/convert_teacher.py); required")  \
    CFG_BOOL(teacher, head_trainable, true,                                                    \
             "train the teacher head jointly (BURN); false = frozen target (S2-BNN style)")    \
    CFG_FLOAT(teacher, head_lr_mult, 1.0, 0.0, 1000.0,                                         \
              "learning-rate multiplier of the teacher head (a slow target below 1; 0 "       \
              "freezes it exactly)")                                                         \
    CFG_STR(teacher, head_init, "",                                                            \
            "checkpoint, run dir or file whose teacher_head.* tensors initialise the teacher " \
            "head (S2-BNN: with head_trainable = false, a frozen pretrained classifier)")     \
    CFG_INT(head, hidden, 2000, 1, 1000000, "MLP head hidden width (METHOD.md §1)")                \
    CFG_INT(head, out, 2000, 1, 1000000, "MLP head output width: the classifier's classes")   \
    CFG_ENUM(data, source, "synthetic", "imagefolder|list|idx|synthetic",                      \
             "image source: class-folder tree, list file, IDX files, or built-in synthetic")   \
    CFG_STR(data, root, "",                                                                     \
            "dataset root: holds the split folders / IDX files; list paths are relative to it") \
    CFG_STR(data, train, "train",                                                               \
            "training split under root: class-folder tree, list file, or IDX images file")    \
    CFG_STR(data, train_labels, "train-labels-idx1-ubyte",                                      \
            "idx only: IDX labels file of the training split, under root")                     \
    CFG_STR(data, val, "val",                                                                   \
            "evaluation split under root: class-folder tree, list file, or IDX images file")  \
    CFG_STR(data, val_labels, "t10k-labels-idx1-ubyte",                                         \
            "idx only: IDX labels file of the evaluation split, under root")                   \
    CFG_INT(data, train_subset, 0, 0, 1000000000000,                                          \
            "use a seeded random subset of this many training images (0: all)")                \
    CFG_INT(data, val_subset, 0, 0, 1000000000000,                                            \
            "use a seeded random subset of this many evaluation images (0: all)")              \
    CFG_INT(data, image_size, 224, 8, 4096, "side of the network's input crops (pixels)")      \
    CFG_INT(data, views, 2, 1, 2, "augmented views per training image (BURN uses 2)")          \
    CFG_INT(data, workers, 4, 0, 256,                                                          \
            "loader threads that decode and augment; 0 = on the training thread")              \
    CFG_INT(data, prefetch, 2, 1, 64, "batches the workers may fill ahead of the trainer")      \
    CFG_INT(data, max_image_bytes, 67108864, 1, 2147483647,                                    \
            "largest image file accepted; larger files are skipped as bad")                    \
    CFG_INT(data, max_image_pixels, 89478485, 1, 1000000000000,                                \
            "largest width*height accepted, checked from the header before decoding")          \
    CFG_FLOAT(data, max_bad_fraction, 0.001, 0.0, 1.0,                                         \
              "stop when more than this share of the dataset's images failed to load")         \
    CFG_BOOL(data, drop_last, true, "drop the last partial global batch (else pad it)")        \
    CFG_FLOAT(data, stall_timeout, 120.0, 1.0, 86400.0,                                        \
              "error out when the loader finished no image for this many seconds")             \
    CFG_INT(data, synthetic_classes, 10, 2, 100000, "synthetic source: number of classes")     \
    CFG_INT(data, synthetic_count, 10000, 1, 1000000000, "synthetic source: training images")  \
    CFG_INT(data, synthetic_val_count, 1000, 1, 1000000000,                                    \
            "synthetic source: evaluation images")                                             \
    CFG_INT(data, synthetic_size, 64, 8, 4096, "synthetic source: image side (pixels)")        \
    CFG_FLOAT(augment, crop_scale_min, 0.08, 0.0001, 1.0,                                      \
              "RandomResizedCrop: smallest crop area as a share of the image")                 \
    CFG_FLOAT(augment, crop_scale_max, 1.0, 0.0001, 1.0,                                       \
              "RandomResizedCrop: largest crop area as a share of the image")                  \
    CFG_FLOAT(augment, crop_ratio_min, 0.75, 0.01, 100.0,                                      \
              "RandomResizedCrop: smallest aspect ratio w/h (3/4)")                            \
    CFG_FLOAT(augment, crop_ratio_max, 1.3333333333333333, 0.01, 100.0,                        \
              "RandomResizedCrop: largest aspect ratio w/h (4/3)")                             \
    CFG_ENUM(augment, interpolation, "bicubic", "bicubic|bilinear",                            \
             "resampling of crops and evaluation resizes (PIL-style, antialiased)")            \
    CFG_FLOAT(augment, flip_p, 0.5, 0.0, 1.0, "probability of a horizontal flip")              \
    CFG_FLOAT(augment, jitter_p, 0.6, 0.0, 1.0, "probability of applying ColorJitter")         \
    CFG_FLOAT(augment, jitter_brightness, 0.4, 0.0, 10.0,                                      \
              "ColorJitter brightness: factor ~ U(max(0, 1-b), 1+b)")                          \
    CFG_FLOAT(augment, jitter_contrast, 0.4, 0.0, 10.0,                                        \
              "ColorJitter contrast: factor ~ U(max(0, 1-c), 1+c)")                            \
    CFG_FLOAT(augment, jitter_saturation, 0.4, 0.0, 10.0,                                      \
              "ColorJitter saturation: factor ~ U(max(0, 1-s), 1+s)")                          \
    CFG_FLOAT(augment, jitter_hue, 0.1, 0.0, 0.5,                                              \
              "ColorJitter hue: shift ~ U(-h, h) in turns of the colour wheel")                \
    CFG_FLOAT(augment, gray_p, 0.2, 0.0, 1.0, "probability of grayscale (ITU-R 601-2 luma)")   \
    CFG_FLOAT(augment, blur_p, 0.2, 0.0, 1.0, "probability of a Gaussian blur")                \
    CFG_FLOAT(augment, blur_sigma_min, 0.1, 0.001, 100.0, "Gaussian blur: smallest sigma")     \
    CFG_FLOAT(augment, blur_sigma_max, 2.0, 0.001, 100.0, "Gaussian blur: largest sigma")      \
    CFG_FLOAT(augment, blur_kernel_frac, 0.1, 0.001, 1.0,                                      \
              "Gaussian blur kernel side as a share of the image side, made odd (BYOL: 23 at 224)") \
    CFG_FLOAT(augment, solarize_p, 0.0, 0.0, 1.0, "probability of solarisation")               \
    CFG_INT(augment, solarize_threshold, 128, 0, 256,                                          \
            "solarise: pixel values >= threshold (0..255 scale) are inverted")                 \
    CFG_FLOAT(augment, mean_r, 0.485, -10.0, 10.0, "normalise: mean of the red channel")       \
    CFG_FLOAT(augment, mean_g, 0.456, -10.0, 10.0, "normalise: mean of the green channel")     \
    CFG_FLOAT(augment, mean_b, 0.406, -10.0, 10.0, "normalise: mean of the blue channel")      \
    CFG_FLOAT(augment, std_r, 0.229, 0.000001, 10.0, "normalise: std of the red channel")      \
    CFG_FLOAT(augment, std_g, 0.224, 0.000001, 10.0, "normalise: std of the green channel")    \
    CFG_FLOAT(augment, std_b, 0.225, 0.000001, 10.0, "normalise: std of the blue channel")     \
    CFG_FLOAT(augment, eval_crop_ratio, 0.875, 0.05, 1.0,                                      \
              "evaluation: resize shorter side to image_size/ratio, center-crop image_size")   \
    CFG_ENUM(binary, act_grad, "clip", "clip|approx",                                          \
             "sign backward (STE): clip = g*1[|v|<=1], approx = ReActNet ApproxSign")          \
    CFG_ENUM(binary, weight_grad, "identity", "identity|clip",                                 \
             "stage-2 weight grad: identity = alpha*dWb (BURN), clip = dWb*1[|W|<=1]")         \
    CFG_FLOAT(loss, temperature, 0.2, 0.0001, 100.0,                                           \
              "softmax temperature T of both sides of the KL term (METHOD.md §4)")                  \
    CFG_ENUM(loss, fs, "cosine", "cosine|l1|l2",                                               \
             "feature similarity: cosine = |s^ - t^|^2, l1 = |s - t|_1, l2 = |s - t|_2^2")     \
    CFG_ENUM(loss, fs_on, "outputs", "outputs|features",                                       \
             "where FS applies: outputs = the head logits (released code), features = the "   \
             "teacher backbone's pooled feature vs the student feature (paper Eq. 2)")        \
    CFG_BOOL(loss, fs_to_teacher_head, true,                                                   \
             "fs_on = outputs: the FS gradient reaches the teacher head too (false = "        \
             "stop-gradient: the head learns from KL alone)")                                 \
    CFG_FLOAT(loss, teacher_temperature, 0.0, 0.0, 100.0,                                      \
              "temperature of the teacher side of KL (sharpening below loss.temperature); "   \
              "0 = loss.temperature")                                                         \
    CFG_FLOAT(loss, center_momentum, 0.0, 0.0, 0.999999,                                       \
              "teacher-logit centring: c = m*c + (1-m)*batch mean, KL sees t - c; 0 = off "   \
              "(DINO uses 0.9)")                                                              \
    CFG_FLOAT(loss, teacher_info_max, 0.0, 0.0, 100.0,                                         \
              "weight beta of information maximisation on the teacher head: theta also "      \
              "minimises beta*(mean H(p_n) - H(p_mean)), which no collapsed head minimises; 0 = off") \
    CFG_ENUM(loss, lambda_schedule, "cosine", "cosine|constant|step",                          \
             "FS weight lambda(t): cosine lambda_start -> lambda_end, constant, step at T/2")  \
    CFG_FLOAT(loss, lambda_start, 0.9, 0.0, 1.0,                                               \
              "FS weight lambda at iteration 0 (cosine and step schedules)")                   \
    CFG_FLOAT(loss, lambda_end, 0.7, 0.0, 1.0,                                                 \
              "FS weight lambda at the last iteration (cosine and step schedules)")            \
    CFG_FLOAT(loss, lambda_constant, 0.7, 0.0, 1.0, "lambda of the constant schedule")         \
    CFG_INT(train, epochs, 200, 1, 100000, "epochs of this stage (METHOD.md §6: 200)")              \
    CFG_INT(train, batch_size, 256, 1, 1048576, "images per rank per micro-batch")            \
    CFG_INT(train, accum, 2, 1, 1024, "micro-batches per optimiser update (gradient accumulation)") \
    CFG_INT(train, max_steps, 0, 0, 1000000000000,                                             \
            "stop after this many optimiser updates (0: all epochs); schedules keep their length") \
    CFG_FLOAT(train, lr, 3e-4, 0, 10, "Adam learning rate after warm-up (METHOD.md §6)")           \
    CFG_FLOAT(train, beta1, 0.9, 0, 0.999999, "Adam β1")                                      \
    CFG_FLOAT(train, beta2, 0.999, 0, 0.999999999, "Adam β2")                                 \
    CFG_FLOAT(train, eps, 1e-8, 1e-30, 1, "Adam ε")                                           \
    CFG_FLOAT(train, weight_decay, 0, 0, 1, "L2 weight decay added to the gradient (METHOD.md: 0)") \
    CFG_FLOAT(train, warmup_epochs, 10, 0, 100000, "linear warm-up length in epochs")         \
    CFG_FLOAT(train, warmup_start, 1e-4, 0, 1, "warm-up starts at this fraction of train.lr") \
    CFG_INT(train, ckpt_every, 1000, 0, 1000000000,                                            \
            "checkpoint every N optimiser updates (0: only at the end)")                      \
    CFG_INT(train, keep_ckpts, 3, 0, 1000000, "checkpoints kept in the run directory (0: all)") \
    CFG_STR(train, init_from, "",                                                              \
            "stage 2: stage-1 checkpoint or run directory; loads student and both heads")     \
    CFG_BOOL(train, debug, false,                                                              \
             "sync after every CUDA launch; check every layer output/gradient, name the first NaN/Inf") \
    CFG_BOOL(train, profile, false,                                                            \
             "log ms per update of each step phase (synchronising between phases)")          \
    CFG_ENUM(train, method, "burn", "burn|byol|moco",                                          \
             "what `train` optimises: BURN, or the BYOL / MoCo v2 baselines on the student")  \
    CFG_ENUM(train, precision, "fp32", "fp32|bf16|fp16",                                       \
             "compute of the FP GEMMs/convs: fp32, or bf16/fp16 operands with FP32 accumulation") \
    CFG_FLOAT(train, loss_scale, 65536.0, 1.0, 1e30,                                           \
              "fp16: initial dynamic loss scale (halved on overflow, doubled after growth_interval)") \
    CFG_INT(train, loss_scale_growth_interval, 2000, 1, 1000000000,                             \
            "fp16: finite updates in a row before the loss scale doubles")                      \
    CFG_INT(eval, batch_size, 256, 1, 1048576, "images per batch for feature extraction")     \
    CFG_INT(eval, knn_k, 20, 1, 100000, "k-NN: neighbours that vote (20 and 200 are common)") \
    CFG_FLOAT(eval, knn_temperature, 0.07, 1e-4, 100, "k-NN: vote weight exp(similarity / T)") \
    /* eval linear (src/eval/linear_eval.c, src/app/cmd_linear.c): METHOD.md §9 linear evaluation */         \
    CFG_INT(eval, linear_epochs, 100, 1, 100000, "linear eval: epochs of SGD on the train split") \
    CFG_FLOAT(eval, linear_lr, 0.01, 0.0, 100.0, "linear eval: SGD learning rate")              \
    CFG_FLOAT(eval, linear_momentum, 0.9, 0.0, 0.999999, "linear eval: SGD momentum")            \
    CFG_FLOAT(eval, linear_weight_decay, 0.0, 0.0, 1.0, "linear eval: SGD L2 weight decay")      \
    CFG_STR(eval, linear_milestones, "60,80",                                                  \
            "linear eval: epochs (comma list) after which the learning rate is multiplied by 0.1") \
    CFG_INT(eval, linear_batch_size, 256, 1, 1048576, "linear eval: images per SGD step")       \
    CFG_BOOL(eval, linear_train_fc, true,                                                      \
             "linear eval of the student: also train its feature FC (+ ReLU) from the checkpoint") \
    CFG_BOOL(eval, linear_augment, true,                                                       \
             "linear eval, images path: RandomResizedCrop + flip on the train split")           \
    /* eval svm (src/eval/svm.c, src/app/cmd_svm.c): linear SVMs, VOC07 mAP, full- and few-shot */    \
    CFG_STR(eval, svm_shots, "1,2,4,8,16,32,64,96,full",                                       \
            "SVM: training images per class, a comma list (0 or full: every image)")           \
    CFG_INT(eval, svm_draws, 5, 1, 1000, "SVM few-shot: random class-balanced draws per k")    \
    CFG_INT(eval, svm_folds, 3, 2, 100, "SVM: cross-validation folds that choose the cost")   \
    CFG_STR(eval, svm_costs, "0.03125,0.0625,0.125,0.25,0.5,1,2,4,8,16,32,64,128",             \
            "SVM: candidate costs C, a comma list (cross-validated by mean AP)")               \
    CFG_FLOAT(eval, svm_pos_weight, 2.0, 1e-3, 1e3,                                            \
              "SVM: loss weight of the positive class (Goyal et al. 2019: 2)")                 \
    CFG_INT(eval, svm_threads, 0, 0, 1024, "SVM: threads training the SVMs (0: every core)")  \
    CFG_INT(moco, epochs, 800, 1, 100000, "MoCo v2 teacher pretraining: epochs (METHOD.md §8: 800)") \
    CFG_INT(moco, batch_size, 256, 2, 1048576, "MoCo: images per step (two views each)")       \
    CFG_FLOAT(moco, lr, 0.03, 0.0, 100.0,                                                      \
              "MoCo: SGD learning rate for a batch of 256; used as lr * batch_size / 256")     \
    CFG_FLOAT(moco, momentum, 0.9, 0.0, 0.999999, "MoCo: SGD momentum")                        \
    CFG_FLOAT(moco, weight_decay, 1e-4, 0.0, 1.0, "MoCo: SGD L2 weight decay (all parameters)") \
    CFG_FLOAT(moco, ema, 0.999, 0.0, 1.0,                                                      \
              "MoCo: key-encoder momentum m: k = m*k + (1-m)*q after every step")              \
    CFG_INT(moco, queue, 65536, 1, 100000000, "MoCo: keys in the queue (negatives per query)") \
    CFG_FLOAT(moco, temperature, 0.2, 0.0001, 100.0, "MoCo: InfoNCE temperature tau")          \
    CFG_INT(moco, dim, 128, 1, 65536,                                                          \
            "MoCo: projection output width (head: Linear F->F, ReLU, Linear F->dim)")          \
    CFG_FLOAT(moco, warmup_epochs, 0.0, 0.0, 100000.0,                                         \
              "MoCo: linear warm-up from 0 before the cosine schedule (MoCo v2: none)")        \
    CFG_INT(moco, ckpt_every, 10, 0, 1000000,                                                  \
            "MoCo: write the checkpoint every N epochs (0: only at the end)")                  \
    CFG_INT(moco, max_steps, 0, 0, 1000000000000,                                              \
            "MoCo: stop after this many steps (0: all epochs); the schedule keeps its length") \
    CFG_FLOAT(byol, ema_start, 0.996, 0.0, 1.0,                                                \
              "BYOL baseline: target momentum at update 0, raised to 1 by cosine (BYOL: 0.996)") \
    CFG_INT(byol, hidden, 4096, 1, 1000000, "BYOL baseline: projector/predictor hidden width") \
    CFG_INT(byol, dim, 256, 1, 65536, "BYOL baseline: projector/predictor output width")     \
    CFG_ENUM(dist, sync_bn, "heads", "heads|all",                                             \
             "data parallel: global-batch BN statistics in the heads only (BURN), or in all BN") \
    CFG_FLOAT(dist, bucket_mb, 25.0, 0.001, 4096.0,                                            \
              "data parallel: gradient all-reduce bucket size in MiB")                         \
    CFG_FLOAT(dist, timeout, 600.0, 1.0, 86400.0,                                              \
              "data parallel: seconds a collective may wait for the other ranks, then stop")   \
    CFG_INT(log, every, 10, 1, 1000000000, "print a progress line every N optimiser steps")    \
    CFG_BOOL(log, quiet, false, "silence progress lines on stdout (metrics.jsonl is kept)")    \
    /* burn_gpu finetune (src/train/finetune.c): METHOD.md §9 semi-supervised fine-tuning, supervised */  \
    CFG_FLOAT(finetune, fraction, 0.01, 1e-6, 1.0,                                             \
              "labelled share of the train split: per class round(fraction*n_c), at least 1")  \
    CFG_STR(finetune, subset_list, "",                                                         \
            "labelled images as a file (one index or path per line) instead of the fraction")  \
    CFG_INT(finetune, epochs, 20, 1, 100000, "fine-tuning: epochs over the labelled subset")   \
    CFG_INT(finetune, batch_size, 256, 2, 1048576, "fine-tuning: images per optimiser step")   \
    CFG_ENUM(finetune, optimizer, "adam", "adam|sgd",                                          \
             "fine-tuning: adam (train.beta1/beta2/eps) or sgd with finetune.momentum")        \
    CFG_FLOAT(finetune, lr, 5e-4, 0.0, 100.0,                                                  \
              "fine-tuning: learning rate of the new classifier (cosine to 0 after warm-up)")  \
    CFG_FLOAT(finetune, backbone_lr, 0.1, 0.0, 1000.0,                                         \
              "fine-tuning: the student (backbone + FC) learns at lr * backbone_lr")           \
    CFG_FLOAT(finetune, weight_decay, 0.0, 0.0, 1.0,                                           \
              "fine-tuning: L2 weight decay added to every gradient")                          \
    CFG_FLOAT(finetune, momentum, 0.9, 0.0, 0.999999, "fine-tuning: SGD momentum")             \
    CFG_FLOAT(finetune, warmup_epochs, 0.0, 0.0, 100000.0,                                     \
              "fine-tuning: linear warm-up from 0 before the cosine schedule")

#endif
