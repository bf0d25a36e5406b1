/* cluster_cmd.c — the `wb head` and `wb worker` subcommands: argument
 * parsing and the cluster token; the processes themselves are in the core
 * (core/src/cluster/head.c, worker.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "wb/cluster.h"
#include "wblua.h"

static int usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "wb %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: wb %s\n", usage);
    return 2;
}

static int int_arg(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "wb %s: %s must be an integer in %ld..%ld, got '%s'\n", cmd, opt, lo, hi, v ? v : "");
        return 2;
    }
    *out = (int)x;
    return 0;
}

/* the token: read the file, or make one and write it there (mode 0600) */
static int get_token(const char *cmd, const char *file, int create, char *tok, size_t cap)
{
    struct stat st;
    if (stat(file, &st) == 0) {
        if (wb_token_read(file, tok, cap)) {
            fprintf(stderr, "wb %s: %s\n", cmd, wb_errmsg());
            return 1;
        }
        return 0;
    }
    if (!create) {
        fprintf(stderr,
                "wb %s: no token file %s (give the head's with --token-file, or start the head first on this "
                "machine)\n",
                cmd, file);
        return 1;
    }
    char t[65];
    if (wb_token_generate(t) || wb_token_write(file, t)) {
        fprintf(stderr, "wb %s: %s\n", cmd, wb_errmsg());
        return 1;
    }
    snprintf(tok, cap, "%s", t);
    fprintf(stderr, "wb %s: wrote a new cluster token to %s (mode 600)\n", cmd, file);
    return 0;
}

#define HEAD_USAGE                                                                                        \
    "head [--host 127.0.0.1] [--port 7878] [--dashboard-port 7879 | --no-dashboard] [--token-file F]\n" \
    "          [--heartbeat-ms 1000] [--timeout-ms 10000] [--max-retries 3] [--ready-file F] [--quiet]\n" \
    "          [--max-connections 1000] [--max-auth-failures 10] [--auth-window-ms 60000]\n"            \
    "          [--handshake-timeout-ms 5000] [--max-unauthenticated 64] [--dashboard-allow-host NAME]...\n" \
    "          [--tls-cert F --tls-key F --tls-ca F | --insecure-no-tls]"

/* --tls-cert, --tls-key, --tls-ca, --insecure-no-tls (1: taken, 2: a value taken) */
static int tls_arg(const char *a, const char *v, wb_tls_opts *t)
{
    if (!strcmp(a, "--insecure-no-tls")) {
        t->off = 1;
        return 1;
    }
    if (!v) return 0;
    if (!strcmp(a, "--tls-cert")) t->cert = v;
    else if (!strcmp(a, "--tls-key")) t->key = v;
    else if (!strcmp(a, "--tls-ca")) t->ca = v;
    else return 0;
    return 2;
}

static int tls_check(const char *cmd, const wb_tls_opts *t)
{
    if (!wb_tls_check_opts(t)) return 0;
    fprintf(stderr, "wb %s: %s\n", cmd, wb_errmsg());
    return 2;
}

