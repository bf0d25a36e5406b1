/* cluster/net.c — connections of the cluster over libuv: TLS between the
 * socket and the frames (OpenSSL over memory, see tls.c), the framing reader
 * (with a direct path for raw object bodies), the challenge-response
 * handshake on both sides, output batched per loop iteration, the server
 * side's admission (unauthenticated connections apart from authenticated
 * ones), and address helpers.
 * Everything here runs on the loop thread that owns the connection.
 *
 * With TLS, bytes go: socket -> cin -> OpenSSL -> rbuf (frames) or straight
 * into a raw body's buffer; and frames -> out (per loop turn) -> a queue of
 * plaintext segments (frames, and raw bodies not copied) -> OpenSSL -> cout
 * -> uv_write, encrypted a window ahead of the socket so that a 1 GB object
 * never needs 1 GB of ciphertext. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cluster_internal.h"

#define READ_CHUNK ((size_t)256 << 10)
/* TLS output: plaintext encrypted per SSL_write, and the ciphertext kept in
 * libuv's write queue at most (more waits, unencrypted, in the queue) */
#define TX_CHUNK ((size_t)256 << 10)
#define TX_WINDOW ((size_t)4 << 20)

/* plaintext waiting for TLS: parts[0] is owned (a frame), the others the
 * caller's (a raw body, valid until done) */
struct wb_tseg {
    wb_tseg *next;
    unsigned char *own;
    uv_buf_t *parts;
    int nparts, part;
    size_t off;
    wb_raw_done_fn done;
    void *ctx;
};

static void conn_close_cb(uv_handle_t *h);
static void tls_pump(wb_conn *c);
static void tls_input(wb_conn *c);

/* ------------------------------------------------------------------ net */

static void flush_conn(wb_conn *c);

static void on_flush(uv_idle_t *h)
{
    wb_net *net = h->data;
    wb_conn *c = net->dirty;
    net->dirty = NULL;
    while (c) {
        wb_conn *nx = c->next_dirty;
        c->dirty = 0;
        c->next_dirty = NULL;
        flush_conn(c);
        c = nx;
    }
    if (!net->dirty) {
        uv_idle_stop(&net->flusher);
        net->flusher_on = 0;
    }
}

void wb_net_flush(wb_net *net)
{
    if (net->dirty) on_flush(&net->flusher);
}

int wb_net_init(wb_net *net, uv_loop_t *loop, const char *token, const char *who)
{
    memset(net, 0, sizeof *net);
    net->loop = loop;
    snprintf(net->token, sizeof net->token, "%s", token ? token : "");
    net->who = who;
    net->handshake_ms = WB_NET_HANDSHAKE_MS;
    net->max_conns = wb_net_default_max_conns();
    net->max_pending_addr = WB_NET_MAX_PENDING_ADDR;
    net->max_pending = 4 * WB_NET_MAX_PENDING_ADDR;
    net->fail_max = 10;
    net->fail_window_ms = 60000;
    uv_idle_init(loop, &net->flusher);
    net->flusher.data = net;
    return wb_tls_setup(net, NULL);
}

int wb_net_tls(wb_net *net, const wb_tls_opts *o) { return wb_tls_setup(net, o); }

void wb_net_limits(wb_net *net, int max_conns, int handshake_ms, int max_unauth)
{
    if (max_conns) net->max_conns = max_conns > 0 ? max_conns : 0;
    if (handshake_ms > 0) net->handshake_ms = handshake_ms;
    if (max_unauth > 0) {
        net->max_pending_addr = max_unauth;
        net->max_pending = 4 * max_unauth;
    }
}

void wb_net_close(wb_net *net)
{
    for (wb_conn *c = net->conns; c; c = c->nnext)
        if (c->state != WB_CS_CLOSED) {
            c->cb = NULL;
            wb_conn_close(c, 0, "");
        }
    if (!uv_is_closing((uv_handle_t *)&net->flusher)) uv_close((uv_handle_t *)&net->flusher, NULL);
    OPENSSL_cleanse(net->token, sizeof net->token);
    wb_tls_free(net); /* (connections still closing keep their context alive) */
    free(net->fails);
    net->fails = NULL;
    net->nfails = 0;
}

int wb_net_default_max_conns(void)
{
    /* room is left for the connections still authenticating (at most
     * 4 * WB_NET_MAX_PENDING_ADDR) and 64 other descriptors */
    struct rlimit rl;
    int n = 1000, other = 64 + 4 * WB_NET_MAX_PENDING_ADDR;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)(n + other))
        n = rl.rlim_cur > (rlim_t)other + 32 ? (int)rl.rlim_cur - other : 32;
    return n;
}

/* --------------------------------------- failed authentications per address */

/* the address of a peer "host:port" without its port ("[v6]:port" too) */
static void addr_only(const char *peer, char *out, size_t cap)
{
    snprintf(out, cap, "%s", peer);
    char *colon = strrchr(out, ':');
    if (colon && (out[0] != '[' || (colon > out && colon[-1] == ']'))) *colon = 0;
}

static wb_netfail *fail_find(wb_net *net, const char *addr, int make)
{
    uint64_t now = uv_now(net->loop);
    for (int i = 0; i < net->nfails; i++)
        if (!strcmp(net->fails[i].addr, addr)) return &net->fails[i];
    if (!make) return NULL;
    if (!net->fails) {
        net->fails = calloc(WB_NET_MAX_FAILREC, sizeof *net->fails);
        if (!net->fails) return NULL;
    }
    if (net->nfails == WB_NET_MAX_FAILREC) {
        /* full: forget records whose window and block are over, else the oldest */
        int k = 0, oldest = 0;
        for (int i = 0; i < net->nfails; i++) {
            wb_netfail *f = &net->fails[i];
            if (f->until <= now && now - f->since > (uint64_t)net->fail_window_ms) continue;
            net->fails[k++] = *f;
        }
        net->nfails = k;
        if (k == WB_NET_MAX_FAILREC) {
            for (int i = 1; i < k; i++)
                if (net->fails[i].since < net->fails[oldest].since) oldest = i;
            net->fails[oldest] = net->fails[--net->nfails];
        }
    }
    wb_netfail *f = &net->fails[net->nfails++];
    memset(f, 0, sizeof *f);
    snprintf(f->addr, sizeof f->addr, "%s", addr);
    f->since = now;
    return f;
}

