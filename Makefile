# burn — build, test and demo.
#   make            burn_gpu and burn_bench (CPU backend; + CUDA backend when the toolkit is found)
#   make test       install dependencies, build, run every test, print a summary line
#   make demo       the BURN pipeline on Fashion-MNIST, with a k-NN table (runs/demo/)
#   make test-sanitize  the CPU tests under ASan + UBSan
#   make fuzz       the libFuzzer targets of tests/fuzz, FUZZ_SECONDS (60) each (needs clang)
#   make test-gpu   tests/gpu alone (each test prints "skipped: no CUDA device" without one)
#   make clean
# Options: CUDA=0 builds without CUDA even when found; BUILD=dir puts objects elsewhere and
#          BIN=dir the programs (parallel work trees: make BUILD=build-x BIN=build-x);
#          CUDA_ARCHS="80 90" picks the GPU architectures (sm_90 and sm_80 by default).

SHELL     := /bin/bash
# the Python tools and tests run in the project's virtualenv (tools/install-deps.sh makes it)
export PATH := $(CURDIR)/.venv/bin:$(PATH)
BUILD     ?= build
BIN       ?= .
CC        ?= cc
CUDA      ?= auto
CUDA_ARCHS ?= 80 90

GIT_REV   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS    ?= -O2 -g
# SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer (make test-sanitize)
ifeq ($(SANITIZE),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# FUZZ=1: clang, libFuzzer coverage instrumentation + ASan + UBSan (make fuzz; own build tree)
ifeq ($(FUZZ),1)
  CC      := clang
  CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# clang ignores "#pragma GCC target": the AVX-512 kernel (run only after a CPU check) gets flags
$(BUILD)/src/cpu/xnor_gemm_avx512.o: CFLAGS += $(if $(filter 1,$(FUZZ)),-mavx512f -mavx512bw \
    -mavx512vl -mavx512dq -mavx512vpopcntdq -mavx2 -mfma -mpopcnt)
# Adam: sqrtf without errno (its argument is never negative) lets the update loop vectorise;
# each lane computes what the scalar loop would (IEEE sqrt and division are exact-rounded)
$(BUILD)/src/cpu/adam.o: CFLAGS += -fno-math-errno
# RSign / RPReLU: their selects may evaluate both sides (burn never reads FP exception flags),
# so the loops vectorise; the values are those of the scalar code
$(BUILD)/src/cpu/rsign.o $(BUILD)/src/cpu/rprelu.o: CFLAGS += -fno-trapping-math
# stb_image_write shifts signed ints in its JPEG writer (third-party code, harmless on gcc)
$(BUILD)/src/data/data_image.o: CFLAGS += $(if $(filter 1,$(SANITIZE) $(FUZZ)),-fno-sanitize=shift)
# stb_image adds 0 to / memcpys 0 bytes into a NULL buffer for an empty first PNG IDAT (harmless;
# clang flags both): ASan still checks every access
$(BUILD)/src/data/data_image.o: CFLAGS += $(if $(filter 1,$(FUZZ)),-fno-sanitize=pointer-overflow -fno-sanitize=nonnull-attribute)
CFLAGS    += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -pthread \
             -Iinclude -I/usr/include/cjson -I/usr/include/stb -MMD -MP \
             -DBURN_GIT_REV=\"$(GIT_REV)\"
# OpenBLAS's OpenMP build where installed (tools/install-deps.sh installs it): its GEMMs and
# burn's own parallel loops then share one OpenMP thread pool; the pthread build's idle
# workers spin in sched_yield beside burn's threads (~35% of a 2-core step's CPU time).
# clang (make fuzz) builds without OpenMP: the loops run serially.
OPENBLAS_OMP := $(if $(filter 1,$(FUZZ)),,$(firstword $(wildcard \
                  /usr/lib/$(shell $(CC) -dumpmachine 2>/dev/null)/openblas-openmp/libopenblas.so.0)))
OPENBLAS_RPATH := -Wl,-rpath,$(dir $(OPENBLAS_OMP))
BLAS_LIBS := $(if $(OPENBLAS_OMP),$(OPENBLAS_OMP) $(OPENBLAS_RPATH),-lopenblas)
CFLAGS    += $(if $(filter 1,$(FUZZ)),-Wno-unknown-pragmas,-fopenmp)
LDLIBS    := $(BLAS_LIBS) -lcjson -llinear -ljpeg -lz -lm -lpthread

# ---- MPI (data parallelism, include/burn/dist.h): always linked; used only under mpirun ----
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null || mpicc --showme:compile 2>/dev/null)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || mpicc --showme:link 2>/dev/null)
HAVE_MPI   := $(or $(MPI_LIBS),$(wildcard /usr/include/mpi.h))
CFLAGS    += $(MPI_CFLAGS)
LDLIBS    += $(MPI_LIBS)

