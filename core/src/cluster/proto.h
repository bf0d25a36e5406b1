/*
 * cluster/proto.h — the cluster's wire protocol (private to the cluster code,
 * its unit tests and fuzzers; the public API is wb/cluster.h).
 *
 * Processes and connections:
 *
 *   driver ──(control)──► head ◄──(control)── worker ◄──(data)── worker / driver
 *
 * A head schedules tasks and keeps the directory of which worker holds which
 * object; workers run kernels on their own thread pool and hold objects;
 * objects move between workers (and between a worker and the driver)
 * directly over the workers' data ports, never through the head.
 *
 * Wire format. Every message is one frame: an 8-byte header
 *     u32 length of the payload, u16 type, u16 flags (0)
 * followed by the payload; all integers little-endian. Frames are limited to
 * WB_PROTO_MAX_FRAME bytes (WB_PROTO_MAX_PREAUTH before the handshake); a peer
 * that sends a larger, unknown or malformed frame is dropped. Object contents
 * follow an OBJ or PUT frame as raw bytes (their size is in the frame), so
 * objects larger than a frame move without being cut up or copied.
 *
 * Transport: TLS 1.3 keyed by the token (or certificates; see tls.c), unless
 * a process runs with --insecure-no-tls. Only one frame is ever sent outside
 * TLS: the REJECT of a connection refused before its handshake (its address
 * made too many failed attempts), and a server without TLS sends its HELLO
 * in clear; a client with TLS recognises both by their first bytes.
 *
 * Handshake (challenge-response inside TLS; the token never crosses the wire):
 *     server -> client  HELLO   magic, version, role, nonce_s
 *     client -> server  AUTH    magic, version, role, nonce_c,
 *                               HMAC-SHA256(token, "wb-client" nonce_s nonce_c role)
 *     server -> client  AUTH_OK HMAC-SHA256(token, "wb-server" nonce_c nonce_s role)
 * or REJECT with a reason. Both sides prove that they know the token.
 *
 * The decoders below are pure functions over a byte buffer: they check every
 * field and return WB_EPROTO with a message naming the message and the field.
 * Strings and byte strings in decoded messages point into the buffer. Beside
 * each decoder is the encoder of the same layout (mostly taking the struct
 * the decoder fills): the head, the workers and the drivers write messages
 * only through them.
 */
#ifndef WB_CLUSTER_PROTO_H
#define WB_CLUSTER_PROTO_H

#include "wb/cluster.h"

/* what each version added: 2: PLUGINS, plugins in WORKERS; 3: WSTATS, JOB
 * (the dashboard); 4: TLS, PING (heartbeats between the head and drivers) */
#define WB_PROTO_VERSION 4
#define WB_PROTO_MAGIC "WBCL"
#define WB_PROTO_HDR 8
#define WB_PROTO_MAX_FRAME ((uint32_t)64 << 20) /* authenticated peers */
#define WB_PROTO_MAX_PREAUTH 1024u               /* before the handshake */
#define WB_PROTO_INLINE_MAX ((uint64_t)64 << 10) /* results this small travel inline */
#define WB_PROTO_MAX_OBJECT ((uint64_t)1 << 40)
#define WB_PROTO_NONCE 32
#define WB_PROTO_MAC 32
#define WB_PROTO_MAX_NAME 128  /* kernel, plugin and host names */
#define WB_PROTO_MAX_TEXT 4096 /* messages */
#define WB_PROTO_MAX_HOLDERS 64

enum { WB_ROLE_HEAD = 1, WB_ROLE_WORKER = 2, WB_ROLE_DRIVER = 3, WB_ROLE_PEER = 4 };