/* a peer failed to authenticate (a wrong token): count it against its address */
static void fail_count(wb_conn *c)
{
    wb_net *net = c->net;
    if (net->fail_max <= 0 || net->fail_window_ms <= 0) return;
    const char *addr = c->addr;
    wb_netfail *f = fail_find(net, addr, 1);
    if (!f) return;
    uint64_t now = uv_now(net->loop);
    if (f->until > now) return; /* already refused */
    if (now - f->since > (uint64_t)net->fail_window_ms) {
        f->since = now;
        f->count = 0;
    }
    if (++f->count >= net->fail_max) {
        f->until = now + (uint64_t)net->fail_window_ms;
        f->refused = 0;
        wb_log(WB_LOG_WARN, "refusing connections from %s for %.0f s: %d failed handshakes within %.0f s", addr,
               net->fail_window_ms / 1000.0, f->count, net->fail_window_ms / 1000.0);
    }
}

/* an accepted connection refused at once: the reason as a REJECT, then closed */
static const wb_conn_cbs refused_cbs = {NULL, NULL, NULL, NULL};
static void refuse(wb_conn *c, int code, const char *msg)
{
    c->cb = &refused_cbs;
    wb_wr w = wb_conn_wr(c);
    wb_enc_reject(&w, code, msg);
    wb_conn_close(c, code, msg);
}

/* should the server refuse this new connection? (message set) Only an
 * address blocked for failed authentications is refused at once; a full
 * server refuses when the handshake is done (slot_full), so that connections
 * which never authenticate cannot keep out those that do */
static int admit(wb_conn *c)
{
    wb_net *net = c->net;
    uint64_t now = uv_now(net->loop);
    wb_netfail *f = net->nfails ? fail_find(net, c->addr, 0) : NULL;
    if (f && f->until > now) {
        f->refused++;
        return wb_seterr(WB_ELIMIT, "too many failed handshakes from %s (%d within %.0f s); refused for another %llu s",
                         c->addr, f->count, net->fail_window_ms / 1000.0,
                         (unsigned long long)((f->until - now + 999) / 1000));
    }
    return 0;
}

/* room for one more unauthenticated connection from c's address: past the
 * limits (per address, then overall) the oldest unauthenticated connection
 * is closed. An idle connection costs its owner nothing and holds a slot
 * only until a newer one needs it, so idle connections cannot lock out a
 * peer that authenticates (its handshake takes milliseconds). */
static void make_room(wb_conn *c)
{
    wb_net *net = c->net;
    for (int pass = 0; pass < 2; pass++) {
        int limit = pass == 0 ? net->max_pending_addr : net->max_pending;
        if (limit <= 0) continue;
        for (;;) {
            int n = 0;
            wb_conn *oldest = NULL;
            for (wb_conn *x = net->conns; x; x = x->nnext) {
                if (!x->pending || x == c || (pass == 0 && strcmp(x->addr, c->addr))) continue;
                n++;
                if (!oldest || x->opened < oldest->opened) oldest = x;
            }
            if (n < limit || !oldest) break;
            char why[200];
            snprintf(why, sizeof why, "closed while still authenticating, to make room for a newer connection");
            wb_conn_close(oldest, WB_ELIMIT, why);
            net->evicted++;
        }
    }
    uint64_t now = uv_now(net->loop);
    if (net->evicted && (!net->evict_logged || now - net->evict_logged >= 10000)) {
        wb_log(WB_LOG_WARN,
               "closed %u connection%s that had not authenticated (the last for one from %s): at most %d may "
               "authenticate at once from one address, %d in all",
               net->evicted, net->evicted == 1 ? "" : "s", c->addr, net->max_pending_addr, net->max_pending);
        net->evict_logged = now;
        net->evicted = 0;
    }
}

/* an authenticated peer past max_conns: refused (message set) */
static int slot_full(wb_conn *c)
{
    wb_net *net = c->net;
    if (net->max_conns <= 0 || net->nready < net->max_conns) return 0;
    uint64_t now = uv_now(net->loop);
    net->full_refused++;
    if (!net->full_logged || now - net->full_logged >= 10000) {
        wb_log(WB_LOG_WARN, "refused %u connection%s (the last from %s): %d connections are open, the limit",
               net->full_refused, net->full_refused == 1 ? "" : "s", c->peer, net->max_conns);
        net->full_logged = now;
        net->full_refused = 0;
    }
    return wb_seterr(WB_ELIMIT, "too many connections to this %s (limit %d)", net->who, net->max_conns);
}

/* ------------------------------------------------------------ addresses */

void wb_addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        port = ntohs(s->sin_port);
        snprintf(buf, cap, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        port = ntohs(s->sin6_port);
        snprintf(buf, cap, "[%s]:%d", ip, port);
    } else {
        snprintf(buf, cap, "?");
    }
}

int wb_resolve_hp(const char *host, int port, struct sockaddr_storage *out)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int e = getaddrinfo(host, ps, &hints, &res);
    if (e || !res)
        return wb_seterr(WB_ENET, "cannot resolve '%s': %s", host, e ? gai_strerror(e) : "no address");
    /* prefer IPv4 (what the head binds by default) */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memset(out, 0, sizeof *out);
    memcpy(out, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int wb_resolve(const char *hostport, struct sockaddr_storage *out, char *host, size_t hostcap, int *port)
{
    if (!hostport || !*hostport) return wb_seterr(WB_EINVAL, "empty address (HOST:PORT expected)");
    char buf[300];
    snprintf(buf, sizeof buf, "%s", hostport);
    char *h = buf, *colon;
    if (buf[0] == '[') { /* [v6]:port */
        char *rb = strchr(buf, ']');
        if (!rb || rb[1] != ':')
            return wb_seterr(WB_EINVAL, "bad address '%s' (HOST:PORT expected)", hostport);
        *rb = 0;
        h = buf + 1;
        colon = rb + 1;
    } else {
        colon = strrchr(buf, ':');
        if (!colon) return wb_seterr(WB_EINVAL, "bad address '%s' (HOST:PORT expected)", hostport);
        *colon = 0;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535)
        return wb_seterr(WB_EINVAL, "bad address '%s': port must be 1..65535", hostport);
    if (!*h) return wb_seterr(WB_EINVAL, "bad address '%s': no host", hostport);
    if (host) snprintf(host, hostcap, "%s", h);
    if (port) *port = (int)p;
    return wb_resolve_hp(h, (int)p, out);
}

/* ------------------------------------------------------------- writing */

typedef struct wreq {
    uv_write_t req;
    wb_conn *c;
    unsigned char *buf; /* owned */
    size_t cap;         /* its size, when it is a ciphertext buffer */
    size_t tls_len;     /* ciphertext bytes (TLS), for the window */
    wb_raw_done_fn done;
    void *ctx;
} wreq;

static void cspare_free(wb_conn *c)
{
    while (c->ncspare) free(c->cspare[--c->ncspare]);
}

static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    wb_conn *c = w->c;
    /* a ciphertext buffer of a chunk goes back for the next chunk while raw
     * bodies wait (the queue emptied, they are freed: see tls_pump) */
    if (w->cap >= TX_CHUNK && c->tq && c->state != WB_CS_CLOSED && c->ncspare < (int)(sizeof c->cspare / sizeof *c->cspare)) {
        c->cspare[c->ncspare] = w->buf;
        c->cspare_cap[c->ncspare++] = w->cap;
    } else {
        free(w->buf);
    }
    if (w->done) w->done(w->ctx, status);
    c->tx_inflight -= w->tls_len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != WB_CS_CLOSED) {
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(status));
        wb_conn_close(c, WB_ENET, why);
        return;
    }
    if (c->tq && c->state != WB_CS_CLOSED) tls_pump(c);
}