# ---- CUDA toolkit detection (nvcc, cuBLAS, cuDNN, NCCL) ----
NVCC      ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_HOME ?= $(if $(NVCC),$(patsubst %/bin/nvcc,%,$(realpath $(NVCC))),/usr/local/cuda)
CUDA_INC  := $(CUDA_HOME)/include /usr/local/include /usr/include
CUDA_LIBDIRS := $(CUDA_HOME)/lib64 $(CUDA_HOME)/lib /usr/local/lib /usr/lib/x86_64-linux-gnu
find_hdr  = $(firstword $(wildcard $(addsuffix /$(1),$(CUDA_INC))))
find_lib  = $(firstword $(wildcard $(addsuffix /lib$(1).so,$(CUDA_LIBDIRS))))
HAVE_NVCC   := $(if $(NVCC),yes,)
HAVE_CUBLAS := $(and $(call find_hdr,cublas_v2.h),$(call find_lib,cublas))
HAVE_CUDNN  := $(and $(call find_hdr,cudnn.h),$(call find_lib,cudnn))
HAVE_NCCL   := $(and $(call find_hdr,nccl.h),$(call find_lib,nccl))
ifeq ($(CUDA),0)
  WITH_CUDA :=
else
  WITH_CUDA := $(and $(HAVE_NVCC),$(HAVE_CUBLAS),$(HAVE_CUDNN),$(HAVE_NCCL))
endif
mark = $(if $(1),✓,✗)
# quiet build lines unless V=1
Q := $(if $(V),,@)
say = $(if $(V),,@echo "  $(1) $(2)";)

NVCCFLAGS ?= -O3
# --fmad=false: a·b + c is not contracted into an FMA, so the per-element math shared with the
# CPU (BURN_HD) rounds the same on both backends (bit-identical RNG fills, InfoNCE arguments)
NVCCFLAGS += -std=c++17 -Iinclude -Xcompiler -fPIC,-Wall -MMD -MP --fmad=false \
             $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
             -gencode arch=compute_90,code=compute_90
CUDA_LIBDIR := $(dir $(call find_lib,cudart))
CUDA_LDLIBS := $(foreach d,$(sort $(dir $(call find_lib,cudart) $(call find_lib,cublas) \
                 $(call find_lib,cudnn) $(call find_lib,nccl))),-L$(d) -Wl,-rpath,$(d)) \
               -lcudart -lcublas -lcublasLt -lcudnn -lnccl -lstdc++