#define WB_MSG_LIST(X)                                                       \
    X(HELLO, 1)      /* server -> client: challenge */                      \
    X(AUTH, 2)       /* client -> server: response and challenge */         \
    X(AUTH_OK, 3)    /* server -> client: response */                       \
    X(REJECT, 4)     /* either way: a reason, then the connection closes */ \
    X(REGISTER, 10)  /* worker -> head */                                   \
    X(WELCOME, 11)   /* head -> worker, driver */                           \
    X(WORKERS, 12)   /* head -> worker, driver: the worker table */         \
    X(HEARTBEAT, 13) /* worker -> head: figures */                          \
    X(SUBMIT, 20)    /* driver -> head: tasks */                            \
    X(TASKS, 21)     /* head -> worker: tasks with where their inputs are */\
    X(DONE, 22)      /* worker -> head -> driver: results */                \
    X(PUT_DECL, 23)  /* driver -> head: an object put on a worker */        \
    X(HOLD, 24)      /* worker -> head: now holds these objects */          \
    X(RELEASE, 25)   /* driver -> head: drops its references */             \
    X(DROP, 26)      /* head -> worker: forget these objects */             \
    X(LOCATE, 27)    /* driver -> head: where is (rebuild if lost) */       \
    X(LOCATION, 28)  /* head -> driver */                                   \
    X(REPUT, 29)     /* head -> driver: put this object again */            \
    X(FREED, 30)     /* head -> driver: the cluster forgot these objects */ \
    X(PULL, 31)      /* head -> worker: fetch copies from these holders */  \
    X(REPLICATE, 32) /* driver -> head: copy objects to a worker */         \
    X(INPUT_LOST, 33)/* worker -> head: an input could not be fetched */    \
    X(FETCH, 40)     /* peer -> worker data port: send these objects */     \
    X(OBJ, 41)       /* worker -> peer: an object (raw bytes follow) */     \
    X(OBJ_ERR, 42)   /* worker -> peer: cannot send it */                   \
    X(PUT, 43)       /* driver -> worker: an object (raw bytes follow) */ \
    X(PLUGINS, 34)   /* driver -> head: its plugins, before tasks */        \
    X(WSTATS, 35)    /* worker -> head: tasks run, log lines, CPU time */   \
    X(JOB, 36)       /* driver -> head: its running job (progress) */        \
    X(PING, 14)      /* head <-> driver, head -> worker: alive (no payload; */\
                     /* last: the fuzz corpus numbers the types by list order) */

enum {
#define WB__MSGENUM(name, code) WB_M_##name = code,
    WB_MSG_LIST(WB__MSGENUM)
#undef WB__MSGENUM
};
const char *wb_msg_name(int type); /* "DONE", or NULL for an unknown type */

/* ------------------------------------------------------------------------
 * frames
 * ---------------------------------------------------------------------- */
typedef struct wb_frame_hdr {
    uint32_t len;
    uint16_t type;
    uint16_t flags;
} wb_frame_hdr;

/* decode and check the 8 header bytes against the size limit */
int wb_frame_decode(const void *hdr, uint32_t max_len, wb_frame_hdr *out);

/* writing frames into a growing buffer: begin, add fields, end (which fills in
 * the length and checks the limit). Errors stick: check wb_wr.err at the end. */
typedef struct wb_wr {
    wb_buf *b;
    int err;
} wb_wr;
size_t wb_msg_begin(wb_wr *w, int type);
int wb_msg_end(wb_wr *w, size_t start); /* 0 or an error (message set) */
void wb_wr_u8(wb_wr *w, uint8_t v);
void wb_wr_u16(wb_wr *w, uint16_t v);
void wb_wr_u32(wb_wr *w, uint32_t v);
void wb_wr_u64(wb_wr *w, uint64_t v);
void wb_wr_i32(wb_wr *w, int32_t v);
void wb_wr_i64(wb_wr *w, int64_t v);
void wb_wr_raw(wb_wr *w, const void *p, size_t n);
void wb_wr_str(wb_wr *w, const char *s); /* u32 length + bytes (NULL: empty) */
void wb_wr_bytes(wb_wr *w, const void *p, size_t n);

/* ------------------------------------------------------------------------
 * message contents
 * ---------------------------------------------------------------------- */