/* a buffer written out at once is kept for the next write when it is small
 * (no allocation per message); a larger one only while a body is being sent */
#define KEEP_BUF ((size_t)64 << 10)

/* what the socket takes now is written at once (uv_try_write keeps the
 * order: it writes nothing while libuv's queue holds bytes); the rest goes
 * to uv_write. Returns the bytes written, or 0 on an error (uv_write then
 * meets it and reports it as before) */
static size_t try_write(wb_conn *c, const unsigned char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)(n > ((size_t)1 << 30) ? (size_t)1 << 30 : n));
    int k = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    return k > 0 ? (size_t)k : 0;
}

/* hand the ciphertext OpenSSL wrote to the socket (what it takes now) and
 * to libuv (the rest) */
static void tls_emit(wb_conn *c)
{
    if (!c->cout.len || c->state == WB_CS_CLOSED) return;
    size_t done = try_write(c, c->cout.p, c->cout.len);
    c->bytes_out += c->cout.len;
    if (done == c->cout.len) {
        c->cout.len = 0;
        if (c->cout.cap > KEEP_BUF && !c->tq) wb_buf_free(&c->cout);
        return;
    }
    wreq *w = calloc(1, sizeof *w);
    if (!w) {
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return;
    }
    w->c = c;
    w->buf = c->cout.p;
    w->cap = c->cout.cap;
    w->tls_len = c->cout.len - done;
    uv_buf_t b = uv_buf_init((char *)c->cout.p + done, (unsigned)(c->cout.len - done));
    c->tx_inflight += w->tls_len;
    c->cout = (wb_buf){0};
    if (c->ncspare) { /* the next chunk goes into a buffer already written out */
        c->ncspare--;
        c->cout.p = c->cspare[c->ncspare];
        c->cout.cap = c->cspare_cap[c->ncspare];
    }
    int e = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (e) {
        c->tx_inflight -= w->tls_len;
        free(w->buf);
        free(w);
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(e));
        wb_conn_close(c, WB_ENET, why);
    }
}

