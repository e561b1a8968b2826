/* test_crash.c — crash safety of `burn_gpu train` as a real child process: SIGKILL at seeded
 * random moments, then --resume, until the run completes; the final checkpoint equals an
 * uninterrupted run's bit for bit, and at every kill point each ckpt-*.safetensors in the run
 * directory opens, validates and is a complete burn checkpoint (temporaries are ignored). A
 * checkpoint that cannot be written (file-size limit: the write fails like a full disk) and a
 * run directory that cannot be created are clear errors with exit 1, and the previous
 * checkpoint stays intact. SIGTERM at random moments and SIGINT stop after the update in
 * flight with a checkpoint (exit 128 + signal) and the resumed run is bit-identical; a run
 * directory's lock refuses a second process and dies with its holder. The programs start
 * libgomp with GOMP_SPINCOUNT=10000 unless the user chose a spin count or wait policy. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "burn/ckpt.h"
#include "burn/fileio.h"
#include "burn/safetensors.h"
#include "test_util.h"

/* Start `burn_gpu train` on the tiny config in dir; extra: one more --set (or NULL).
 * fsize_limit > 0: RLIMIT_FSIZE in the child with SIGXFSZ ignored, so big writes fail (EFBIG)
 * the way a full disk does. stderr goes to err_path when given. */
static pid_t spawn_train(const char *dir, int resume, const char *extra, long fsize_limit,
                         const char *err_path) {
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char *dirkv = NULL;
        if (asprintf(&dirkv, "run.dir=%s", dir) < 0) _exit(99);
        int out = open("/dev/null", O_WRONLY);
        dup2(out, 1);
        if (err_path) {
            int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(e, 2);
        } else {
            dup2(out, 2);
        }
        if (fsize_limit > 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        const char *argv[16];
        int n = 0;
        argv[n++] = BURN_GPU;
        argv[n++] = "train";
        argv[n++] = "--config";
        argv[n++] = "configs/tiny/burn.ini";
        argv[n++] = "--set";
        argv[n++] = dirkv;
        argv[n++] = "--set";
        argv[n++] = "train.ckpt_every=2"; /* many checkpoints: kills often land in a write */
        argv[n++] = "--set";
        argv[n++] = "log.quiet=true";
        if (extra) {
            argv[n++] = "--set";
            argv[n++] = extra;
        }
        if (resume) argv[n++] = "--resume";
        argv[n] = NULL;
        execv(BURN_GPU, (char *const *)argv);
        _exit(98);
    }
    return pid;
}

static int wait_exit(pid_t pid, int *signaled) {
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    *signaled = WIFSIGNALED(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *fresh_dir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

/* Every ckpt-*.safetensors in dir (not the ".tmp.<pid>" temporaries) validates and holds the
 * checkpoint metadata. Returns how many there are. */
static int check_all_ckpts(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0; /* killed before the run directory existed */
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "ckpt-", 5) != 0 || len < 12 ||
            strcmp(e->d_name + len - 12, ".safetensors") != 0)
            continue;
        char *p = NULL;
        cr_assert(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
        burn_st_file f;
        cr_assert_eq(burn_st_open(&f, p), 0, "half-written checkpoint: %s", burn_error());
        cr_assert_not_null(burn_st_meta(&f, "step"), "%s: no step", p);
        cr_assert_not_null(burn_st_find(&f, "optim.adam_v"), "%s: no optimiser state", p);
        burn_st_close(&f);
        free(p);
        n++;
    }
    closedir(d);
    return n;
}

/* ".tmp.<pid>" files a killed writer left behind (each kill inside a write adds one) */
static int count_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void rm_rf(const char *path) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", path) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

static void assert_same_tensors(const char *a, const char *b) {
    burn_st_file fa, fb;
    cr_assert_eq(burn_st_open(&fa, a), 0, "%s", burn_error());
    cr_assert_eq(burn_st_open(&fb, b), 0, "%s", burn_error());
    cr_assert_eq(fa.n, fb.n);
    for (int i = 0; i < fa.n; i++) {
        const burn_st_tensor *tb = burn_st_find(&fb, fa.tensors[i].name);
        cr_assert_not_null(tb, "%s missing", fa.tensors[i].name);
        cr_assert_eq(fa.tensors[i].end - fa.tensors[i].begin, tb->end - tb->begin);
        cr_assert(memcmp(fa.tensors[i].data, tb->data, tb->end - tb->begin) == 0,
                  "%s differs after kill + resume", fa.tensors[i].name);
    }
    cr_assert_str_eq(burn_st_meta(&fa, "step"), burn_st_meta(&fb, "step"));
    burn_st_close(&fa);
    burn_st_close(&fb);
}

