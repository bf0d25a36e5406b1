/* cluster_internal.h — shared by the cluster's core files: connections over
 * libuv (TLS, framing, the handshake, batched writes, raw object bodies). */
#ifndef WB_CLUSTER_INTERNAL_H
#define WB_CLUSTER_INTERNAL_H

#include <uv.h>
#include <openssl/ssl.h>

#include "../internal.h"
#include "proto.h"

typedef struct wb_net wb_net;
typedef struct wb_conn wb_conn;
typedef struct wb_tseg wb_tseg;

typedef struct wb_conn_cbs {
    /* the handshake completed */
    void (*on_ready)(wb_conn *c);
    /* a frame after the handshake; return nonzero (message set) to drop the peer */
    int (*on_frame)(wb_conn *c, int type, const unsigned char *p, size_t n);
    /* a raw body asked for with wb_conn_recv_raw arrived (ctx as given) */
    void (*on_raw)(wb_conn *c, void *ctx);
    /* the connection is going away (once); why is "" for an orderly close */
    void (*on_close)(wb_conn *c, int code, const char *why);
} wb_conn_cbs;

enum { WB_CS_CONNECTING, WB_CS_HELLO, WB_CS_AUTH, WB_CS_READY, WB_CS_CLOSED };

struct wb_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles; /* open libuv handles; freed when 0 */
    wb_net *net;
    const wb_conn_cbs *cb;
    void *data;  /* the owner's */
    uint32_t id; /* the owner's (e.g. worker id) */
    char peer[96];
    int server;    /* accepted (server side of the handshake) */
    int my_role;   /* the role this side claims / has */
    int peer_role; /* the other side's role once known */
    int want_role; /* client: the role the server must have */
    unsigned accept_roles; /* server: bit set of roles accepted */
    int state;
    uint8_t nonce_l[WB_PROTO_NONCE], nonce_r[WB_PROTO_NONCE];
    unsigned char *rbuf;
    size_t rlen, rcap;
    /* a raw body being received */
    unsigned char *raw;
    size_t raw_len, raw_off;
    void *raw_ctx;
    int raw_on, raw_discard;
    /* frames waiting to be written (flushed once per loop iteration) */
    wb_buf out;
    int dirty;
    wb_conn *next_dirty;
    uint64_t bytes_in, bytes_out;
    double opened;    /* loop ms */
    uint64_t last_in; /* loop ms when bytes last arrived */
    int timeout_ms;   /* a client's time to connect and shake hands */
    wb_conn *nprev, *nnext; /* every connection of the net */
    /* the server side's admission: still authenticating (counted in
     * net->npending), or authenticated (in net->nready); addr: the peer's
     * address without its port */
    int pending, ready_slot;
    char addr[96];
    /* TLS (NULL ssl: none, or not yet) */
    SSL *ssl;
    int tls_up;    /* the TLS handshake completed */
    int sniffed;   /* the first bytes from the peer were checked */
    unsigned char *cin; /* ciphertext read, [cin_off, cin_len) not yet given to OpenSSL */
    size_t cin_len, cin_off, cin_cap;
    wb_buf cout;        /* ciphertext OpenSSL wrote, not yet handed to libuv */
    wb_tseg *tq, *tq_tail; /* plaintext waiting to be encrypted, in order */
    size_t tx_inflight;    /* ciphertext bytes in libuv's write queue */
    /* ciphertext buffers written out while raw bodies are being sent, for
     * the next chunks (no allocation, no fresh pages per chunk) */
    unsigned char *cspare[8];
    size_t cspare_cap[8];
    int ncspare;
};

/* failed authentications from one address (the server side's rate limit) */
typedef struct wb_netfail {
    char addr[96];        /* the peer's address without its port */
    int count;            /* failures in the window that started at `since` */
    uint64_t since;       /* loop time, ms */
    uint64_t until;       /* refused until then (0: not refused) */
    unsigned refused;     /* connections refused in the current block */
} wb_netfail;

enum { WB_TLS_OFF = 0, WB_TLS_PSK = 1, WB_TLS_CERT = 2 };
#define WB_TLS_PSK_LEN 32

struct wb_net {
    uv_loop_t *loop;
    char token[WB_TOKEN_MAX + 1];
    const char *who; /* "head", "worker", "driver": for log lines */
    uv_idle_t flusher;
    int flusher_on;
    wb_conn *dirty;
    int handshake_ms; /* a server drops peers that have not authenticated by then */
    wb_conn *conns;   /* every open connection */
    /* limits of the server side (set after wb_net_init; see wb_head_opts) */
    int max_conns;       /* authenticated connections open at once (0: no limit) */
    int nready;          /* authenticated accepted connections open */
    int max_pending;     /* accepted connections still authenticating, from all addresses */
    int max_pending_addr;/* ... and from one address (a new one closes the oldest) */
    int npending;
    int fail_max;        /* failed authentications from one address within fail_window_ms ... */
    int fail_window_ms;  /* ... before it is refused for fail_window_ms (0: no limit) */
    wb_netfail *fails;   /* per address, at most WB_NET_MAX_FAILREC */
    int nfails;
    uint64_t full_logged; /* when "too many connections" was last logged */
    unsigned full_refused;
    uint64_t evict_logged; /* when closing unauthenticated connections was last logged */
    unsigned evicted;
    /* TLS: WB_TLS_*, the contexts of both sides, the key from the token */
    int tls;
    SSL_CTX *tls_srv, *tls_cli;
    unsigned char psk[WB_TLS_PSK_LEN];
};
#define WB_NET_MAX_FAILREC 1024
#define WB_NET_HANDSHAKE_MS 5000
#define WB_NET_MAX_PENDING_ADDR 64
/* the default for max_conns: 1000, or fewer when the process may not open
 * that many descriptors */