/* encrypt n plaintext bytes into cout (OpenSSL cuts them into records) */
static int tls_write(wb_conn *c, const void *p, size_t n)
{
    while (n) {
        int k = n > ((size_t)1 << 30) ? 1 << 30 : (int)n;
        if (wb_buf_reserve(&c->cout, (size_t)k + (size_t)k / 256 + 1024)) {
            wb_conn_close(c, WB_ENOMEM, "out of memory");
            return -1;
        }
        int r = SSL_write(c->ssl, p, k);
        if (r <= 0) {
            char why[400];
            int auth;
            wb_tls_failure(c, SSL_get_error(c->ssl, r), why, sizeof why, &auth);
            wb_conn_close(c, WB_ENET, why);
            return -1;
        }
        p = (const unsigned char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

static void tseg_free(wb_tseg *s, int status)
{
    if (s->done) s->done(s->ctx, status);
    free(s->own);
    free(s->parts);
    free(s);
}

/* encrypt queued plaintext while the ciphertext in flight is under the window */
static void tls_pump(wb_conn *c)
{
    while (c->tq && c->state != WB_CS_CLOSED && c->tx_inflight + c->cout.len < TX_WINDOW) {
        wb_tseg *s = c->tq;
        if (s->part == s->nparts) {
            c->tq = s->next;
            if (!c->tq) c->tq_tail = NULL;
            tseg_free(s, 0); /* all of it encrypted: the caller's bytes are free */
            continue;
        }
        uv_buf_t *b = &s->parts[s->part];
        size_t n = b->len - s->off;
        if (n > TX_CHUNK) n = TX_CHUNK;
        if (n && tls_write(c, b->base + s->off, n)) return;
        s->off += n;
        if (s->off == b->len) {
            s->part++;
            s->off = 0;
        }
        if (c->cout.len >= TX_CHUNK) tls_emit(c);
    }
    tls_emit(c);
    if (!c->tq) {
        if (!c->cout.len && c->cout.cap > KEEP_BUF) wb_buf_free(&c->cout);
        cspare_free(c);
    }
}

/* queue plaintext for TLS: a frame (copied, or taken when own) and raw parts */
static int tls_queue(wb_conn *c, unsigned char *own, size_t ownlen, const uv_buf_t *bufs, int nbufs,
                     wb_raw_done_fn done, void *ctx)
{
    wb_tseg *s = calloc(1, sizeof *s);
    uv_buf_t *parts = s ? malloc(sizeof *parts * (size_t)(nbufs + 1)) : NULL;
    if (!parts) {
        free(s);
        free(own);
        if (done) done(ctx, UV_ENOMEM);
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return WB_ENOMEM;
    }
    s->own = own;
    s->parts = parts;
    parts[s->nparts++] = uv_buf_init((char *)own, (unsigned)ownlen);
    for (int i = 0; i < nbufs; i++) parts[s->nparts++] = bufs[i];
    s->done = done;
    s->ctx = ctx;
    if (c->tq_tail) c->tq_tail->next = s;
    else c->tq = s;
    c->tq_tail = s;
    return 0;
}

static void flush_conn(wb_conn *c)
{
    if (c->state == WB_CS_CLOSED || c->out.len == 0) return;
    if (c->ssl) {
        if (!c->tls_up) return; /* it goes once TLS is up */
        if (!c->tq && c->out.len <= TX_CHUNK) { /* the common case: small frames, nothing waiting */
            int e = tls_write(c, c->out.p, c->out.len);
            c->out.len = 0;
            if (!e) tls_emit(c);
            return;
        }
        unsigned char *p = c->out.p;
        size_t n = c->out.len;
        c->out = (wb_buf){0};
        if (tls_queue(c, p, n, NULL, 0, NULL, NULL) == 0) tls_pump(c);
        return;
    }
    size_t done = try_write(c, c->out.p, c->out.len);
    c->bytes_out += c->out.len;
    if (done == c->out.len) {
        c->out.len = 0;
        if (c->out.cap > KEEP_BUF) wb_buf_free(&c->out);
        return;
    }
    wreq *w = calloc(1, sizeof *w);
    if (!w) {
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return;
    }
    w->c = c;
    w->buf = c->out.p;
    uv_buf_t b = uv_buf_init((char *)c->out.p + done, (unsigned)(c->out.len - done));
    c->out.p = NULL;
    c->out.len = c->out.cap = 0;
    int e = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (e) {
        free(w->buf);
        free(w);
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(e));
        wb_conn_close(c, WB_ENET, why);
    }
}

wb_wr wb_conn_wr(wb_conn *c)
{
    wb_wr w = {&c->out, 0};
    return w;
}

void wb_conn_mark(wb_conn *c)
{
    if (c->dirty || c->state == WB_CS_CLOSED) return;
    c->dirty = 1;
    c->next_dirty = c->net->dirty;
    c->net->dirty = c;
    if (!c->net->flusher_on) {
        uv_idle_start(&c->net->flusher, on_flush);
        c->net->flusher_on = 1;
    }
}

int wb_conn_send_raw(wb_conn *c, const wb_buf *frame, const uv_buf_t *bufs, int nbufs, wb_raw_done_fn done,
                     void *ctx)
{
    if (c->state == WB_CS_CLOSED) {
        if (done) done(ctx, UV_ECANCELED);
        return WB_ENET;
    }
    flush_conn(c); /* what was queued goes first */
    if (c->state == WB_CS_CLOSED) {
        if (done) done(ctx, UV_ECANCELED);
        return WB_ENET;
    }
    if (c->ssl) {
        /* encrypted a window ahead of the socket; done once all is encrypted */
        unsigned char *fb = malloc(frame->len ? frame->len : 1);
        if (!fb) {
            if (done) done(ctx, UV_ENOMEM);
            wb_conn_close(c, WB_ENOMEM, "out of memory");
            return WB_ENOMEM;
        }
        memcpy(fb, frame->p, frame->len);
        if (tls_queue(c, fb, frame->len, bufs, nbufs, done, ctx)) return WB_ENOMEM;
        if (c->tls_up) tls_pump(c);
        return c->state == WB_CS_CLOSED ? WB_ENET : 0;
    }
    wreq *w = calloc(1, sizeof *w);
    uv_buf_t *all = malloc(sizeof *all * (size_t)(nbufs + 1));
    unsigned char *fb = malloc(frame->len);
    if (!w || !all || !fb) {
        free(w);
        free(all);
        free(fb);
        if (done) done(ctx, UV_ENOMEM);
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return WB_ENOMEM;
    }
    memcpy(fb, frame->p, frame->len);
    w->c = c;
    w->buf = fb;
    w->done = done;
    w->ctx = ctx;
    all[0] = uv_buf_init((char *)fb, (unsigned)frame->len);
    size_t total = frame->len;
    for (int i = 0; i < nbufs; i++) {
        all[i + 1] = bufs[i];
        total += bufs[i].len;
    }
    c->bytes_out += total;
    int e = uv_write(&w->req, (uv_stream_t *)&c->tcp, all, (unsigned)nbufs + 1, on_written);
    free(all);
    if (e) {
        free(fb);
        free(w);
        if (done) done(ctx, e);
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(e));
        wb_conn_close(c, WB_ENET, why);
        return WB_ENET;
    }
    return 0;
}

size_t wb_conn_backlog(const wb_conn *c)
{
    size_t n = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) + c->out.len + c->cout.len;
    for (const wb_tseg *s = c->tq; s; s = s->next)
        for (int i = s->part; i < s->nparts; i++) n += s->parts[i].len - (i == s->part ? s->off : 0);
    return n;
}

/* ------------------------------------------------------------- closing */

static void handle_closed(uv_handle_t *h)
{
    wb_conn *c = h->data;
    if (--c->handles > 0) return;
    if (c->nprev) c->nprev->nnext = c->nnext;
    else c->net->conns = c->nnext;
    if (c->nnext) c->nnext->nprev = c->nprev;
    free(c->rbuf);
    wb_buf_free(&c->out);
    wb_buf_free(&c->cout);
    cspare_free(c);
    free(c->cin);
    wb_tls_conn_free(c);
    free(c);
}

static void conn_close_cb(uv_handle_t *h) { handle_closed(h); }

void wb_conn_close(wb_conn *c, int code, const char *why)
{
    if (!c || c->state == WB_CS_CLOSED) return;
    /* what is queued (e.g. a REJECT) goes out if the socket takes it now */
    if (c->out.len && (c->state == WB_CS_READY || c->server)) {
        if (!c->ssl) {
            uv_buf_t b = uv_buf_init((char *)c->out.p, (unsigned)c->out.len);
            uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        } else if (c->tls_up && !c->tq && !uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)) {
            c->state = WB_CS_CLOSED; /* (no recursion if the write fails) */
            SSL_write(c->ssl, c->out.p, (int)c->out.len);
        }
        c->out.len = 0;
    }
    if (c->ssl && !c->tq && !uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)) {
        if (c->tls_up) SSL_shutdown(c->ssl); /* close_notify */
        if (c->cout.len) { /* that, or a failed handshake's alert */
            uv_buf_t b = uv_buf_init((char *)c->cout.p, (unsigned)c->cout.len);
            uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        }
        ERR_clear_error();
    }
    c->state = WB_CS_CLOSED;
    if (c->pending) c->net->npending--;
    if (c->ready_slot) c->net->nready--;
    c->pending = c->ready_slot = 0;
    /* take it off the flush list */
    if (c->dirty) {
        wb_conn **pp = &c->net->dirty;
        while (*pp && *pp != c) pp = &(*pp)->next_dirty;
        if (*pp) *pp = c->next_dirty;
        c->dirty = 0;
    }
    if (c->cb && c->cb->on_close) c->cb->on_close(c, code, why ? why : "");
    /* raw bodies not yet encrypted: their owners get them back */
    while (c->tq) {
        wb_tseg *s = c->tq;
        c->tq = s->next;
        tseg_free(s, UV_ECANCELED);
    }
    c->tq_tail = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_close_cb);
    uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
}

/* the server drops a peer: log it with its address, tell it why if it got
 * that far. Only a failed authentication (WB_EAUTH: a wrong token, or a
 * certificate not trusted) counts against the address: not a timeout, a
 * connection closed early, or bytes that are not the protocol, which any
 * process on the same machine as the real peers could send to lock them out */
