/* cluster/head.h — the head's tables (head.c) and its dashboard
 * server (dashboard.c). */
#ifndef WB_CLUSTER_HEAD_H
#define WB_CLUSTER_HEAD_H

#include "cluster_internal.h"
#include "map.h"

enum { O_PENDING = 0, O_READY = 1, O_FAILED = 2, O_LOST = 3 };
enum { T_NONE = 0, T_WAITING = 1, T_READY = 2, T_RUNNING = 3 };

typedef struct argblob { /* argument bytes shared by the tasks of a batch */
    int refs;
    uint32_t len;
    uint64_t stamp_gen; /* index in the worker batch being built */
    uint32_t stamp_worker, stamp_idx;
    unsigned char data[];
} argblob;

typedef struct waiter { /* a driver waiting for an object to be located (or copied to a worker) */
    uint32_t driver;
    uint32_t worker; /* 0: anywhere */
    int pulled;
} waiter;

typedef struct hobj {
    uint64_t oid;
    int state; /* O_* */
    int refs;  /* the driver's (driver_ref) + one per live object made from it */
    uint8_t driver_ref, is_put, rebuilt, has_spec, mode;
    uint32_t owner; /* driver id */
    uint32_t put_worker;
    wb_objstat stat;
    uint32_t *holders;
    uint16_t nholders, capholders;
    /* how it is made (lineage) */
    uint32_t kernel; /* interned name */
    uint64_t sumlen;
    int64_t out_rows;
    uint32_t nin;
    uint64_t *in;
    argblob *arg;
    /* its task */
    int tstate; /* T_* */
    uint32_t worker, attempts, nmissing;
    struct hobj *qprev, *qnext; /* ready queue or the worker's running list */
    struct hobj **deps;         /* tasks waiting for this object */
    uint32_t ndeps, capdeps;
    waiter *waiters;
    uint32_t nwaiters, capwaiters;
    int code;
    char *err;
} hobj;

typedef struct early { /* a worker's report on a put object the head has not seen declared yet */
    uint32_t worker;
    wb_objstat stat;
    int code;
    char *msg;
} early;

typedef struct wb_head wb_head;

/* the dashboard's view over time (one sample a WSTATS, about a second) */
#define WB_HEAD_HIST 180
typedef wb_sample hsample;

typedef struct hworker {
    wb_head *head;
    uint32_t id;
    wb_conn *conn;
    int alive, welcomed;
    char host[64];
    int port;
    char addr[96];
    uint32_t threads, pid;
    uint64_t mem_limit;
    uint64_t last_seen; /* loop ms */
    int inflight;       /* tasks sent and not finished */
    uint64_t sched_local; /* schedule(): bytes of the task being placed held here */
    hobj *run;
    uint8_t *kbits; /* by interned kernel id */
    uint32_t nkbits;
    wb_m_heartbeat hb;
    uint64_t tasks_done, tasks_failed;
    char *plugins; /* "name version, ..." for the dashboard */
    wb_cplugin *pl;
    uint32_t npl;
    double joined;
    char why[300]; /* why it was removed */
    int dirty;
    struct hworker *next_dirty;
    wb_list drop, pull; /* DROP and PULL entries to send */
    /* the TASKS batch being built */
    wb_taskbatch batch;
    uint64_t bgen;
    uint64_t *klocal;
    uint32_t nklocal;
    /* the dashboard: memory and CPU over time (WSTATS), the last ones */
    hsample hist[WB_HEAD_HIST];
    uint64_t nhist;
    double cpu_prev, clock_prev; /* the worker's CPU seconds and clock at the last WSTATS */
} hworker;

typedef struct hdriver {
    wb_head *head;
    uint32_t id;
    uint64_t max_oid; /* the highest object id it declared: its ids come in order */
    wb_conn *conn;
    int dirty;
    struct hdriver *next_dirty;
    wb_list done, loc, freed, reput; /* DONE, LOCATION, FREED and REPUT entries to send */
    /* its plugins (PLUGINS): its tasks run only on workers that have none of
     * them in another version; cbad[worker id] caches that, valid while
     * cgen == the head's pgen */
    wb_cplugin *pl;
    uint32_t npl;
    uint8_t *cbad;
    uint32_t ncbad;
    uint64_t cgen;
    /* its running job (JOB): the stages of its progress line, times on the
     * head's clock */
    wb_jobstage job[WB_PROTO_MAX_STAGES];
    int njob;
    double job_at;
} hdriver;

#define WB_HEAD_TPUT 300
#define WB_HEAD_ERRORS 50
/* removed workers listed (the dashboard shows why they left); older ones are forgotten */
#define WB_HEAD_KEEP_REMOVED 32

typedef struct herr {
    double when;
    char msg[512];
} herr;

/* the task stream: tasks the workers ran (WSTATS), on the head's clock */
#define WB_HEAD_STREAM 20000
typedef struct hstream {
    uint32_t worker, kernel; /* kernel: interned */
    uint16_t thread;
    uint8_t ok;
    double start, end;
} hstream;

/* the workers' last log lines (WSTATS) */
#define WB_HEAD_WLOGS 300
typedef struct hwlog {
    double time; /* head's clock */
    uint32_t worker;
    int level;
    char msg[300];
} hwlog;

typedef struct wb_dash wb_dash;

struct wb_head {
    uv_loop_t *loop;
    wb_net net;
    uv_tcp_t server;
    uv_timer_t tick;
    uv_check_t check;
    uv_signal_t sigint, sigterm;
    char address[128];
    int dashboard_port;
    wb_dash *dash;
    int quiet, stopping;
    int heartbeat_ms, timeout_ms, max_retries;
    uint64_t t0, last_ping;
    wb_omap objs, workers, drivers;
    wb_omap early; /* oid -> early */
    hworker **worker_list;
    size_t nworker_list, capworker_list;
    uint32_t next_worker, next_driver;
    hobj *rhead, *rtail; /* tasks ready to run */
    int sched_needed;
    hworker *dirty_workers;
    hdriver *dirty_drivers;
    char **knames;
    uint32_t nk, capk;
    uint64_t pgen; /* changes when a worker joins or a driver's plugins change */
    uint64_t gen;
    /* figures */
    uint64_t tasks_submitted, tasks_done, tasks_failed, retried, rebuilt, cancelled, workers_lost;
    uint64_t nobj_bytes;
    uint32_t tput[WB_HEAD_TPUT];
    uint64_t tput_sec;
    int idle_trimmed; /* memory given back since the head became idle */
    herr errors[WB_HEAD_ERRORS];
    size_t nerrors;
    /* the dashboard */
    hstream *stream; /* WB_HEAD_STREAM, a ring */
    uint64_t nstream;
    hwlog wlogs[WB_HEAD_WLOGS];
    uint64_t nwlogs;
};

/* the status the dashboard shows, as JSON */
void wb_head_status_json(wb_head *h, wb_buf *out);

/* the dashboard's HTTP server on the head's loop; it answers requests whose
 * Host is a loopback name, the address it is bound to, or one of
 * allow_hosts ("a,b"; "*": any; NULL: none) */
int wb_dash_start(wb_head *h, const char *host, int port, const char *allow_hosts, int *bound_port);
void wb_dash_stop(wb_head *h);

#endif
