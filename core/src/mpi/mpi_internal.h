/* mpi/mpi_internal.h — shared by the MPI executor's files: the messages
 * between ranks, the transport over MPI point-to-point calls, a small id map
 * and the partial merge of block-sum trees.
 *
 * Every message between ranks is a control message (tag WBM_TAG_CTL, bytes:
 * a type byte, then fields in the machine's byte order; HELLO checks that all
 * ranks share it). An object's bytes follow its OBJ or PUT message as data
 * messages on a tag of their own (chunks of at most 1 GB), so transfers from
 * one rank never mix. One thread of each process calls MPI at a time: on
 * ranks > 0 the thread holding the loop's role, on the driver the caller
 * while it submits or waits, else the I/O thread. */
#ifndef WB_MPI_INTERNAL_H
#define WB_MPI_INTERNAL_H

#include <mpi.h>
#include <pthread.h>

#include "../internal.h"
#include "wb/mpi.h"

#define WBM_PROTO 1
#define WBM_TAG_CTL 1
#define WBM_TAG_DATA0 100   /* data tags: WBM_TAG_DATA0 .. WBM_TAG_DATA0 + WBM_NTAGS - 1 */
#define WBM_NTAGS 30000
#define WBM_CHUNK ((size_t)1 << 30)
#define WBM_INLINE_MAX ((size_t)64 << 10) /* results up to this size travel with DONE */
#define WBM_BCAST_MAX ((size_t)64 << 10)  /* puts up to this size go to every rank */
#define WBM_HEARTBEAT 1.0                 /* seconds */

enum {
    WBM_HELLO = 1,   /* rank -> 0: versions, plugins, host, pid, threads */
    WBM_START = 2,   /* 0 -> rank: go (timeout) */
    WBM_REFUSE = 3,  /* 0 -> rank: the job is refused (message) */
    WBM_TASKS = 4,   /* 0 -> rank: tasks to run */
    WBM_DONE = 5,    /* rank -> 0: finished tasks (small results inline) */
    WBM_FETCH = 6,   /* any -> holder: send me object (oid, tag) */
    WBM_OBJ = 7,     /* holder -> requester: the object's header; data follows */
    WBM_PUT = 8,     /* 0 -> rank: an object put by the driver; data follows */
    WBM_RELEASE = 9, /* 0 -> rank: objects no longer needed */
    WBM_RBEGIN = 10, /* 0 -> rank: a reduction starts (id, local tasks, len, blocks) */
    WBM_RPART = 11,  /* rank -> parent: a reduction's merged nodes (or its error) */
    WBM_HB = 12,     /* heartbeat */
    WBM_PLUGINS = 13,/* 0 -> rank: plugins loaded on the driver since the start */
    WBM_STOP = 14,   /* 0 -> rank: the job ends */
    WBM_FATAL = 15,  /* rank -> 0: this rank cannot go on (message) */
    WBM_BENCH = 16   /* 0 -> rank: the reduction benchmark */
};

/* ------------------------------------------------------------ encoding */
typedef struct wbm_rd {
    const unsigned char *p;
    size_t n, off;
    int bad;
} wbm_rd;

void wbm_put_u8(wb_buf *b, uint8_t v);
void wbm_put_u32(wb_buf *b, uint32_t v);
void wbm_put_i32(wb_buf *b, int32_t v);
void wbm_put_u64(wb_buf *b, uint64_t v);
void wbm_put_i64(wb_buf *b, int64_t v);
void wbm_put_f64(wb_buf *b, double v);
void wbm_put_str(wb_buf *b, const char *s);
void wbm_put_bytes(wb_buf *b, const void *p, size_t n); /* u64 length, bytes */
void wbm_put_stat(wb_buf *b, const wb_objstat *st);

uint8_t wbm_u8(wbm_rd *r);
uint32_t wbm_u32(wbm_rd *r);
int32_t wbm_i32(wbm_rd *r);
uint64_t wbm_u64(wbm_rd *r);
int64_t wbm_i64(wbm_rd *r);
double wbm_f64(wbm_rd *r);
/* a string: copied into out (cap bytes, truncated); returns out */
char *wbm_str(wbm_rd *r, char *out, size_t cap);
/* a view of a byte string inside the message */
const void *wbm_bytes(wbm_rd *r, size_t *n);
void wbm_stat(wbm_rd *r, wb_objstat *st);

/* ------------------------------------------------------------ transport */
typedef void (*wbm_done_fn)(void *ctx, int ok);

typedef struct wbm_xfer { /* one object's data messages (all chunks) */
    int left;             /* chunks not yet complete */
    int failed;
    wbm_done_fn done;
    void *ctx;
} wbm_xfer;

typedef struct wbm_net {
    MPI_Comm comm;
    int rank, size;
    /* outstanding requests and what each finishes */
    MPI_Request *reqs;
    void **owned; /* a buffer freed when the request completes (control sends) */
    wbm_xfer **xf;
    int nreq, capreq;
    int *idx;
    MPI_Status *sts;
    int next_tag;
    double *heard;  /* per rank: when a message last came from it */
    double *said;   /* per rank: when a message last went to it */
    char err[600];  /* an MPI error, for the fatal message */
    int failed;
} wbm_net;