typedef struct wb_pstr { /* a string inside a frame (not NUL-terminated) */
    const char *p;
    uint32_t len;
} wb_pstr;

/* copy into dst (always terminated, truncated to fit) */
char *wb_pstr_copy(wb_pstr s, char *dst, size_t cap);
int wb_pstr_eq(wb_pstr s, const char *z);

typedef struct wb_wstat { /* an object's shape on the wire */
    uint8_t type;         /* WB_OBJ_* */
    uint8_t has_y;
    uint64_t size; /* payload bytes (PART: rows*cols*8 + has_y*rows*8) */
    int64_t rows, cols, row0;
} wb_wstat;
void wb_wstat_from(wb_wstat *w, const wb_objstat *s);
void wb_wstat_to(const wb_wstat *w, wb_objstat *s);
void wb_wr_wstat(wb_wr *w, const wb_wstat *s);

typedef struct wb_m_hello {
    uint16_t version;
    uint8_t role;
    uint8_t nonce[WB_PROTO_NONCE];
} wb_m_hello;
typedef struct wb_m_auth {
    uint16_t version;
    uint8_t role;
    uint8_t nonce[WB_PROTO_NONCE];
    uint8_t mac[WB_PROTO_MAC];
} wb_m_auth;
typedef struct wb_m_reject {
    int32_t code;
    wb_pstr msg;
} wb_m_reject;

typedef struct wb_m_plugin {
    wb_pstr name, version;
} wb_m_plugin;

typedef struct wb_m_register {
    uint32_t threads;
    uint64_t mem_limit;
    wb_pstr host; /* the data port's address */
    uint16_t port;
    uint32_t pid;
    uint32_t nplugins;
    wb_m_plugin *plugins;
    uint32_t nkernels;
    wb_pstr *kernels;
} wb_m_register;

typedef struct wb_m_welcome {
    uint32_t id; /* worker id, or the driver's client id */
    uint32_t heartbeat_ms, timeout_ms;
    uint16_t dashboard_port; /* 0: none */
    uint32_t nplugins;
    wb_m_plugin *plugins;
} wb_m_welcome;

typedef struct wb_m_plugins { /* PLUGINS: a driver's plugins, names and versions */
    uint32_t nplugins;
    wb_m_plugin *plugins;
} wb_m_plugins;

typedef struct wb_m_worker {
    uint32_t id;
    wb_pstr host;
    uint16_t port;
    uint32_t threads, pid;
    uint8_t alive;
    uint32_t nplugins; /* its plugins, names and versions */
    wb_m_plugin *plugins;
} wb_m_worker;
typedef struct wb_m_workers {
    uint32_t n;
    wb_m_worker *w;
} wb_m_workers;

typedef struct wb_m_heartbeat {
    uint64_t mem_used, mem_limit, objects;
    uint32_t running, queued;
    uint64_t done, failed;
    int64_t rss;
} wb_m_heartbeat;

/* a batch of tasks (SUBMIT, TASKS): kernel names and argument blobs are
 * shared by index */
typedef struct wb_m_input {
    uint64_t oid;
    uint16_t nholders; /* TASKS: workers holding it (SUBMIT: 0) */
    const uint32_t *holders;
} wb_m_input;
typedef struct wb_m_task {
    uint64_t oid; /* the result */
    uint32_t kernel; /* index into kernels */
    uint8_t mode;
    uint64_t sumlen;
    int64_t out_rows;
    uint32_t attempt;
    uint32_t arg; /* index into args, or WB_NO_ARG */
    uint32_t nin;
    wb_m_input *in;
} wb_m_task;
#define WB_NO_ARG 0xffffffffu
typedef struct wb_m_tasks {
    uint32_t nkernels;
    wb_pstr *kernels;
    uint32_t nargs;
    wb_pstr *args;
    uint32_t ntasks;
    wb_m_task *tasks;
    void *mem;
} wb_m_tasks;

