/*
 * wb/cluster.h — the wb cluster's public API: what the shell and the Lua
 * binding call to run a head (`wb head`), a worker (`wb worker`), to connect
 * a driver to a cluster (wb.connect) or start a local one (wb.cluster{}).
 *
 * Processes and connections:
 *
 *   driver ──(control)──► head ◄──(control)── worker ◄──(data)── worker / driver
 *
 * A head schedules tasks and keeps the directory of which worker holds which
 * object; workers run kernels on their own thread pool and hold objects;
 * objects move between workers (and between a worker and the driver)
 * directly over the workers' data ports, never through the head. Every
 * connection is TLS 1.3, keyed by the cluster token (or by the user's
 * certificates), and starts with a challenge-response handshake that proves
 * knowledge of the cluster token (which never crosses the wire); TLS is off
 * only when asked for (insecure_no_tls).
 *
 * The wire protocol itself (frames, messages, their codecs) is private to
 * the cluster code: core/src/cluster/proto.h.
 */
#ifndef WB_CLUSTER_H
#define WB_CLUSTER_H

#include "wb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * the cluster token (cluster/auth.c)
 * ---------------------------------------------------------------------- */
#define WB_TOKEN_MAX 1024
/* 32 random bytes as 64 hex characters */
int wb_token_generate(char out[65]);
/* read a token file (whitespace trimmed; 16..1024 printable characters) */
int wb_token_read(const char *path, char *out, size_t cap);
/* write a token file with mode 0600 (its folder made 0700 if missing) */
int wb_token_write(const char *path, const char *token);
/* $WB_TOKEN_FILE, else ~/.wb/cluster_token */
const char *wb_token_default_path(void);

/* ------------------------------------------------------------------------
 * TLS (cluster/tls.c): every process of a cluster must choose the same
 * ---------------------------------------------------------------------- */
typedef struct wb_tls_opts {
    int off;          /* 1: no TLS, everything crosses the network in clear
                         (--insecure-no-tls, insecure_no_tls = true) */
    const char *cert; /* PEM files: this process's certificate (chain), */
    const char *key;  /* its private key and the CA that signs the cluster's */
    const char *ca;   /* certificates; all three or none (none: TLS keyed by
                         the cluster token) */
} wb_tls_opts;
void wb_tls_opts_init(wb_tls_opts *o);
/* 0, or WB_EINVAL naming what does not go together */
int wb_tls_check_opts(const wb_tls_opts *o);

/* ------------------------------------------------------------------------
 * processes
 * ---------------------------------------------------------------------- */
typedef struct wb_head_opts {
    const char *host;      /* "127.0.0.1" */
    int port;              /* 7878; 0 picks a free port */
    int dashboard_port;    /* 7879; 0 picks one; -1 none */
    const char *token;     /* the cluster token */
    const char *token_file;/* shown in the banner */
    const char *ready_file;/* written once listening: "host:port\ndashboard_port\n" */
    int heartbeat_ms;      /* workers report this often (1000) */
    int timeout_ms;        /* a worker silent this long is removed (10000) */
    int max_retries;       /* a task is retried this many times when its worker dies (3) */
    int quiet;             /* no banner, warnings only */
    /* limits that protect the head (0: the default) */
    int max_connections;   /* open connections; more are refused (1000, fewer when the
                              process may open fewer descriptors; -1: no limit) */
    int max_auth_failures; /* failed authentications (a wrong token) from one address
                              within auth_window_ms before it is refused for
                              auth_window_ms (10; -1: no limit); a handshake that
                              times out or is cut short is not one */
    int auth_window_ms;    /* (60000) */
    int handshake_ms;      /* a connection has this long to authenticate (5000) */
    int max_unauth;        /* connections from one address still authenticating; a
                              new one closes the oldest (64; 4 times that from all
                              addresses). They never count against max_connections */
    const char *dashboard_hosts; /* Host names the dashboard answers besides the
                              loopback names and its own address ("a,b"; "*": any) */
    wb_tls_opts tls;
} wb_head_opts;
void wb_head_opts_init(wb_head_opts *o);
/* run the head until SIGINT/SIGTERM; returns the exit status */
int wb_head_run(const wb_head_opts *o);

typedef struct wb_worker_opts {
    const char *address;  /* the head, HOST:PORT */
    int threads;          /* 0: one per core */
    uint64_t memory_limit;/* bytes; 0: none */
    const char *token;
    const char *host;     /* data port address (default: the address the head sees) */
    double connect_timeout; /* seconds to keep trying the head (30) */
    int quiet;
    int max_connections;  /* open connections to the data port (as the head's; 0: default) */
    double head_timeout;  /* seconds the head may stay silent before the worker
                             gives up on it and exits (30) */
    wb_tls_opts tls;
} wb_worker_opts;
void wb_worker_opts_init(wb_worker_opts *o);
int wb_worker_run(const wb_worker_opts *o);