static void drop_peer(wb_conn *c, int code, const char *fmt, ...) WB_PRINTF(3, 4);
static void drop_peer(wb_conn *c, int code, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->server) wb_log(WB_LOG_WARN, "dropped peer %s: %s", c->peer, why);
    if (c->server && c->state != WB_CS_READY && c->state != WB_CS_CLOSED && code == WB_EAUTH) fail_count(c);
    wb_conn_close(c, code, why);
}

/* ----------------------------------------------------------- handshake */

static void reject(wb_conn *c, int code, const char *msg)
{
    wb_wr w = wb_conn_wr(c);
    wb_enc_reject(&w, code, msg);
}

static int server_handshake(wb_conn *c, int type, const unsigned char *p, size_t n)
{
    if (type != WB_M_AUTH) {
        drop_peer(c, WB_EPROTO, "sent %s before authenticating", wb_msg_name(type));
        return -1;
    }
    wb_m_auth a;
    if (wb_dec_auth(p, n, &a)) {
        drop_peer(c, WB_EPROTO, "%s", wb_errmsg());
        return -1;
    }
    if (a.version != WB_PROTO_VERSION) {
        char msg[200];
        snprintf(msg, sizeof msg, "protocol version %u is not supported (this %s speaks version %d)",
                 (unsigned)a.version, c->net->who, WB_PROTO_VERSION);
        reject(c, WB_EPROTO, msg);
        drop_peer(c, WB_EPROTO, "%s", msg);
        return -1;
    }
    if (!(c->accept_roles & (1u << a.role))) {
        char msg[200];
        snprintf(msg, sizeof msg, "a %s does not connect to this port of a %s", wb_role_name(a.role),
                 wb_role_name(c->my_role));
        reject(c, WB_EPROTO, msg);
        drop_peer(c, WB_EPROTO, "%s", msg);
        return -1;
    }
    uint8_t want[WB_PROTO_MAC];
    wb_auth_mac(c->net->token, "wb-client", c->nonce_l, a.nonce, a.role, want);
    if (!wb_auth_equal(want, a.mac)) {
        reject(c, WB_EAUTH, "authentication failed: wrong cluster token");
        drop_peer(c, WB_EAUTH, "authentication failed (wrong cluster token)");
        return -1;
    }
    memcpy(c->nonce_r, a.nonce, WB_PROTO_NONCE);
    c->peer_role = a.role;
    /* authenticated: it needs one of the max_conns slots */
    if (slot_full(c)) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        reject(c, WB_ELIMIT, msg);
        wb_conn_close(c, WB_ELIMIT, msg);
        return -1;
    }
    c->pending = 0;
    c->net->npending--;
    c->ready_slot = 1;
    c->net->nready++;
    uint8_t mac[WB_PROTO_MAC];
    wb_auth_mac(c->net->token, "wb-server", a.nonce, c->nonce_l, a.role, mac);
    wb_wr w = wb_conn_wr(c);
    wb_enc_auth_ok(&w, mac);
    wb_conn_mark(c);
    c->state = WB_CS_READY;
    uv_timer_stop(&c->timer);
    if (c->cb->on_ready) c->cb->on_ready(c);
    return 0;
}

static int client_handshake(wb_conn *c, int type, const unsigned char *p, size_t n)
{
    char why[WB_PROTO_MAX_TEXT + 400];
    if (type == WB_M_REJECT) {
        wb_m_reject r;
        if (wb_dec_reject(p, n, &r) == 0) {
            char msg[WB_PROTO_MAX_TEXT + 1];
            wb_pstr_copy(r.msg, msg, sizeof msg);
            snprintf(why, sizeof why, "the %s at %s refused the connection: %s", wb_role_name(c->want_role), c->peer,
                     msg);
            wb_conn_close(c, r.code, why);
        } else {
            snprintf(why, sizeof why, "the peer at %s refused the connection", c->peer);
            wb_conn_close(c, WB_EPROTO, why);
        }
        return -1;
    }
    if (c->state == WB_CS_HELLO) {
        wb_m_hello h;
        if (type != WB_M_HELLO || wb_dec_hello(p, n, &h)) {
            snprintf(why, sizeof why, "%s is not a wb cluster port (%s)", c->peer,
                     type != WB_M_HELLO ? "no HELLO" : wb_errmsg());
            wb_conn_close(c, WB_EPROTO, why);
            return -1;
        }
        if (h.version != WB_PROTO_VERSION) {
            snprintf(why, sizeof why, "the %s at %s speaks protocol version %u, this wb speaks version %d",
                     wb_role_name(h.role), c->peer, (unsigned)h.version, WB_PROTO_VERSION);
            wb_conn_close(c, WB_EPROTO, why);
            return -1;
        }
        if (h.role != c->want_role) {
            snprintf(why, sizeof why, "%s is a wb %s port, not a %s", c->peer, wb_role_name(h.role),
                     wb_role_name(c->want_role));
            wb_conn_close(c, WB_EPROTO, why);
            return -1;
        }
        memcpy(c->nonce_r, h.nonce, WB_PROTO_NONCE);
        c->peer_role = h.role;
        if (wb_auth_nonce(c->nonce_l)) {
            wb_conn_close(c, WB_EINTERNAL, wb_errmsg());
            return -1;
        }
        uint8_t mac[WB_PROTO_MAC];
        wb_auth_mac(c->net->token, "wb-client", c->nonce_r, c->nonce_l, (uint8_t)c->my_role, mac);
        wb_wr w = wb_conn_wr(c);
        wb_enc_auth(&w, WB_PROTO_VERSION, (uint8_t)c->my_role, c->nonce_l, mac);
        wb_conn_mark(c);
        c->state = WB_CS_AUTH;
        return 0;
    }
    uint8_t mac[WB_PROTO_MAC], want[WB_PROTO_MAC];
    if (type != WB_M_AUTH_OK || wb_dec_auth_ok(p, n, mac)) {
        snprintf(why, sizeof why, "the handshake with %s failed (%s)", c->peer,
                 type != WB_M_AUTH_OK ? "unexpected message" : wb_errmsg());
        wb_conn_close(c, WB_EPROTO, why);
        return -1;
    }
    wb_auth_mac(c->net->token, "wb-server", c->nonce_l, c->nonce_r, (uint8_t)c->my_role, want);
    if (!wb_auth_equal(want, mac)) {
        snprintf(why, sizeof why, "the %s at %s could not prove it knows the cluster token", wb_role_name(c->want_role),
                 c->peer);
        wb_conn_close(c, WB_EAUTH, why);
        return -1;
    }
    c->state = WB_CS_READY;
    uv_timer_stop(&c->timer);
    if (c->cb->on_ready) c->cb->on_ready(c);
    return 0;
}