typedef struct wb_m_done1 {
    uint64_t oid;
    int32_t code;    /* 0 or WB_E* */
    uint32_t worker; /* where it is */
    wb_wstat stat;
    wb_pstr msg;
    uint8_t has_inline;
    wb_pstr data; /* inline payload (stat.size bytes) */
} wb_m_done1;
typedef struct wb_m_done {
    uint32_t n;
    wb_m_done1 *d;
} wb_m_done;

typedef struct wb_m_obj1 { /* PUT_DECL (worker set), HOLD (worker 0) */
    uint64_t oid;
    uint32_t worker;
    wb_wstat stat;
} wb_m_obj1;
typedef struct wb_m_objs {
    uint32_t n;
    wb_m_obj1 *o;
} wb_m_objs;

typedef struct wb_m_oids { /* RELEASE, DROP, LOCATE, FREED, FETCH */
    uint32_t n;
    const unsigned char *raw; /* n little-endian u64 */
} wb_m_oids;
uint64_t wb_m_oid_at(const wb_m_oids *m, uint32_t i);

typedef struct wb_m_loc1 { /* LOCATION, REPUT, REPLICATE, INPUT_LOST */
    uint64_t oid;
    int32_t code;
    uint32_t worker; /* INPUT_LOST: unused */
    uint64_t other;  /* INPUT_LOST: the input that was lost */
    wb_pstr msg;
} wb_m_loc1;
typedef struct wb_m_locs {
    uint32_t n;
    wb_m_loc1 *l;
} wb_m_locs;

typedef struct wb_m_pull1 {
    uint64_t oid;
    uint16_t nholders;
    const uint32_t *holders;
} wb_m_pull1;
typedef struct wb_m_pull {
    uint32_t n;
    wb_m_pull1 *p;
    void *mem;
} wb_m_pull;

typedef struct wb_m_obj { /* OBJ, PUT: stat.size raw bytes follow the frame */
    uint64_t oid;
    wb_wstat stat;
} wb_m_obj;

/* ------------------------------------------------------------------------
 * codecs: for every message a decoder and, beside it, an encoder writing
 * the same layout (messages that share a layout share both).
 *
 * Decoders: 0, or WB_EPROTO with a message; free what they allocated with
 * the matching *_free (safe on a zeroed or failed message).
 * Encoders: append one whole frame to the writer and return wb_msg_end's
 * result (0, or an error with its message; errors also stick in wb_wr.err).
 * Text fields (reasons, error messages) longer than WB_PROTO_MAX_TEXT - 1
 * bytes are cut to that length.
 * ---------------------------------------------------------------------- */

/* a C string as a message string (NULL: empty) */
wb_pstr wb_pstr_z(const char *z);

/* list messages (a u32 count, then the entries) are also built entry by
 * entry, the way the head, the workers and the drivers batch them, and
 * framed once with wb_enc_list */
typedef struct wb_list {
    int type;   /* the message: WB_M_DONE, WB_M_HOLD, ... */
    uint32_t n; /* entries so far */
    wb_buf b;   /* the entries, encoded */
} wb_list;
void wb_list_init(wb_list *l, int type);
void wb_list_clear(wb_list *l); /* drop the entries */
void wb_list_free(wb_list *l);
/* the list as one frame (an empty one too); the list is emptied */
int wb_enc_list(wb_wr *w, wb_list *l);

/* HELLO: the version is always WB_PROTO_VERSION */
int wb_dec_hello(const void *p, size_t n, wb_m_hello *out);
int wb_enc_hello(wb_wr *w, uint8_t role, const uint8_t nonce[WB_PROTO_NONCE]);
int wb_dec_auth(const void *p, size_t n, wb_m_auth *out);
int wb_enc_auth(wb_wr *w, uint16_t version, uint8_t role, const uint8_t nonce[WB_PROTO_NONCE],
                const uint8_t mac[WB_PROTO_MAC]);
