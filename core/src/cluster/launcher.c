/* cluster/launcher.c — a local cluster: wb.cluster{} starts a head and its
 * workers as child processes of the driver (each in its own process group,
 * each told to go when the driver goes), connects to them as wb.connect does,
 * and stops them when the executor is closed (the head first, then any
 * worker still running: SIGTERM, then SIGKILL after a grace period). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_internal.h"

/* ------------------------------------------------------- a local cluster */

void wb_local_cluster_opts_init(wb_local_cluster_opts *o)
{
    memset(o, 0, sizeof *o);
    o->workers = 2;
    o->dashboard = 1;
    o->timeout = 30;
}

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* the child: its own process group (Ctrl-C at the driver's prompt must not
     * reach it), and it goes when the driver goes */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(1);
    execv(argv[0], argv);
    fprintf(stderr, "wb: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* wait up to secs for the listed processes to exit (reaped ones become 0) */
static int reap(pid_t *pids, int n, double secs)
{
    double t0 = wb_now();
    int left;
    for (;;) {
        left = 0;
        for (int i = 0; i < n; i++) {
            if (!pids[i]) continue;
            pid_t r = waitpid(pids[i], NULL, WNOHANG);
            if (r == pids[i] || (r < 0 && errno == ECHILD)) pids[i] = 0;
            else left++;
        }
        if (!left || wb_now() - t0 > secs) return left;
        usleep(5000);
    }
}

typedef struct procs { /* the processes of a local cluster */
    pid_t pids[1 + 256];
    int npids;
    char tmpdir[256];
} procs;

static void stop_processes(procs *x)
{
    if (!x->npids) return;
    /* the head first: it tells its workers to exit, then they go on their own */
    if (x->pids[0]) kill(x->pids[0], SIGTERM);
    reap(x->pids, 1, 3);
    if (reap(x->pids, x->npids, 2))
        for (int i = 0; i < x->npids; i++)
            if (x->pids[i]) kill(x->pids[i], SIGTERM);
    if (reap(x->pids, x->npids, 3))
        for (int i = 0; i < x->npids; i++)
            if (x->pids[i]) {
                kill(x->pids[i], SIGKILL);
                waitpid(x->pids[i], NULL, 0);
                x->pids[i] = 0;
            }
    x->npids = 0;
    if (x->tmpdir[0]) {
        char p[400];
        snprintf(p, sizeof p, "%s/token", x->tmpdir);
        unlink(p);
        snprintf(p, sizeof p, "%s/ready", x->tmpdir);
        unlink(p);
        rmdir(x->tmpdir);
        x->tmpdir[0] = 0;
    }
}

static void stop_and_free(void *arg)
{
    stop_processes(arg);
    free(arg);
}

int wb_local_cluster(const wb_local_cluster_opts *opts, wb_exec **out)
{
    wb_local_cluster_opts o;
    if (opts) o = *opts;
    else wb_local_cluster_opts_init(&o);
    if (o.workers < 1 || o.workers > 256) return wb_seterr(WB_EINVAL, "cluster: workers must be in 1..256, got %d", o.workers);
    if (o.threads <= 0) {
        o.threads = wb_ncpu() / o.workers;
        if (o.threads < 1) o.threads = 1;
    }
    if (!(o.timeout > 0)) o.timeout = 30;
    char exe[PATH_MAX];
    if (o.exe) snprintf(exe, sizeof exe, "%s", o.exe);
    else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return wb_seterr(WB_EINTERNAL, "cluster: cannot find this program's path");
        exe[n] = 0;
    }
    char tmpl[] = "/tmp/wb-cluster-XXXXXX";
    if (!mkdtemp(tmpl)) return wb_seterr(WB_EIO, "cluster: cannot make a folder in /tmp: %s", strerror(errno));
    char token[65], tokfile[300], ready[300];
    snprintf(tokfile, sizeof tokfile, "%s/token", tmpl);
    snprintf(ready, sizeof ready, "%s/ready", tmpl);
    pid_t pids[257];
    int npids = 0, rc = 0;
    char msg[600] = "";
    if (wb_token_generate(token) || wb_token_write(tokfile, token)) {
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        rc = WB_EIO;
    }
    char hb[32], to[32];
    snprintf(hb, sizeof hb, "%d", o.heartbeat_ms > 0 ? o.heartbeat_ms : 1000);
    snprintf(to, sizeof to, "%d", o.timeout_ms > 0 ? o.timeout_ms : 10000);
    if (!rc) {
        char *argv[] = {exe, "head", "--host", "127.0.0.1", "--port", "0", "--dashboard-port", o.dashboard ? "0" : "-1",
                        "--token-file", tokfile, "--ready-file", ready, "--heartbeat-ms", hb, "--timeout-ms", to,
                        "--quiet", o.insecure_no_tls ? "--insecure-no-tls" : NULL, NULL};
        pids[npids] = spawn(argv);
        if (pids[npids] < 0) {
            rc = WB_EIO;
            snprintf(msg, sizeof msg, "cannot start the head: %s", strerror(errno));
        } else
            npids++;
    }
    /* the head says where it listens */
    char addr[128] = "";
    double t0 = wb_now();
    while (!rc) {
        FILE *f = fopen(ready, "r");
        if (f) {
            int ok = fscanf(f, "%127s", addr) == 1;
            fclose(f);
            if (ok) break;
        }
        int st;
        if (waitpid(pids[0], &st, WNOHANG) == pids[0]) {
            pids[0] = 0;
            rc = WB_EIO;
            snprintf(msg, sizeof msg, "the head exited (status %d) before it was ready", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            break;
        }
        if (wb_now() - t0 > o.timeout) {
            rc = WB_ETIMEDOUT;
            snprintf(msg, sizeof msg, "the head was not ready within %.0f s", o.timeout);
            break;
        }
        if (wb_interrupted()) {
            rc = WB_ECANCELED;
            snprintf(msg, sizeof msg, "interrupted");
            break;
        }
        usleep(5000);
    }
    char threads[16], mem[32];
    snprintf(threads, sizeof threads, "%d", o.threads);
    snprintf(mem, sizeof mem, "%llu", (unsigned long long)o.memory_limit);
    for (int i = 0; !rc && i < o.workers; i++) {
        char *argv[64];
        int k = 0;
        argv[k++] = exe;
        argv[k++] = "worker";
        argv[k++] = "--address";
        argv[k++] = addr;
        argv[k++] = "--threads";
        argv[k++] = threads;
        argv[k++] = "--token-file";
        argv[k++] = tokfile;
        argv[k++] = "--quiet";
        if (o.insecure_no_tls) argv[k++] = "--insecure-no-tls";
        if (o.memory_limit) {
            argv[k++] = "--memory-limit";
            argv[k++] = mem;
        }
        for (int j = 0; o.plugins && o.plugins[j] && k < 58; j++) {
            argv[k++] = "--plugin";
            argv[k++] = (char *)o.plugins[j];
        }
        argv[k] = NULL;
        pid_t p = spawn(argv);
        if (p < 0) {
            rc = WB_EIO;
            snprintf(msg, sizeof msg, "cannot start a worker: %s", strerror(errno));
            break;
        }
        pids[npids++] = p;
    }
    wb_exec *ex = NULL;
    if (!rc) {
        wb_connect_opts co;
        wb_connect_opts_init(&co);
        co.token = token;
        co.timeout = o.timeout;
        co.wait_workers = o.workers;
        co.tls.off = o.insecure_no_tls;
        if (o.head_timeout > 0) co.head_timeout = o.head_timeout;
        if (o.worker_timeout > 0) co.worker_timeout = o.worker_timeout;
        rc = wb_cluster_connect(addr, &co, &ex);
        if (rc) snprintf(msg, sizeof msg, "%s", wb_errmsg());
    }
    procs *x = calloc(1, sizeof *x);
    if (!x && !rc) {
        rc = WB_ENOMEM;
        snprintf(msg, sizeof msg, "out of memory");
    }
    procs tmp;
    if (!x) {
        memset(&tmp, 0, sizeof tmp);
        x = &tmp;
    }
    memcpy(x->pids, pids, (size_t)npids * sizeof *pids);
    x->npids = npids;
    snprintf(x->tmpdir, sizeof x->tmpdir, "%s", tmpl);
    if (rc) {
        if (ex) wb_exec_unref(ex);
        stop_processes(x);
        if (x != &tmp) free(x);
        return wb_seterr(rc, "%s%s", strncmp(msg, "cluster:", 8) ? "cluster: " : "", msg);
    }
    wb_cluster_on_close(ex, stop_and_free, x);
    *out = ex;
    return 0;
}