/* -------------------------------------------------------------- reading */

/* room for want more bytes at the end of rbuf (0, or -1 out of memory) */
static int rbuf_room(wb_conn *c, size_t want)
{
    if (c->rcap - c->rlen >= want) return 0;
    size_t cap = c->rcap ? c->rcap : READ_CHUNK;
    while (cap - c->rlen < want) cap *= 2;
    unsigned char *p = realloc(c->rbuf, cap);
    if (!p) return -1;
    c->rbuf = p;
    c->rcap = cap;
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    wb_conn *c = h->data;
    if (c->ssl) { /* ciphertext: after what OpenSSL has not taken yet */
        if (c->cin_off && c->cin_off == c->cin_len) c->cin_off = c->cin_len = 0;
        if (c->cin_cap - c->cin_len < READ_CHUNK && c->cin_off) {
            memmove(c->cin, c->cin + c->cin_off, c->cin_len - c->cin_off);
            c->cin_len -= c->cin_off;
            c->cin_off = 0;
        }
        if (c->cin_cap - c->cin_len < READ_CHUNK) {
            size_t cap = c->cin_cap ? c->cin_cap : READ_CHUNK;
            while (cap - c->cin_len < READ_CHUNK) cap *= 2;
            unsigned char *p = realloc(c->cin, cap);
            if (!p) {
                *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
                return;
            }
            c->cin = p;
            c->cin_cap = cap;
        }
        *buf = uv_buf_init((char *)c->cin + c->cin_len, (unsigned)(c->cin_cap - c->cin_len));
        return;
    }
    if (c->raw_on && !c->raw_discard) {
        size_t left = c->raw_len - c->raw_off;
        if (left > ((size_t)1 << 30)) left = (size_t)1 << 30;
        *buf = uv_buf_init((char *)c->raw + c->raw_off, (unsigned)left);
        return;
    }
    if (rbuf_room(c, READ_CHUNK)) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
        return;
    }
    if (c->raw_on) { /* discarding: read into the free space, then forget it */
        size_t left = c->raw_len - c->raw_off;
        size_t room = c->rcap - c->rlen;
        *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(left < room ? left : room));
        return;
    }
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void raw_finish(wb_conn *c)
{
    c->raw_on = 0;
    void *ctx = c->raw_ctx;
    c->raw = NULL;
    c->raw_ctx = NULL;
    if (c->cb->on_raw) c->cb->on_raw(c, ctx);
}

/* the first bytes of a TLS record: a content type (20..23), then version 3.x */
static int looks_tls(const unsigned char *b) { return b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4; }

static void process(wb_conn *c)
{
    size_t pos = 0;
    /* a server without TLS: a peer that starts TLS gets told so */
    if (c->server && !c->ssl && c->state != WB_CS_READY && c->rlen >= 3 && c->bytes_in == c->rlen &&
        looks_tls(c->rbuf)) {
        drop_peer(c, WB_EPROTO, "it speaks TLS, and this %s runs with --insecure-no-tls (both ends use TLS, or both "
                                "run with --insecure-no-tls)",
                  c->net->who);
        return;
    }
    while (c->state != WB_CS_CLOSED) {
        if (c->raw_on) {
            size_t avail = c->rlen - pos, need = c->raw_len - c->raw_off;
            size_t take = avail < need ? avail : need;
            if (take && !c->raw_discard) memcpy(c->raw + c->raw_off, c->rbuf + pos, take);
            pos += take;
            c->raw_off += take;
            if (c->raw_off == c->raw_len) {
                raw_finish(c);
                continue;
            }
            break;
        }
        if (c->rlen - pos < WB_PROTO_HDR) break;
        wb_frame_hdr h;
        uint32_t max = c->state == WB_CS_READY ? WB_PROTO_MAX_FRAME : WB_PROTO_MAX_PREAUTH;
        if (wb_frame_decode(c->rbuf + pos, max, &h)) {
            char why[400];
            snprintf(why, sizeof why, "bad frame: %s", wb_errmsg());
            if (c->server)
                drop_peer(c, WB_EPROTO, "%s", why);
            else {
                char w2[600];
                snprintf(w2, sizeof w2, "%s sent a bad frame: %s", c->peer, wb_errmsg());
                wb_conn_close(c, WB_EPROTO, w2);
            }
            return;
        }
        if (c->rlen - pos < WB_PROTO_HDR + (size_t)h.len) break;
        const unsigned char *payload = c->rbuf + pos + WB_PROTO_HDR;
        pos += WB_PROTO_HDR + (size_t)h.len;
        if (c->state == WB_CS_READY) {
            wb_clearerr();
            if (c->cb->on_frame(c, h.type, payload, h.len)) {
                if (c->state != WB_CS_CLOSED) {
                    char why[600];
                    snprintf(why, sizeof why, "%s", wb_errmsg()[0] ? wb_errmsg() : "bad message");
                    if (c->server)
                        drop_peer(c, WB_EPROTO, "%s", why);
                    else
                        wb_conn_close(c, WB_EPROTO, why);
                }
                return;
            }
        } else if (c->server) {
            if (server_handshake(c, h.type, payload, h.len)) return;
        } else {
            if (client_handshake(c, h.type, payload, h.len)) return;
        }
    }
    if (c->state == WB_CS_CLOSED) return;
    if (pos) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }
    /* give back a large buffer once it is empty */
    if (c->rlen == 0 && c->rcap > 4 * READ_CHUNK) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
    }
}

/* read buffers grown by a burst go back once they are empty (called from
 * the owner's periodic timer), so a long-running server's memory returns
 * to where it was after the burst */
void wb_net_trim(wb_net *net)
{
    for (wb_conn *c = net->conns; c; c = c->nnext) {
        if (c->state == WB_CS_CLOSED) continue;
        if (!c->raw_on && c->rlen == 0 && c->rcap > READ_CHUNK) {
            free(c->rbuf);
            c->rbuf = NULL;
            c->rcap = 0;
        }
        if (c->cin_off == c->cin_len && c->cin_cap > READ_CHUNK) {
            free(c->cin);
            c->cin = NULL;
            c->cin_cap = c->cin_len = c->cin_off = 0;
        }
    }
}