int wb_dec_auth_ok(const void *p, size_t n, uint8_t mac[WB_PROTO_MAC]);
int wb_enc_auth_ok(wb_wr *w, const uint8_t mac[WB_PROTO_MAC]);
int wb_dec_reject(const void *p, size_t n, wb_m_reject *out);
int wb_enc_reject(wb_wr *w, int32_t code, const char *msg);

/* WSTATS: what a worker did since its last WSTATS, for the dashboard: its
 * clock (wb_now()), CPU seconds used, resident memory, the tasks it ran and
 * its log lines (times on its clock) */
typedef struct wb_m_wtask {
    wb_pstr kernel;
    uint16_t thread;
    double start, end;
    uint8_t ok;
} wb_m_wtask;
typedef struct wb_m_wlog {
    double time;
    uint8_t level;
    wb_pstr msg;
} wb_m_wlog;
typedef struct wb_m_wstats {
    double now, cpu;
    int64_t rss;
    uint32_t ntasks, nlogs;
    wb_m_wtask *tasks;
    wb_m_wlog *logs;
} wb_m_wstats;
#define WB_PROTO_MAX_WTASKS 20000
#define WB_PROTO_MAX_WLOGS 256
int wb_dec_wstats(const void *p, size_t n, wb_m_wstats *out);
void wb_m_wstats_free(wb_m_wstats *m);
int wb_enc_wstats(wb_wr *w, double now, double cpu, int64_t rss, const wb_taskrec *tasks, int ntasks,
                  const wb_logrec *logs, int nlogs);

/* JOB: a driver's running job, the stages of its progress line (none: idle) */
#define WB_PROTO_MAX_STAGES 8
typedef struct wb_m_jstage {
    wb_pstr name, info;
    double done, total, elapsed;
} wb_m_jstage;
typedef struct wb_m_job {
    uint32_t n;
    wb_m_jstage s[WB_PROTO_MAX_STAGES];
} wb_m_job;
int wb_dec_job(const void *p, size_t n, wb_m_job *out);
int wb_enc_job(wb_wr *w, const wb_jobstage *stages, int n, double now);

int wb_dec_register(const void *p, size_t n, wb_m_register *out);
void wb_m_register_free(wb_m_register *m);
int wb_enc_register(wb_wr *w, const wb_m_register *m);
int wb_dec_welcome(const void *p, size_t n, wb_m_welcome *out);
void wb_m_welcome_free(wb_m_welcome *m);
int wb_enc_welcome(wb_wr *w, const wb_m_welcome *m);
int wb_dec_plugins(const void *p, size_t n, wb_m_plugins *out);
void wb_m_plugins_free(wb_m_plugins *m);
int wb_enc_plugins(wb_wr *w, const wb_m_plugins *m);
int wb_dec_workers(const void *p, size_t n, wb_m_workers *out);
void wb_m_workers_free(wb_m_workers *m);
int wb_enc_workers(wb_wr *w, const wb_m_workers *m);
void wb_enc_worker1(wb_list *l, const wb_m_worker *x); /* WORKERS */
int wb_dec_heartbeat(const void *p, size_t n, wb_m_heartbeat *out);
int wb_enc_heartbeat(wb_wr *w, const wb_m_heartbeat *m);
/* PING: no payload; the head sends it to its drivers and workers every
 * heartbeat, a driver to the head, so that each side sees a silent peer */
int wb_dec_ping(const void *p, size_t n);
int wb_enc_ping(wb_wr *w);

/* SUBMIT, TASKS */
int wb_dec_tasks(const void *p, size_t n, wb_m_tasks *out);
void wb_m_tasks_free(wb_m_tasks *m);
int wb_enc_tasks(wb_wr *w, int type, const wb_m_tasks *m);
/* a SUBMIT or TASKS batch built task by task: the kernel and argument tables
 * grow as the tasks need them (the caller keeps the indices), each task is
 * followed by its nin inputs; wb_enc_taskbatch frames it and empties it */
