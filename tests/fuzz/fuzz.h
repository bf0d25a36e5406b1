/* fuzz.h — what the fuzz targets share.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). It is built twice:
 *   - with libFuzzer (cmake -DWB_FUZZ=ON, clang): fuzz_<target>, run by
 *     tests/fuzz/run.sh for a short time in the suite and for long runs;
 *   - in every build with replay.c: fuzz_replay_<target>, which runs the
 *     target over the seed corpus and the regression inputs
 *     (tests/fuzz/corpus/<target>/), so the normal, sanitizer and valgrind
 *     passes check every input that once crashed.
 *
 * A target never just "runs": besides the sanitizers it checks that every
 * failure comes with a message and a known error code (fz_check_err), and
 * the properties noted in each file (round trips, shapes). A broken property
 * aborts, which libFuzzer reports as a crash with the input saved. */
#ifndef WB_FUZZ_H
#define WB_FUZZ_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb/wb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* set by a target when the input was accepted (read, decoded...): replay -v
 * prints it per input, so one can see that the seeds are valid inputs */
int fz_accepted;

/* a broken property: say what and stop (libFuzzer keeps the input) */
#define FZ_ASSERT(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz property failed at %s:%d: %s\n  ", __FILE__, \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n  last message: %s\n", wb_errmsg());            \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* the harness's own loops (comparing and touching every number read) are
 * not what is fuzzed: built without coverage instrumentation, they neither
 * cost a trace call per number nor feed the fuzzer features of their own */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_HARNESS __attribute__((noinline, unused, no_sanitize("coverage")))
#else
#define FZ_HARNESS __attribute__((noinline, unused))
#endif

/* a scratch buffer of at least n bytes, kept for the next input (slot 0..3;
 * freed at exit): large per-input allocations cost page faults on every
 * execution */
static void *fz_bufs_[4];
static size_t fz_bufcap_[4];
static void fz_free_bufs(void)
{
    for (int i = 0; i < 4; i++) {
        free(fz_bufs_[i]);
        fz_bufs_[i] = NULL;
        fz_bufcap_[i] = 0;
    }
}
static inline void *fz_buf(int slot, size_t n)
{
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(fz_free_bufs);
    }
    if (n > fz_bufcap_[slot]) {
        free(fz_bufs_[slot]);
        fz_bufs_[slot] = malloc(n);
        if (!fz_bufs_[slot]) {
            fputs("fuzz: out of memory\n", stderr);
            abort();
        }
        fz_bufcap_[slot] = n;
    }
    return fz_bufs_[slot];
}

/* a failure must carry a known code and a message */
static inline void fz_check_err(int rc, const char *where)
{
    if (rc == 0) return;
    const char *name = wb_errname(rc);
    FZ_ASSERT(rc < 0 && name && strncmp(name, "WB_E", 4) == 0, "%s: unknown error code %d", where, rc);
    const char *m = wb_errmsg();
    FZ_ASSERT(m && m[0], "%s: %s without a message", where, name);
}

static void fz_quiet_log(int level, const char *msg)
{
    (void)level;
    (void)msg;
}

/* ------------------------------------------------------------ temp files */

static char fz_tmpdir[512];

static void fz_rm_tmpdir(void)
{
    if (!fz_tmpdir[0]) return;
    DIR *d = opendir(fz_tmpdir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", fz_tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(fz_tmpdir);
    fz_tmpdir[0] = 0;
}

/* a private folder for this process (memory-backed when /dev/shm exists),
 * removed at exit */
static const char *fz_dir(void)
{
    if (fz_tmpdir[0]) return fz_tmpdir;
    const char *base = getenv("WB_FUZZ_TMP");
    struct stat st;
    if (!base || !*base) base = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    if (!base) base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(fz_tmpdir, sizeof fz_tmpdir, "%s/wb-fuzz-XXXXXX", base);
    if (!mkdtemp(fz_tmpdir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fz_rm_tmpdir);
    return fz_tmpdir;
}

/* dir/name into buf */
static inline const char *fz_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", fz_dir(), name);
    return buf;
}

/* write data to dir/name (replaced) */
static inline void fz_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        abort();
    }
    if (n && fwrite(data, 1, n, f) != n) {
        perror(path);
        abort();
    }
    if (fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* ------------------------------------------------------------ executor */

/* an inline executor (tasks run in the calling thread) over a store with a
 * memory limit: the fuzzer's inputs must never make the process allocate
 * without bound */
#define FZ_STORE_LIMIT ((size_t)32 << 20)
static wb_store *fz_store_;
static wb_exec *fz_exec_;

static inline void fz_init_core(void)
{
    static int done;
    if (done) return;
    done = 1;
    wb_set_log(fz_quiet_log);
    wb_core_init();
}

static void fz_exec_done(void)
{
    wb_exec_unref(fz_exec_);
    wb_store_free(fz_store_);
    fz_exec_ = NULL;
    fz_store_ = NULL;
}

static inline wb_exec *fz_exec(void)
{
    if (fz_exec_) return fz_exec_;
    fz_init_core();
    fz_store_ = wb_store_new(1);
    wb_store_set_limit(fz_store_, FZ_STORE_LIMIT);
    fz_exec_ = wb_exec_inline_new(fz_store_);
    if (!fz_store_ || !fz_exec_) abort();
    atexit(fz_exec_done);
    return fz_exec_;
}

/* after each input: nothing may stay in the store */
static inline void fz_check_store_empty(const char *where)
{
    if (!fz_store_) return;
    size_t n = wb_store_count(fz_store_);
    FZ_ASSERT(n == 0, "%s: %zu objects left in the store", where, n);
}

/* every row of a dataset, read back in chunks of about 1 MB (touches every
 * byte of every partition, so a partition viewing past the end of a mapping
 * shows) */
static FZ_HARNESS void fz_touch_dataset(const wb_dataset *d)
{
    FZ_ASSERT(d->n >= 0 && d->d >= 0, "bad shape %lld x %lld", (long long)d->n, (long long)d->d);
    int64_t total = 0;
    for (int i = 0; i < d->nparts; i++) {
        FZ_ASSERT(d->parts[i].row0 == total, "partition %d starts at %lld, expected %lld", i,
                  (long long)d->parts[i].row0, (long long)total);
        total += d->parts[i].rows;
    }
    FZ_ASSERT(total == d->n, "partitions hold %lld rows of %lld", (long long)total, (long long)d->n);
    int64_t chunk = ((int64_t)1 << 17) / (d->d > 0 ? d->d : 1);
    if (chunk < 1) chunk = 1;
    if (chunk > d->n) chunk = d->n > 0 ? d->n : 1;
    double *x = fz_buf(0, (size_t)(chunk * d->d) * 8 + 8), *y = fz_buf(1, (size_t)chunk * 8);
    volatile double sink = 0;
    for (int64_t lo = 0; lo < d->n; lo += chunk) {
        int64_t hi = lo + chunk < d->n ? lo + chunk : d->n;
        int rc = wb_ds_read_rows(d, lo, hi, x, d->has_labels ? y : NULL);
        fz_check_err(rc, "read rows");
        /* the rows read back may not fit beside the data in the store: refused with the limit's message */
        FZ_ASSERT(rc == 0 || rc == WB_ELIMIT, "reading back rows: %s", wb_errmsg());
        if (rc) break;
        for (int64_t i = 0; i < (hi - lo) * d->d; i++) sink += x[i];
    }
    (void)sink;
}

#endif