/* A random kill delay for attempt n: from early (start-up, the first checkpoints) to a window
 * that grows by a quarter per attempt, so that the run ends however loaded the machine is
 * (an OpenMP team on a busy machine runs several times slower). */
static long kill_delay_ms(uint64_t *rng, long lo, int n) {
    double hi = 200.0;
    for (int i = 0; i < n; i++) hi *= 1.25;
    return tu_int(rng, (int)lo, (int)(hi < 60000 ? hi : 60000));
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

Test(crash, sigkill_at_random_points_then_resume_is_bit_identical, .timeout = 120) {
    char *ref = fresh_dir("crash-ref"), *run = fresh_dir("crash-run");
    int sig;
    cr_assert_eq(wait_exit(spawn_train(ref, 0, NULL, 0, NULL), &sig), 0, "reference run failed");

    uint64_t rng = 20260101;
    int kills = 0, finished = 0, attempts = 0, in_write = 0;
    while (!finished) {
        cr_assert_lt(attempts++, 40, "the run never finished");
        pid_t pid = spawn_train(run, 1, NULL, 0, NULL);
        /* the first kills come early (start-up, first checkpoints); later ones may let it end */
        long ms = kill_delay_ms(&rng, 30, attempts);
        sleep_ms(ms);
        kill(pid, SIGKILL);
        int rc = wait_exit(pid, &sig);
        if (sig) {
            kills++;
        } else {
            cr_assert_eq(rc, 0, "train exited %d after resume", rc);
            finished = 1;
        }
        check_all_ckpts(run);
        in_write += count_temporaries(run);
    }
    cr_assert_geq(kills, 6, "only %d kills landed inside the run", kills);
    cr_log_info("%d SIGKILLs (temporaries seen at kill points, summed: %d), %d runs",
                kills, in_write, attempts);
    char *a = NULL, *b = NULL;
    cr_assert(asprintf(&a, "%s/ckpt-00000032.safetensors", ref) > 0);
    cr_assert(asprintf(&b, "%s/ckpt-00000032.safetensors", run) > 0);
    assert_same_tensors(a, b);
    char *latest = burn_ckpt_find_latest(run, NULL);
    cr_assert_str_eq(latest, b, "the newest valid checkpoint is the final one");
    rm_rf(ref), rm_rf(run);
    free(latest), free(a), free(b), free(ref), free(run);
}

static char *read_text(const char *path) {
    unsigned char *t;
    size_t n;
    cr_assert_eq(burn_read_file(path, 1 << 20, &t, &n), 0, "%s", burn_error());
    return (char *)t;
}

Test(crash, failed_checkpoint_write_is_exit_1_and_keeps_the_previous_one, .timeout = 60) {
    char *run = fresh_dir("crash-full"), *errp = tu_tmp_path("crash-full.err");
    int sig;
    /* updates 1..4 with checkpoints at 2 and 4 */
    cr_assert_eq(wait_exit(spawn_train(run, 0, "train.max_steps=4", 0, NULL), &sig), 0);
    char *prev = NULL;
    cr_assert(asprintf(&prev, "%s/ckpt-00000004.safetensors", run) > 0);
    unsigned char *before;
    size_t nbefore;
    cr_assert_eq(burn_read_file(prev, 1 << 24, &before, &nbefore), 0, "%s", burn_error());
    /* resume with a file-size limit of half a checkpoint: the next checkpoint cannot be written */
    int rc = wait_exit(spawn_train(run, 1, NULL, (long)(nbefore / 2), errp), &sig);
    cr_assert_eq(sig, 0, "killed by a signal instead of a clean error");
    cr_assert_eq(rc, 1, "exit %d", rc);
    char *err = read_text(errp);
    cr_assert(strstr(err, "checkpoint failed") && strstr(err, "ckpt-00000006.safetensors"),
              "unclear error: %s", err);
    /* the previous checkpoint: byte for byte unchanged, still the newest valid one */
    unsigned char *after;
    size_t nafter;
    cr_assert_eq(burn_read_file(prev, 1 << 24, &after, &nafter), 0, "%s", burn_error());
    cr_assert(nafter == nbefore && memcmp(before, after, nafter) == 0);
    char *latest = burn_ckpt_find_latest(run, NULL);
    cr_assert_str_eq(latest, prev);
    cr_assert_eq(check_all_ckpts(run), 2);
    /* no temporary left behind */
    DIR *d = opendir(run);
    struct dirent *e;
    while ((e = readdir(d))) cr_assert_null(strstr(e->d_name, ".tmp."), "left %s", e->d_name);
    closedir(d);
    rm_rf(run), unlink(errp);
    free(latest), free(before), free(after), free(err), free(prev), free(errp), free(run);
}

Test(crash, run_dir_under_a_regular_file_is_exit_1, .timeout = 30) {
    /* root ignores permission bits, but nothing can create a directory below a file */
    char *file = tu_tmp_path("crash-file"), *dir = NULL, *errp = tu_tmp_path("crash-file.err");
    tu_write_text(file, "not a directory\n");
    cr_assert(asprintf(&dir, "%s/sub", file) > 0);
    int sig, rc = wait_exit(spawn_train(dir, 0, NULL, 0, errp), &sig);
    cr_assert_eq(sig, 0);
    cr_assert_eq(rc, 1, "exit %d", rc);
    char *err = read_text(errp);
    cr_assert(strstr(err, "cannot create directory") && strstr(err, dir), "unclear error: %s", err);
    unlink(file), unlink(errp);
    free(err), free(dir), free(file), free(errp);
}

/* Preemption (include/burn/preempt.h): SIGTERM from outside at random moments; each one that
 * lands in training ends with exit 143 and a checkpoint of the update it stopped after, and
 * the run resumed after each ends bit for bit where an uninterrupted run ends. */
Test(crash, sigterm_checkpoints_then_resume_is_bit_identical, .timeout = 120) {
    char *ref = fresh_dir("term-ref"), *run = fresh_dir("term-run");
    char *errp = tu_tmp_path("term-run.err");
    int sig;
    cr_assert_eq(wait_exit(spawn_train(ref, 0, NULL, 0, NULL), &sig), 0, "reference run failed");
    uint64_t rng = 20261204;
    int stops = 0, finished = 0, attempts = 0;
    while (!finished) {
        cr_assert_lt(attempts++, 40, "the run never finished");
        pid_t pid = spawn_train(run, 1, NULL, 0, errp);
        sleep_ms(kill_delay_ms(&rng, 100, attempts));
        kill(pid, SIGTERM);
        int rc = wait_exit(pid, &sig);
        if (sig) continue; /* before the handlers (start-up): nothing to save yet */
        if (rc == 0) {
            finished = 1;
            continue;
        }
        cr_assert_eq(rc, 128 + SIGTERM, "exit %d after SIGTERM", rc);
        char *err = read_text(errp), *at = strstr(err, "stopped after update ");
        cr_assert(at && strstr(err, "--resume"), "unclear message: %s", err);
        char *ck = NULL;
        cr_assert(asprintf(&ck, "%s/ckpt-%08lld.safetensors", run, atoll(at + 21)) > 0);
        cr_assert_eq(access(ck, F_OK), 0, "no checkpoint %s after: %s", ck, err);
        check_all_ckpts(run);
        stops++;
        free(ck), free(err);
    }
    cr_assert_geq(stops, 2, "only %d SIGTERMs landed inside the run", stops);
    cr_log_info("%d SIGTERM stops in %d runs", stops, attempts);
    char *a = NULL, *b = NULL;
    cr_assert(asprintf(&a, "%s/ckpt-00000032.safetensors", ref) > 0);
    cr_assert(asprintf(&b, "%s/ckpt-00000032.safetensors", run) > 0);
    assert_same_tensors(a, b);
    rm_rf(ref), rm_rf(run), unlink(errp);
    free(a), free(b), free(ref), free(run), free(errp);
}

/* SIGINT (Ctrl-C) the same way: exit 130 with a checkpoint of the update in flight. */
Test(crash, sigint_stops_after_the_update_in_flight, .timeout = 60) {
    char *run = fresh_dir("int-run"), *errp = tu_tmp_path("int-run.err");
    setenv("BURN_DIST_FAULT", "int:0:4", 1); /* raised at the start of update 4 (0-based) */
    int sig, rc = wait_exit(spawn_train(run, 0, NULL, 0, errp), &sig);
    unsetenv("BURN_DIST_FAULT");
    cr_assert_eq(sig, 0);
    cr_assert_eq(rc, 128 + SIGINT, "exit %d", rc);
    char *err = read_text(errp), *ck = NULL;
    cr_assert(strstr(err, "stopped after update 5 of 32"), "%s", err);
    cr_assert(asprintf(&ck, "%s/ckpt-00000005.safetensors", run) > 0);
    cr_assert_eq(check_all_ckpts(run), 2, "checkpoint 2 (train.ckpt_every = 2) and 5");
    char *latest = burn_ckpt_find_latest(run, NULL);
    cr_assert_str_eq(latest, ck);
    rm_rf(run), unlink(errp);
    free(latest), free(ck), free(err), free(run), free(errp);
}

/* The lock dies with its process: a run killed while it holds run.dir leaves a directory the
 * next --resume claims; while it lives, a second process is refused. */
/* 1 once the child writing errp says it hangs at its BURN_DIST_FAULT point (within 30 s). */
static int reached_the_hang(const char *errp) {
    for (int i = 0; i < 600; i++) {
        unsigned char *t;
        size_t n;
        if (burn_read_file(errp, 1 << 20, &t, &n) == 0) {
            int hung = memmem(t, n, "BURN_DIST_FAULT: hang", 21) != NULL;
            free(t);
            if (hung) return 1;
        }
        sleep_ms(50);
    }
    return 0;
}

Test(crash, the_lock_dies_with_its_holder, .timeout = 60) {
    char *run = fresh_dir("lock-run"), *errp = tu_tmp_path("lock-run.err");
    char *err2 = tu_tmp_path("lock-run2.err");
    setenv("BURN_DIST_FAULT", "hang:0:3", 1);
    pid_t holder = spawn_train(run, 0, NULL, 0, errp);
    unsetenv("BURN_DIST_FAULT");
    int hung = reached_the_hang(errp); /* inside the run, holding the lock */
    cr_assert(hung, "the holder never reached update 3");
    int sig, rc = wait_exit(spawn_train(run, 1, NULL, 0, err2), &sig);
    cr_assert_eq(rc, 1, "exit %d for a second process on the run directory", rc);
    char *err = read_text(err2), pid[64];
    snprintf(pid, sizeof pid, "in use by another process (pid %d)", (int)holder);
    cr_assert(strstr(err, pid), "%s", err);
    kill(holder, SIGKILL);
    wait_exit(holder, &sig);
    cr_assert_eq(wait_exit(spawn_train(run, 1, NULL, 0, err2), &sig), 0, "resume after the kill");
    rm_rf(run), unlink(errp), unlink(err2);
    free(err), free(run), free(errp), free(err2);
}

/* GOMP_SPINCOUNT in the environment of a running `burn_gpu train` started with the
 * environment given (src/core/openmp_env.c: set, by a re-execution, unless the user chose). */
static char *spincount_of_child(const char *var, const char *value) {
    char *run = fresh_dir("omp-env"), *errp = tu_tmp_path("omp-env.err");
    char *saved = getenv("GOMP_SPINCOUNT") ? strdup(getenv("GOMP_SPINCOUNT")) : NULL;
    unsetenv("GOMP_SPINCOUNT");
    if (var) setenv(var, value, 1);
    setenv("BURN_DIST_FAULT", "hang:0:0", 1);
    pid_t pid = spawn_train(run, 0, NULL, 0, errp);
    unsetenv("BURN_DIST_FAULT");
    if (var) unsetenv(var);
    if (saved) setenv("GOMP_SPINCOUNT", saved, 1);
    int hung = reached_the_hang(errp); /* the re-executed process, in its first update */
    cr_assert(hung, "train never reached update 0");
    char path[64], *found = NULL;
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "rb"); /* a /proc file: size 0 to stat, read it through */
    cr_assert_not_null(f, "%s", path);
    static char env[1 << 20];
    size_t n = fread(env, 1, sizeof env - 1, f);
    fclose(f);
    env[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(env + i) + 1)
        if (strncmp(env + i, "GOMP_SPINCOUNT=", 15) == 0) found = strdup(env + i + 15);
    int sig;
    kill(pid, SIGKILL);
    wait_exit(pid, &sig);
    rm_rf(run), unlink(errp);
    free(saved), free(run), free(errp);
    return found;
}

Test(crash, openmp_spin_count_is_lowered_unless_the_user_chose, .timeout = 60) {
    char *v = spincount_of_child(NULL, NULL);
    cr_assert(v && strcmp(v, "10000") == 0, "GOMP_SPINCOUNT %s", v ? v : "(unset)");
    free(v);
    v = spincount_of_child("GOMP_SPINCOUNT", "123");
    cr_assert(v && strcmp(v, "123") == 0, "the user's GOMP_SPINCOUNT replaced: %s", v ? v : "(unset)");
    free(v);
    v = spincount_of_child("OMP_WAIT_POLICY", "passive");
    cr_assert_null(v, "GOMP_SPINCOUNT %s set although OMP_WAIT_POLICY was", v);
}