int wb_net_default_max_conns(void);
/* give back the read buffers a burst grew, once empty (from a periodic timer) */
void wb_net_trim(wb_net *net);

/* a net with TLS keyed by the token (wb_net_tls changes that); 0, or an
 * error (message set) when OpenSSL cannot make its contexts */
int wb_net_init(wb_net *net, uv_loop_t *loop, const char *token, const char *who);
/* TLS as the options say (NULL: keyed by the token); before any connection */
int wb_net_tls(wb_net *net, const wb_tls_opts *o);
/* the limits of the server side from a head's or worker's options (0: keep) */
void wb_net_limits(wb_net *net, int max_conns, int handshake_ms, int max_unauth);
/* write what is queued on every connection now (else at the next loop turn) */
void wb_net_flush(wb_net *net);
/* close every connection left (without their callbacks) and the flusher */
void wb_net_close(wb_net *net);

/* accept a connection on a listening stream and start the handshake as the
 * server; accept_roles is a bit set (1 << WB_ROLE_*) */
wb_conn *wb_conn_accept(wb_net *net, uv_stream_t *server, const wb_conn_cbs *cb, void *data,
                        int my_role, unsigned accept_roles);
/* connect to addr and run the handshake as the client; timeout_ms bounds the
 * connection and the handshake together. Failures come through on_close. */
wb_conn *wb_conn_connect(wb_net *net, const struct sockaddr *addr, const char *peer_name,
                         const wb_conn_cbs *cb, void *data, int my_role, int want_role,
                         int timeout_ms);
/* a writer appending frames to the connection's output (flushed soon) */
wb_wr wb_conn_wr(wb_conn *c);
void wb_conn_mark(wb_conn *c); /* call after appending */
/* send a frame followed by raw bytes (not copied: they must stay valid until
 * done(ctx, status) is called) */
typedef void (*wb_raw_done_fn)(void *ctx, int status);
int wb_conn_send_raw(wb_conn *c, const wb_buf *frame, const uv_buf_t *bufs, int nbufs,
                     wb_raw_done_fn done, void *ctx);
/* from inside on_frame: the next len bytes of the stream are a raw body,
 * written to dst (NULL: read and thrown away); on_raw(c, ctx) follows */
void wb_conn_recv_raw(wb_conn *c, void *dst, size_t len, void *ctx);
/* close (idempotent): on_close runs once with the reason */
void wb_conn_close(wb_conn *c, int code, const char *why);
/* bytes queued in the kernel-side write queue of libuv */
size_t wb_conn_backlog(const wb_conn *c);

/* "head", "worker", "driver", "peer" */
const char *wb_role_name(int role);

/* TLS (cluster/tls.c; the pumps between the socket and OpenSSL are in net.c) */
int wb_tls_setup(wb_net *net, const wb_tls_opts *o);
void wb_tls_free(wb_net *net);
const char *wb_tls_mode_name(int mode);
int wb_tls_conn_new(wb_conn *c);
void wb_tls_conn_free(wb_conn *c);
/* why an OpenSSL call on c failed (sslerr: SSL_get_error's), as a message
 * for the log (server) or the caller (client); *auth: a wrong token or
 * certificate */
void wb_tls_failure(wb_conn *c, int sslerr, char *out, size_t cap, int *auth);
/* the line a process prints when TLS is off */
void wb_tls_warn_off(const char *who, int quiet);

/* "host:port" -> address (numeric or resolved); errors name the address */
int wb_resolve(const char *hostport, struct sockaddr_storage *out, char *host, size_t hostcap,
               int *port);
int wb_resolve_hp(const char *host, int port, struct sockaddr_storage *out);
/* the printable address of a socket address */
void wb_addr_str(const struct sockaddr *sa, char *buf, size_t cap);


/* a plugin a peer has loaded (the head's workers and drivers, the driver's
 * workers), copied out of a message's list */
typedef struct wb_cplugin {
    char name[WB_PROTO_MAX_NAME + 1], version[WB_PROTO_MAX_NAME + 1];
} wb_cplugin;
/* a message's n plugins as a malloc'd array (one element at least, so NULL
 * only means out of memory) */
wb_cplugin *wb_cplugins_from(const wb_m_plugin *m, uint32_t n);
/* n plugins as message entries pointing into pl (which must outlive them);
 * malloc'd, one element at least: NULL only means out of memory */
wb_m_plugin *wb_cplugins_view(const wb_cplugin *pl, uint32_t n);
/* the plugins this process has loaded as message entries (names and versions
 * point into the plugin table); *n set; malloc'd as above */
wb_m_plugin *wb_plugins_here(uint32_t *n);

/* the driver (driver.c) calls fn(arg) once when the executor closes, after
 * its connections are down: the local-cluster launcher stops its processes */
void wb_cluster_on_close(wb_exec *ex, void (*fn)(void *), void *arg);

/* one step of a short busy wait (the CPU's pause hint where it has one) */
static inline void wb__spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* after a busy wait: one that caught what it waited for resets the back-off;
 * one in vain leaves out the next 1, 2, 4 ... 64 waits (*skip) */
static inline void wb__spin_backoff(int caught, int *backoff, int *skip)
{
    if (caught) *backoff = 0;
    else {
        *backoff = *backoff ? (*backoff < 64 ? 2 * *backoff : 64) : 1;
        *skip = *backoff;
    }
}

#endif