int wbm_net_init(wbm_net *n, MPI_Comm comm);
void wbm_net_free(wbm_net *n);
/* send a control message to dest; takes over buf->p (freed once sent) */
int wbm_send(wbm_net *n, int dest, wb_buf *buf);
/* send or receive an object's bytes (x then y for a partition) on a tag:
 * len[0..nparts) bytes from/to ptr[0..nparts); done(ctx, ok) when all completed */
int wbm_send_data(wbm_net *n, int dest, int tag, const void *const *ptr, const size_t *len, int nparts,
                  wbm_done_fn done, void *ctx);
int wbm_recv_data(wbm_net *n, int src, int tag, void *const *ptr, const size_t *len, int nparts,
                  wbm_done_fn done, void *ctx);
int wbm_new_tag(wbm_net *n);
/* complete what can be completed (callbacks run); returns the count */
int wbm_progress(wbm_net *n);
/* receive one pending control message: 1 and *buf (malloc'd), *len, *src;
 * 0 when none */
int wbm_poll(wbm_net *n, unsigned char **buf, size_t *len, int *src);
/* the text of an MPI error code */
const char *wbm_errstr(int code, char *buf, size_t cap);

/* ------------------------------------------------------------ doorbells */
/* When every rank of the job shares one host, each rank has a doorbell in
 * memory the ranks share (an MPI-3 shared window): a counter the rank sleeps
 * on (futex) when it has nothing to do, and that a sender bumps after
 * posting a message to it. A rank that sleeps costs no CPU, and wakes as
 * soon as a message or its own pool's result comes. Without doorbells (ranks
 * on several hosts) the loops poll with growing sleeps, as before.
 * wbm_bells_init is collective over comm (every rank calls it at the start). */
int wbm_bells_init(MPI_Comm comm);
void wbm_bells_free(void);
int wbm_bells_on(void);
/* wake rank r if it sleeps (cheap when it does not: one atomic add and load) */
void wbm_ring(int r);
/* rank r (this process) sleeps until rung or for at most secs; busy(ctx) is
 * asked once the sleep is announced: when it finds work, no sleep */
void wbm_doze(int r, double secs, int (*busy)(void *), void *ctx);
/* how long a loop polls (yielding the CPU) after its last work, before it
 * sleeps: the next message of a quick exchange comes within this */
#define WBM_SPIN 100e-6
#define WBM_SPIN_WORKING 20e-6 /* a rank whose pool runs tasks (their end rings) */
/* a loop whose waits lately lasted well beyond WBM_SPIN (their average, a
 * quarter weight to the newest) polls only this long before it sleeps: a
 * spin that would not catch the message only costs CPU the peers need */
#define WBM_SPIN_SHORT 5e-6
#define WBM_SPIN_AVG(avg) ((avg) < 2 * WBM_SPIN ? WBM_SPIN : WBM_SPIN_SHORT)
#define WBM_POOL_SPIN 0 /* a rank's pool thread, after a task, before it sleeps */
/* the longest sleep on a doorbell: heartbeats and timeouts are checked, and
 * a message MPI had queued inside the sender (sent on its next progress)
 * waits no longer than this */
#define WBM_DOZE_MAX 50e-3

/* an object's byte layout for transfer: 1 or 2 pieces (a partition: x, y) */
int wbm_layout(const wb_objstat *st, size_t *len);

/* ------------------------------------------------------------ id map */
typedef struct wbm_map {
    uint64_t *keys;
    void **vals;
    size_t cap, n;
} wbm_map;
void *wbm_map_get(const wbm_map *m, uint64_t k);
int wbm_map_put(wbm_map *m, uint64_t k, void *v);
void *wbm_map_del(wbm_map *m, uint64_t k);
void wbm_map_free(wbm_map *m);

/* ------------------------------------------------------------ block sums */
/* Merge encoded block-sum node sets (see wb_treesum_add_encoded) into one:
 * siblings present are added (left += right, as wb_treesum_result does), so
 * the nodes that remain are nodes of the same fixed tree and the final sum
 * is the same bit for bit whichever way the sets were grouped. *out malloc'd. */
int wbm_nodes_merge(const void *const *sets, const size_t *sizes, int nsets, size_t len, void **out,
                    size_t *outsize);

/* binomial tree over the executor ranks 1..P (P = size - 1): the parent of
 * rank r (0 for rank 1, the root) and its children count */
int wbm_tree_parent(int r);
int wbm_tree_children(int r, int size, int *children, int max);

/* ------------------------------------------------------------ the two sides */
/* rank 0: the executor over the started job (start.c calls it once) */
typedef struct wbm_rankinfo {
    char host[64];
    int pid, threads;
} wbm_rankinfo;
int wbm_driver_new(MPI_Comm comm, const wbm_rankinfo *ranks, double timeout, wb_exec **out);
void wbm_driver_stop(int status);
int wbm_driver_bench(wb_exec *ex, size_t len, int reps, double out[3]);
/* ranks > 0: the executor loop (after START) */
int wbm_rank_loop(MPI_Comm comm, int threads, double timeout, const char *driver_host);

/* this process's host name */
const char *wbm_hostname(void);

#endif