int wb_cmd_head(int argc, char **argv)
{
    wb_head_opts o;
    wb_head_opts_init(&o);
    const char *token_file = NULL;
    wb_buf hosts = {0}; /* --dashboard-allow-host, joined with commas */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, t = tls_arg(a, v, &o.tls);
        if (t) {
            i += t - 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: wb %s\n", HEAD_USAGE);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
            continue;
        } else if (!strcmp(a, "--no-dashboard")) {
            o.dashboard_port = -1;
            continue;
        }
        if (!v) return usage_error("head", HEAD_USAGE, "option '%s' needs a value", a);
        if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--port")) rc = int_arg("head", a, v, 0, 65535, &o.port);
        else if (!strcmp(a, "--dashboard-port")) rc = int_arg("head", a, v, -1, 65535, &o.dashboard_port);
        else if (!strcmp(a, "--token-file")) token_file = v;
        else if (!strcmp(a, "--ready-file")) o.ready_file = v;
        else if (!strcmp(a, "--heartbeat-ms")) rc = int_arg("head", a, v, 10, 600000, &o.heartbeat_ms);
        else if (!strcmp(a, "--timeout-ms")) rc = int_arg("head", a, v, 20, 3600000, &o.timeout_ms);
        else if (!strcmp(a, "--max-retries")) rc = int_arg("head", a, v, 0, 100, &o.max_retries);
        else if (!strcmp(a, "--max-connections")) rc = int_arg("head", a, v, 1, 1000000, &o.max_connections);
        else if (!strcmp(a, "--max-auth-failures")) rc = int_arg("head", a, v, 1, 1000000, &o.max_auth_failures);
        else if (!strcmp(a, "--auth-window-ms")) rc = int_arg("head", a, v, 100, 86400000, &o.auth_window_ms);
        else if (!strcmp(a, "--handshake-timeout-ms")) rc = int_arg("head", a, v, 100, 600000, &o.handshake_ms);
        else if (!strcmp(a, "--max-unauthenticated")) rc = int_arg("head", a, v, 1, 100000, &o.max_unauth);
        else if (!strcmp(a, "--dashboard-allow-host")) {
            if (!*v || strchr(v, ',')) {
                fprintf(stderr, "wb head: --dashboard-allow-host takes one host name (or *), got '%s'\n", v);
                return 2;
            }
            wb_buf_printf(&hosts, "%s%s", hosts.len ? "," : "", v);
        } else return usage_error("head", HEAD_USAGE, "unknown option '%s'", a);
        if (rc) return rc;
        i++;
    }
    if (o.timeout_ms <= o.heartbeat_ms) {
        fprintf(stderr, "wb head: --timeout-ms (%d) must be larger than --heartbeat-ms (%d)\n", o.timeout_ms,
                o.heartbeat_ms);
        return 2;
    }
    if (tls_check("head", &o.tls)) return 2;
    if (!token_file) token_file = wb_token_default_path();
    char token[WB_TOKEN_MAX + 1];
    if (get_token("head", token_file, 1, token, sizeof token)) return 1;
    o.token = token;
    o.token_file = token_file;
    o.dashboard_hosts = hosts.len ? (const char *)hosts.p : NULL;
    wbl_register_remote_kernel();
    int rc = wb_head_run(&o);
    wb_buf_free(&hosts);
    return rc;
}

#define WORKER_USAGE                                                                                   \
    "worker --address HOST:PORT [--threads N] [--memory-limit 4GB] [--token-file F] [--host H]\n" \
    "          [--connect-timeout 30] [--head-timeout 30] [--plugin PATH]... [--max-connections 1000]\n" \
    "          [--tls-cert F --tls-key F --tls-ca F | --insecure-no-tls] [--quiet]"

int wb_cmd_worker(int argc, char **argv)
{
    wb_worker_opts o;
    wb_worker_opts_init(&o);
    const char *token_file = NULL;
    const char *plugins[64];
    int nplugins = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, t = tls_arg(a, v, &o.tls);
        if (t) {
            i += t - 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: wb %s\n", WORKER_USAGE);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
            continue;
        }
        if (!v) return usage_error("worker", WORKER_USAGE, "option '%s' needs a value", a);
        if (!strcmp(a, "--address")) o.address = v;
        else if (!strcmp(a, "--threads")) rc = int_arg("worker", a, v, 1, 1024, &o.threads);
        else if (!strcmp(a, "--memory-limit")) {
            if (wb_size_parse(v, &o.memory_limit)) {
                fprintf(stderr, "wb worker: --memory-limit: %s\n", wb_errmsg());
                return 2;
            }
        } else if (!strcmp(a, "--token-file")) token_file = v;
        else if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--max-connections")) rc = int_arg("worker", a, v, 1, 1000000, &o.max_connections);
        else if (!strcmp(a, "--connect-timeout")) {
            int s;
            rc = int_arg("worker", a, v, 1, 86400, &s);
            o.connect_timeout = s;
        } else if (!strcmp(a, "--head-timeout")) {
            int s;
            rc = int_arg("worker", a, v, 1, 86400, &s);
            o.head_timeout = s;
        } else if (!strcmp(a, "--plugin")) {
            if (nplugins < 64) plugins[nplugins++] = v;
        } else
            return usage_error("worker", WORKER_USAGE, "unknown option '%s'", a);
        if (rc) return rc;
        i++;
    }
    if (!o.address) return usage_error("worker", WORKER_USAGE, "%s", "--address HOST:PORT is required");
    if (tls_check("worker", &o.tls)) return 2;
    if (!token_file) token_file = wb_token_default_path();
    char token[WB_TOKEN_MAX + 1];
    if (get_token("worker", token_file, 0, token, sizeof token)) return 1;
    o.token = token;
    /* the same kernels as everywhere: core, plugins, Lua functions */
    wb_core_init();
    if (wb_plugin_load_default() < 0) fprintf(stderr, "wb worker: warning: %s\n", wb_errmsg());
    for (int i = 0; i < nplugins; i++)
        if (wb_plugin_load(plugins[i])) {
            fprintf(stderr, "wb worker: %s\n", wb_errmsg());
            return 1;
        }
    wbl_register_remote_kernel();
    return wb_worker_run(&o);
}