# ---- sources ----
LIB_C     := $(filter-out src/app/main.c src/core/cuda_absent.c,$(wildcard src/*/*.c))
ifneq ($(WITH_CUDA),)
  LIB_CU  := $(wildcard kernels/*.cu)
  LIB_C   += $(wildcard kernels/*.c)
  LDLIBS  += $(CUDA_LDLIBS)
else
  LIB_C   += src/core/cuda_absent.c
endif
LIB_OBJ   := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CU:%.cu=$(BUILD)/%.cu.o)
BENCH_C   := $(wildcard tools/bench/*.c)
TEST_C    := $(wildcard tests/*.c)
GPU_TEST_C := $(wildcard tests/gpu/*.c)
TEST_BIN  := $(TEST_C:tests/%.c=$(BUILD)/tests/%)
GPU_TEST_BIN := $(GPU_TEST_C:tests/gpu/%.c=$(BUILD)/tests/gpu/%)

.PHONY: all deps detect test test-gpu test-sanitize test-bins clean demo fuzz fuzz-bins
all: detect $(BIN)/burn_gpu $(BIN)/burn_bench $(BIN)/burn_infer $(BIN)/infer_example

detect:
	@echo "burn build: OpenBLAS-OpenMP $(call mark,$(OPENBLAS_OMP))  MPI $(call mark,$(HAVE_MPI))  nvcc $(call mark,$(HAVE_NVCC))  cuBLAS $(call mark,$(HAVE_CUBLAS))  cuDNN $(call mark,$(HAVE_CUDNN))  NCCL $(call mark,$(HAVE_NCCL))  ->  CUDA backend $(if $(WITH_CUDA),on (sm_$(subst $() $(),/sm_,$(CUDA_ARCHS))),off)"

# AVX2 code lives in *_avx2.c and is chosen at run time, so only those files get -mavx2.
$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -mavx2 -mfma -mpopcnt -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# the CUDA objects are rebuilt when the nvcc flags change (the stamp is rewritten only then)
$(BUILD)/nvcc.flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(NVCC) $(NVCCFLAGS)' | cmp -s - $@ || echo '$(NVCC) $(NVCCFLAGS)' > $@
FORCE:

$(BUILD)/%.cu.o: %.cu $(BUILD)/nvcc.flags
	@mkdir -p $(dir $@)
	$(call say,NVCC,$@)
	$(Q)$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(BUILD)/libburn.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN)/burn_gpu: $(BUILD)/src/app/main.o $(BUILD)/libburn.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/burn_bench: $(BENCH_C:%.c=$(BUILD)/%.o) $(BUILD)/libburn.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# the CPU inference runtime's CLI and its minimal example (include/burn/infer.h)
$(BIN)/burn_infer $(BIN)/infer_example: $(BIN)/%: $(BUILD)/tools/%.o $(BUILD)/libburn.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tests/test_infer: $(BIN)/burn_infer # runs it (BURN_INFER)

# tests that run the programs find them through BURN_GPU / BURN_BENCH
TEST_FLAGS := -Itests -DBURN_GPU='"$(BIN)/burn_gpu"' -DBURN_BENCH='"$(BIN)/burn_bench"' \
              -DBURN_INFER='"$(BIN)/burn_infer"'

$(BUILD)/tests/%: tests/%.c $(BUILD)/libburn.a $(BIN)/burn_gpu
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(TEST_FLAGS) $< $(BUILD)/libburn.a -o $@ $(LDLIBS) -lcriterion

$(BUILD)/tests/gpu/%: tests/gpu/%.c $(BUILD)/libburn.a $(BIN)/burn_gpu
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(TEST_FLAGS) $< $(BUILD)/libburn.a -o $@ $(LDLIBS) -lcriterion

deps:
	@bash tools/install-deps.sh

test-bins: all $(TEST_BIN) $(GPU_TEST_BIN)

# Dependencies first (a fresh machine has none), then a separate make that sees them.
test:
	@bash tools/install-deps.sh
	@$(MAKE) --no-print-directory test-bins
	@bash tests/run.sh $(TEST_BIN) $(GPU_TEST_BIN)

# The README's main command: the whole pipeline on Fashion-MNIST (tools/demo.sh).
demo:
	@bash tools/install-deps.sh
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) bash tools/demo.sh

# The CPU test suite under AddressSanitizer + UndefinedBehaviorSanitizer (own build tree).
SAN_BUILD := build-sanitize
test-sanitize:
	@bash tools/install-deps.sh
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) BIN=$(SAN_BUILD) CUDA=0 SANITIZE=1 test-bins
	@ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run.sh $(filter-out %/test_dist,$(TEST_C:tests/%.c=$(SAN_BUILD)/tests/%))
	@# Open MPI's run-time plugins leak at exit from unloaded modules LeakSanitizer cannot name:
	@# the MPI tests run with ASan and UBSan but without the leak check.
	@ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run.sh $(SAN_BUILD)/tests/test_dist

# libFuzzer targets (tests/fuzz/): the safetensors reader, the config parser, the IDX reader,
# the list-file parser and the image decoder, each run FUZZ_SECONDS from its seed corpus.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_C       := $(wildcard tests/fuzz/*.c)
# the library without what the targets never reach and clang 14 cannot compile (_Float16)
FUZZ_LIB_OBJ := $(filter-out $(BUILD)/src/cpu/xnor_gemm_ref.o,$(LIB_OBJ))
$(BUILD)/libburn_fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^
fuzz-bins: $(FUZZ_C:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libburn_fuzz.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(BUILD)/libburn_fuzz.a -o $@ $(LDLIBS)
fuzz:
	@bash tools/install-deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) BIN=$(FUZZ_BUILD) CUDA=0 FUZZ=1 fuzz-bins
	@bash tests/fuzz/run.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

test-gpu:
	@$(MAKE) --no-print-directory all $(GPU_TEST_BIN)
	@bash tests/run.sh $(GPU_TEST_BIN)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) burn_gpu burn_bench burn_infer infer_example

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