/* the peer closed its side (EOF, or TLS close_notify) */
static void on_eof(wb_conn *c)
{
    char why[200];
    if (c->raw_on || c->rlen || c->cin_off < c->cin_len)
        snprintf(why, sizeof why, "%s closed the connection in the middle of a message", c->peer);
    else if (c->state != WB_CS_READY)
        snprintf(why, sizeof why, "%s closed the connection during the handshake", c->peer);
    else
        why[0] = 0; /* an orderly close */
    if (c->server && why[0] && c->state != WB_CS_READY)
        drop_peer(c, WB_ENET, "%s", why);
    else
        wb_conn_close(c, why[0] ? WB_ENET : 0, why);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    wb_conn *c = s->data;
    if (c->state == WB_CS_CLOSED) return;
    if (nread < 0) {
        if (nread == UV_EOF) {
            on_eof(c);
            return;
        }
        char why[200];
        snprintf(why, sizeof why, "connection to %s: %s", c->peer, uv_strerror((int)nread));
        if (c->server && c->state != WB_CS_READY)
            drop_peer(c, WB_ENET, "%s", why);
        else
            wb_conn_close(c, WB_ENET, why);
        return;
    }
    if (nread == 0) return;
    c->bytes_in += (uint64_t)nread;
    c->last_in = uv_now(c->net->loop);
    if (c->ssl) {
        c->cin_len += (size_t)nread;
        tls_input(c);
        return;
    }
    if (c->raw_on && !c->raw_discard) {
        c->raw_off += (size_t)nread;
        if (c->raw_off == c->raw_len) {
            raw_finish(c);
            process(c); /* frames may already be buffered: none, but keep the loop simple */
        }
        return;
    }
    if (c->raw_on) { /* discarded bytes */
        c->raw_off += (size_t)nread;
        if (c->raw_off == c->raw_len) raw_finish(c);
        return;
    }
    c->rlen += (size_t)nread;
    process(c);
}

void wb_conn_recv_raw(wb_conn *c, void *dst, size_t len, void *ctx)
{
    c->raw = dst;
    c->raw_len = len;
    c->raw_off = 0;
    c->raw_ctx = ctx;
    c->raw_discard = dst == NULL;
    c->raw_on = 1;
    if (len == 0) {
        /* nothing follows: finish at once (from process(), after this frame) */
    }
}

/* ----------------------------------------------------------------- TLS in */

static void send_hello(wb_conn *c)
{
    if (wb_auth_nonce(c->nonce_l)) {
        wb_conn_close(c, WB_EINTERNAL, wb_errmsg());
        return;
    }
    wb_wr w = wb_conn_wr(c);
    wb_enc_hello(&w, (uint8_t)c->my_role, c->nonce_l);
    wb_conn_mark(c);
}

/* a TLS failure: the server drops the peer (a wrong token counts against
 * its address), the client closes with the reason */
static void tls_failed(wb_conn *c, int r)
{
    char why[600];
    int auth;
    int e = SSL_get_error(c->ssl, r);
    if ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) && !ERR_peek_error()) {
        on_eof(c);
        return;
    }
    wb_tls_failure(c, e, why, sizeof why, &auth);
    tls_emit(c); /* the alert, if OpenSSL wrote one */
    if (c->server) drop_peer(c, auth ? WB_EAUTH : WB_EPROTO, "%s", why);
    else wb_conn_close(c, auth ? WB_EAUTH : WB_EPROTO, why);
}

/* a client's first bytes from a server that does not speak TLS: its REJECT
 * in clear (refused before TLS: too many failed handshakes from here), or
 * the HELLO of a server run with --insecure-no-tls. 1: handled */
static int client_sniff(wb_conn *c)
{
    const unsigned char *b = c->cin + c->cin_off;
    if (looks_tls(b)) return 0;
    char why[400];
    if (b[2] == 0 && b[3] == 0 && b[5] == 0 && b[4] == WB_M_REJECT) {
        /* read it as a frame: client_handshake reports it */
        size_t n = c->cin_len - c->cin_off;
        if (rbuf_room(c, n)) {
            wb_conn_close(c, WB_ENOMEM, "out of memory");
            return 1;
        }
        memcpy(c->rbuf + c->rlen, b, n);
        c->rlen += n;
        c->cin_off = c->cin_len;
        wb_tls_conn_free(c);
        process(c);
        return 1;
    }
    size_t have = c->cin_len - c->cin_off;
    if (b[2] == 0 && b[3] == 0 && b[5] == 0 && b[4] == WB_M_HELLO && have >= 14 && !memcmp(b + 8, "WBCL", 4) &&
        (b[12] | b[13] << 8) != WB_PROTO_VERSION) /* an older wb: its protocol had no TLS */
        snprintf(why, sizeof why, "the %s at %s speaks protocol version %d, this wb speaks version %d (with TLS)",
                 wb_role_name(c->want_role), c->peer, b[12] | b[13] << 8, WB_PROTO_VERSION);
    else if (b[2] == 0 && b[3] == 0 && b[5] == 0 && b[4] == WB_M_HELLO)
        snprintf(why, sizeof why,
                 "the %s at %s does not use TLS (it runs with --insecure-no-tls): both ends use TLS, or both run "
                 "with --insecure-no-tls (insecure_no_tls = true)",
                 wb_role_name(c->want_role), c->peer);
    else
        snprintf(why, sizeof why, "%s is not a wb cluster port (it does not answer in TLS)", c->peer);
    wb_conn_close(c, WB_EPROTO, why);
    return 1;
}

/* all the ciphertext read has gone through OpenSSL and it holds nothing
 * more to give: the next SSL_read would only say it wants to read */
static int drained(wb_conn *c) { return c->cin_off == c->cin_len && !SSL_has_pending(c->ssl); }

/* feed what was read to OpenSSL: the handshake, then plaintext into rbuf
 * (frames) or straight into a raw body's buffer */
static void tls_input(wb_conn *c)
{
    if (!c->tls_up) {
        if (!c->sniffed) {
            if (c->cin_len - c->cin_off < 6) return;
            c->sniffed = 1;
            if (!c->server && client_sniff(c)) return;
        }
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                tls_emit(c);
                return;
            }
            tls_failed(c, r);
            return;
        }
        c->tls_up = 1;
        tls_emit(c);
        if (c->server) send_hello(c);
        else c->state = WB_CS_HELLO;
        if (c->state == WB_CS_CLOSED) return;
        flush_conn(c); /* what waited for TLS */
        if (c->tq && c->state != WB_CS_CLOSED) tls_pump(c);
    }
    while (c->state != WB_CS_CLOSED) {
        int r;
        ERR_clear_error();
        if (c->raw_on && !c->raw_discard && c->rlen == 0) {
            size_t left = c->raw_len - c->raw_off;
            if (!left) { /* (an empty body: process() finishes it) */
                process(c);
                continue;
            }
            r = SSL_read(c->ssl, c->raw + c->raw_off, left > (1u << 30) ? 1 << 30 : (int)left);
            if (r > 0) {
                c->raw_off += (size_t)r;
                if (c->raw_off == c->raw_len) raw_finish(c);
                if (drained(c)) break;
                continue;
            }
        } else {
            if (rbuf_room(c, 64 << 10)) {
                wb_conn_close(c, WB_ENOMEM, "out of memory");
                return;
            }
            size_t room = c->rcap - c->rlen;
            r = SSL_read(c->ssl, c->rbuf + c->rlen, room > (1u << 30) ? 1 << 30 : (int)room);
            if (r > 0) {
                c->rlen += (size_t)r;
                process(c);
                if (drained(c)) break;
                continue;
            }
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) break;
        if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify: the peer is done */
            on_eof(c);
            return;
        }
        tls_failed(c, r);
        return;
    }
    if (c->state != WB_CS_CLOSED) tls_emit(c); /* (post-handshake messages) */
}