/* the cluster's own kernels (cluster.noop, cluster.size), registered once;
 * called by every process kind. The kernels its tests drive it with
 * (cluster.sleep, cluster.fill, cluster.pid) are a test plugin:
 * tests/plugins/cluster_kernels.c */
void wb_cluster_kernels_init(void);

/* ------------------------------------------------------------------------
 * the cluster executor (the driver's side)
 * ---------------------------------------------------------------------- */
typedef struct wb_connect_opts {
    const char *token;  /* NULL: read token_file */
    const char *token_file; /* NULL: wb_token_default_path() */
    double timeout;     /* seconds for the connection and handshake (10) */
    int wait_workers;   /* wait until this many workers joined (0) */
    double head_timeout;  /* seconds the head may stay silent (no heartbeat)
                             before waits end with an error (30) */
    double worker_timeout;/* seconds a wait may go on with no live worker in
                             the cluster before it ends with an error (120; a
                             line says so every 10 s meanwhile) */
    wb_tls_opts tls;
} wb_connect_opts;
void wb_connect_opts_init(wb_connect_opts *o);
int wb_cluster_connect(const char *address, const wb_connect_opts *o, wb_exec **out);
/* close the connection (calls made afterwards fail with a clear message);
 * processes started by wb_local_cluster are stopped */
void wb_cluster_disconnect(wb_exec *ex);
int wb_exec_is_cluster(wb_exec *ex);

typedef struct wb_cluster_worker_info {
    uint32_t id;
    char address[96];
    int threads;
    int pid;
    int alive;
} wb_cluster_worker_info;
/* the workers known to the driver (up to max); returns the count */
int wb_cluster_workers(wb_exec *ex, wb_cluster_worker_info *out, int max);
/* copy objects to a worker (blocks until done) */
int wb_cluster_replicate(wb_exec *ex, const wb_oid *ids, int n, uint32_t worker);
/* the worker id that holds an object (as last known), 0 if unknown */
uint32_t wb_cluster_holder(wb_exec *ex, wb_oid id);
/* A dashboard server on a thread of its own (wb.dashboard() serves the
 * local executor's), the same server as the head's (limits, timers, Host
 * check): GET / the page, GET /api/status the JSON that status(ctx, out)
 * writes (on that thread); tick(ctx) runs there every second (may be NULL).
 * host: "127.0.0.1" unless given; port 0 picks one. It answers requests
 * whose Host is a loopback name, the address it is bound to, or one of
 * allow_hosts ("a,b"; "*": any; NULL: none). Stop it (and free it) with
 * wb_dashboard_stop. */
typedef struct wb_dash wb_dash;
typedef void (*wb_dash_status_fn)(void *ctx, wb_buf *out);
typedef void (*wb_dash_tick_fn)(void *ctx);
int wb_dashboard_start(const char *host, int port, const char *allow_hosts, wb_dash_status_fn status,
                       wb_dash_tick_fn tick, void *ctx, wb_dash **out, int *bound_port);
void wb_dashboard_stop(wb_dash *d);

/* the head's dashboard URL ("" when unknown) */
const char *wb_cluster_dashboard(wb_exec *ex);

typedef struct wb_local_cluster_opts {
    int workers;          /* 2 */
    int threads;          /* per worker; 0: cores / workers (at least 1) */
    uint64_t memory_limit;/* per worker; 0: none */
    int dashboard;        /* 1: serve the dashboard on a free port */
    const char *exe;      /* the wb binary (NULL: this program) */
    const char *const *plugins; /* extra plugin paths for the workers (NULL-terminated) */
    double timeout;       /* seconds to wait for the processes (30) */
    int heartbeat_ms, timeout_ms; /* for the head (0: defaults) */
    int insecure_no_tls;  /* 1: the processes talk in clear */
    double head_timeout, worker_timeout; /* as wb_connect_opts (0: defaults) */
} wb_local_cluster_opts;
void wb_local_cluster_opts_init(wb_local_cluster_opts *o);
/* start a head and workers on 127.0.0.1 with a fresh token and connect */
int wb_local_cluster(const wb_local_cluster_opts *o, wb_exec **out);

#ifdef __cplusplus
}
#endif
#endif /* WB_CLUSTER_H */