typedef struct wb_taskbatch {
    int type;
    wb_buf kern, args, tasks; /* the three tables, encoded */
    uint32_t nk, na, nt;      /* their entries */
    int err;                  /* out of memory while building (sticks until framed) */
} wb_taskbatch;
void wb_taskbatch_init(wb_taskbatch *b, int type);
void wb_taskbatch_clear(wb_taskbatch *b); /* drop the entries (and the error) */
void wb_taskbatch_free(wb_taskbatch *b);
uint32_t wb_taskbatch_kernel(wb_taskbatch *b, const char *name);          /* its index */
uint32_t wb_taskbatch_arg(wb_taskbatch *b, const void *p, size_t n);      /* its index */
void wb_taskbatch_task(wb_taskbatch *b, const wb_m_task *t);              /* t->in unused */
void wb_taskbatch_input(wb_taskbatch *b, uint64_t oid, uint16_t nholders, const uint32_t *holders);
int wb_enc_taskbatch(wb_wr *w, wb_taskbatch *b);

int wb_dec_done(const void *p, size_t n, wb_m_done *out);
void wb_m_done_free(wb_m_done *m);
int wb_enc_done(wb_wr *w, const wb_m_done *m);
/* a DONE entry; its inline bytes are d->data followed by the ntail bytes at
 * tail (a partition's labels after its rows; NULL, 0 for none) */
void wb_enc_done1(wb_list *l, const wb_m_done1 *d, const void *tail, size_t ntail);

/* PUT_DECL (with the worker), HOLD (without) */
int wb_dec_objs(const void *p, size_t n, int with_worker, wb_m_objs *out);
void wb_m_objs_free(wb_m_objs *m);
int wb_enc_objs(wb_wr *w, int type, const wb_m_objs *m);
void wb_enc_obj1(wb_list *l, const wb_m_obj1 *o);

/* RELEASE, DROP, LOCATE, FREED, FETCH */
int wb_dec_oids(const void *p, size_t n, wb_m_oids *out);
int wb_enc_oids(wb_wr *w, int type, const uint64_t *oids, uint32_t n);
void wb_enc_oid1(wb_list *l, uint64_t oid);

/* LOCATION, REPUT, REPLICATE, INPUT_LOST, OBJ_ERR */
int wb_dec_locs(const void *p, size_t n, wb_m_locs *out);
void wb_m_locs_free(wb_m_locs *m);
int wb_enc_locs(wb_wr *w, int type, const wb_m_locs *m);
void wb_enc_loc1(wb_list *l, const wb_m_loc1 *e);

int wb_dec_pull(const void *p, size_t n, wb_m_pull *out);
void wb_m_pull_free(wb_m_pull *m);
int wb_enc_pull(wb_wr *w, const wb_m_pull *m);
void wb_enc_pull1(wb_list *l, const wb_m_pull1 *e);

/* OBJ, PUT */
int wb_dec_obj(const void *p, size_t n, wb_m_obj *out);
int wb_enc_obj(wb_wr *w, int type, const wb_m_obj *m);

/* decode any frame payload of the given type and free it (for tests and fuzzing) */
int wb_dec_any(int type, const void *p, size_t n);

/* ------------------------------------------------------------------------
 * the handshake's proofs (cluster/auth.c, OpenSSL libcrypto)
 * ---------------------------------------------------------------------- */
int wb_auth_nonce(uint8_t out[WB_PROTO_NONCE]);
/* HMAC-SHA256(token, label || a || b || role) */
void wb_auth_mac(const char *token, const char *label, const uint8_t a[WB_PROTO_NONCE],
                 const uint8_t b[WB_PROTO_NONCE], uint8_t role, uint8_t out[WB_PROTO_MAC]);
int wb_auth_equal(const uint8_t a[WB_PROTO_MAC], const uint8_t b[WB_PROTO_MAC]);

#endif /* WB_CLUSTER_PROTO_H */