/* ---------------------------------------------------------- set-up */

static void on_timeout(uv_timer_t *t)
{
    wb_conn *c = t->data;
    char why[200];
    if (c->server) {
        /* a peer that sent nothing to a server with TLS may be a wb without
         * TLS, waiting for the HELLO in clear: tell it, in clear */
        if (c->ssl && !c->bytes_in) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "this %s uses TLS and no TLS handshake came within %.1f s (does the peer run with "
                     "--insecure-no-tls? both ends use TLS, or both run with --insecure-no-tls)",
                     c->net->who, c->net->handshake_ms / 1000.0);
            wb_buf b = {0};
            wb_wr w = {&b, 0};
            wb_enc_reject(&w, WB_EPROTO, msg);
            if (b.len) {
                uv_buf_t ub = uv_buf_init((char *)b.p, (unsigned)b.len);
                uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
            }
            wb_buf_free(&b);
        }
        drop_peer(c, WB_ETIMEDOUT, "no handshake within %.1f s", c->net->handshake_ms / 1000.0);
        return;
    }
    if (c->state == WB_CS_CONNECTING)
        snprintf(why, sizeof why, "cannot connect to %s: timed out after %.1f s", c->peer, c->timeout_ms / 1000.0);
    else /* (the time given, not the time measured: a loaded machine fires the timer late) */
        snprintf(why, sizeof why, "no answer from %s within %.1f s (is it a wb %s?)", c->peer, c->timeout_ms / 1000.0,
                 wb_role_name(c->want_role));
    wb_conn_close(c, WB_ETIMEDOUT, why);
}

static wb_conn *conn_new(wb_net *net, const wb_conn_cbs *cb, void *data)
{
    wb_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->net = net;
    c->cb = cb;
    c->data = data;
    uv_tcp_init(net->loop, &c->tcp);
    uv_timer_init(net->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    c->opened = (double)uv_now(net->loop);
    c->last_in = uv_now(net->loop);
    c->nnext = net->conns;
    if (net->conns) net->conns->nprev = c;
    net->conns = c;
    return c;
}

wb_conn *wb_conn_accept(wb_net *net, uv_stream_t *server, const wb_conn_cbs *cb, void *data, int my_role,
                        unsigned accept_roles)
{
    wb_conn *c = conn_new(net, cb, data);
    if (!c) return NULL;
    c->server = 1;
    c->my_role = my_role;
    c->accept_roles = accept_roles;
    c->state = WB_CS_AUTH;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->state = WB_CS_CLOSED;
        uv_close((uv_handle_t *)&c->timer, conn_close_cb);
        uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
        return NULL;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        wb_addr_str((struct sockaddr *)&ss, c->peer, sizeof c->peer);
    else
        snprintf(c->peer, sizeof c->peer, "?");
    addr_only(c->peer, c->addr, sizeof c->addr);
    if (admit(c)) { /* refused in clear, before TLS: the reason is no secret */
        refuse(c, WB_ELIMIT, wb_errmsg());
        return NULL;
    }
    make_room(c);
    c->pending = 1;
    net->npending++;
    uv_tcp_nodelay(&c->tcp, 1);
    if (net->tls != WB_TLS_OFF) {
        if (wb_tls_conn_new(c)) {
            wb_conn_close(c, WB_ENOMEM, wb_errmsg());
            return NULL;
        }
    } else {
        send_hello(c);
        if (c->state == WB_CS_CLOSED) return NULL;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    uv_timer_start(&c->timer, on_timeout, (uint64_t)net->handshake_ms, 0);
    return c;
}

typedef struct creq {
    uv_connect_t req;
    wb_conn *c;
} creq;

static void on_connected(uv_connect_t *req, int status)
{
    creq *r = (creq *)req;
    wb_conn *c = r->c;
    free(r);
    if (c->state == WB_CS_CLOSED) return;
    if (status < 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot connect to %s: %s", c->peer, uv_strerror(status));
        wb_conn_close(c, status == UV_ETIMEDOUT ? WB_ETIMEDOUT : WB_ENET, why);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = WB_CS_HELLO;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (c->net->tls != WB_TLS_OFF) { /* the client speaks first in TLS */
        if (wb_tls_conn_new(c)) {
            wb_conn_close(c, WB_ENOMEM, wb_errmsg());
            return;
        }
        ERR_clear_error();
        int rc = SSL_do_handshake(c->ssl);
        int e = SSL_get_error(c->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            tls_failed(c, rc);
            return;
        }
        tls_emit(c);
    }
}

wb_conn *wb_conn_connect(wb_net *net, const struct sockaddr *addr, const char *peer_name, const wb_conn_cbs *cb,
                         void *data, int my_role, int want_role, int timeout_ms)
{
    wb_conn *c = conn_new(net, cb, data);
    if (!c) return NULL;
    c->my_role = my_role;
    c->want_role = want_role;
    c->state = WB_CS_CONNECTING;
    if (peer_name)
        snprintf(c->peer, sizeof c->peer, "%s", peer_name);
    else
        wb_addr_str(addr, c->peer, sizeof c->peer);
    creq *r = calloc(1, sizeof *r);
    int e = r ? uv_tcp_connect(&r->req, &c->tcp, addr, on_connected) : UV_ENOMEM;
    if (e) {
        free(r);
        char why[300];
        snprintf(why, sizeof why, "cannot connect to %s: %s", c->peer, uv_strerror(e));
        c->cb = NULL; /* the caller learns it from the return value */
        wb_conn_close(c, WB_ENET, why);
        wb_seterr(WB_ENET, "%s", why);
        return NULL;
    }
    r->c = c;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    uv_timer_start(&c->timer, on_timeout, (uint64_t)c->timeout_ms, 0);
    return c;
}
