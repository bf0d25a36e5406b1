/* cluster/net.c — connections of the cluster over libuv: the framing reader (with a
 * direct path for raw object bodies), the challenge-response handshake on
 * both sides, output batched per loop iteration, and address helpers.
 * Everything here runs on the loop thread that owns the connection. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "cluster_internal.h"

#define READ_CHUNK ((size_t)256 << 10)

static void conn_close_cb(uv_handle_t *h);

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
    net->handshake_ms = 10000;
    net->max_conns = wb_net_default_max_conns();
    net->fail_max = 10;
    net->fail_window_ms = 60000;
    uv_idle_init(loop, &net->flusher);
    net->flusher.data = net;
    return 0;
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
    free(net->fails);
    net->fails = NULL;
    net->nfails = 0;
}

int wb_net_default_max_conns(void)
{
    struct rlimit rl;
    int n = 1000;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 64)
        n = rl.rlim_cur > 96 ? (int)rl.rlim_cur - 64 : 32;
    return n;
}

/* ------------------------------------------- failed handshakes per address */

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

/* a peer failed its handshake: count it against its address */
static void fail_count(wb_conn *c)
{
    wb_net *net = c->net;
    if (net->fail_max <= 0 || net->fail_window_ms <= 0) return;
    char addr[96];
    addr_only(c->peer, addr, sizeof addr);
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

/* should the server refuse this new connection? (message set) */
static int admit(wb_conn *c)
{
    wb_net *net = c->net;
    uint64_t now = uv_now(net->loop);
    if (net->max_conns > 0 && net->nserver > net->max_conns) {
        net->full_refused++;
        if (!net->full_logged || now - net->full_logged >= 10000) {
            wb_log(WB_LOG_WARN, "refused %u connection%s (the last from %s): %d connections are open, the limit",
                   net->full_refused, net->full_refused == 1 ? "" : "s", c->peer, net->max_conns);
            net->full_logged = now;
            net->full_refused = 0;
        }
        return wb_seterr(WB_ELIMIT, "too many connections to this %s (limit %d)", net->who, net->max_conns);
    }
    char addr[96];
    addr_only(c->peer, addr, sizeof addr);
    wb_netfail *f = net->nfails ? fail_find(net, addr, 0) : NULL;
    if (f && f->until > now) {
        f->refused++;
        return wb_seterr(WB_ELIMIT, "too many failed handshakes from %s (%d within %.0f s); refused for another %llu s",
                         addr, f->count, net->fail_window_ms / 1000.0, (unsigned long long)((f->until - now + 999) / 1000));
    }
    return 0;
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
    wb_raw_done_fn done;
    void *ctx;
} wreq;

static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    free(w->buf);
    if (w->done) w->done(w->ctx, status);
    wb_conn *c = w->c;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != WB_CS_CLOSED) {
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(status));
        wb_conn_close(c, WB_ENET, why);
    }
}

static void flush_conn(wb_conn *c)
{
    if (c->state == WB_CS_CLOSED || c->out.len == 0) return;
    wreq *w = calloc(1, sizeof *w);
    if (!w) {
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return;
    }
    w->c = c;
    w->buf = c->out.p;
    uv_buf_t b = uv_buf_init((char *)c->out.p, (unsigned)c->out.len);
    c->bytes_out += c->out.len;
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
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) + c->out.len;
}

/* ------------------------------------------------------------- closing */

static void handle_closed(uv_handle_t *h)
{
    wb_conn *c = h->data;
    if (--c->handles > 0) return;
    if (c->server) c->net->nserver--;
    if (c->nprev) c->nprev->nnext = c->nnext;
    else c->net->conns = c->nnext;
    if (c->nnext) c->nnext->nprev = c->nprev;
    free(c->rbuf);
    wb_buf_free(&c->out);
    free(c);
}

static void conn_close_cb(uv_handle_t *h) { handle_closed(h); }

void wb_conn_close(wb_conn *c, int code, const char *why)
{
    if (!c || c->state == WB_CS_CLOSED) return;
    /* what is queued (e.g. a REJECT) goes out if the socket takes it now */
    if (c->out.len && (c->state == WB_CS_READY || c->server)) {
        uv_buf_t b = uv_buf_init((char *)c->out.p, (unsigned)c->out.len);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    }
    c->state = WB_CS_CLOSED;
    /* take it off the flush list */
    if (c->dirty) {
        wb_conn **pp = &c->net->dirty;
        while (*pp && *pp != c) pp = &(*pp)->next_dirty;
        if (*pp) *pp = c->next_dirty;
        c->dirty = 0;
    }
    if (c->cb && c->cb->on_close) c->cb->on_close(c, code, why ? why : "");
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_close_cb);
    uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
}

/* the server drops a peer: log it with its address, tell it why if it got that far */
static void drop_peer(wb_conn *c, int code, const char *fmt, ...) WB_PRINTF(3, 4);
static void drop_peer(wb_conn *c, int code, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->server) wb_log(WB_LOG_WARN, "dropped peer %s: %s", c->peer, why);
    /* a failed handshake counts against the address; a peer that closed
     * without sending a byte (a port check) does not */
    if (c->server && c->state != WB_CS_READY && c->state != WB_CS_CLOSED && (c->bytes_in > 0 || code == WB_ETIMEDOUT))
        fail_count(c);
    wb_conn_close(c, code, why);
}

/* ----------------------------------------------------------- handshake */

static const char *role_name(int r)
{
    switch (r) {
    case WB_ROLE_HEAD: return "head";
    case WB_ROLE_WORKER: return "worker";
    case WB_ROLE_DRIVER: return "driver";
    case WB_ROLE_PEER: return "peer";
    default: return "unknown";
    }
}

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
        snprintf(msg, sizeof msg, "a %s does not connect to this port of a %s", role_name(a.role),
                 role_name(c->my_role));
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
            snprintf(why, sizeof why, "the %s at %s refused the connection: %s", role_name(c->want_role), c->peer,
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
                     role_name(h.role), c->peer, (unsigned)h.version, WB_PROTO_VERSION);
            wb_conn_close(c, WB_EPROTO, why);
            return -1;
        }
        if (h.role != c->want_role) {
            snprintf(why, sizeof why, "%s is a wb %s port, not a %s", c->peer, role_name(h.role),
                     role_name(c->want_role));
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
        snprintf(why, sizeof why, "the %s at %s could not prove it knows the cluster token", role_name(c->want_role),
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

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    wb_conn *c = h->data;
    if (c->raw_on && !c->raw_discard) {
        size_t left = c->raw_len - c->raw_off;
        if (left > ((size_t)1 << 30)) left = (size_t)1 << 30;
        *buf = uv_buf_init((char *)c->raw + c->raw_off, (unsigned)left);
        return;
    }
    size_t want = c->raw_on ? READ_CHUNK : READ_CHUNK;
    if (c->rcap - c->rlen < want) {
        size_t cap = c->rcap ? c->rcap : READ_CHUNK;
        while (cap - c->rlen < want) cap *= 2;
        unsigned char *p = realloc(c->rbuf, cap);
        if (!p) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->rbuf = p;
        c->rcap = cap;
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

static void process(wb_conn *c)
{
    size_t pos = 0;
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
    for (wb_conn *c = net->conns; c; c = c->nnext)
        if (c->state != WB_CS_CLOSED && !c->raw_on && c->rlen == 0 && c->rcap > READ_CHUNK) {
            free(c->rbuf);
            c->rbuf = NULL;
            c->rcap = 0;
        }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    wb_conn *c = s->data;
    if (c->state == WB_CS_CLOSED) return;
    if (nread < 0) {
        char why[200];
        int code = WB_ENET;
        if (nread == UV_EOF) {
            if (c->raw_on || c->rlen)
                snprintf(why, sizeof why, "%s closed the connection in the middle of a message", c->peer);
            else if (c->state != WB_CS_READY)
                snprintf(why, sizeof why, "%s closed the connection during the handshake", c->peer);
            else
                why[0] = 0; /* an orderly close */
        } else {
            snprintf(why, sizeof why, "connection to %s: %s", c->peer, uv_strerror((int)nread));
        }
        if (c->server && why[0] && c->state != WB_CS_READY)
            drop_peer(c, code, "%s", why);
        else
            wb_conn_close(c, why[0] ? code : 0, why);
        return;
    }
    if (nread == 0) return;
    c->bytes_in += (uint64_t)nread;
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

/* ---------------------------------------------------------- set-up */

static void on_timeout(uv_timer_t *t)
{
    wb_conn *c = t->data;
    char why[200];
    if (c->server) {
        drop_peer(c, WB_ETIMEDOUT, "no handshake within %.1f s", c->net->handshake_ms / 1000.0);
        return;
    }
    if (c->state == WB_CS_CONNECTING)
        snprintf(why, sizeof why, "cannot connect to %s: timed out after %.1f s", c->peer, c->timeout_ms / 1000.0);
    else /* (the time given, not the time measured: a loaded machine fires the timer late) */
        snprintf(why, sizeof why, "no answer from %s within %.1f s (is it a wb %s?)", c->peer, c->timeout_ms / 1000.0,
                 role_name(c->want_role));
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
    net->nserver++; /* until its handles are closed */
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
    if (admit(c)) {
        refuse(c, WB_ELIMIT, wb_errmsg());
        return NULL;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (wb_auth_nonce(c->nonce_l)) {
        wb_conn_close(c, WB_EINTERNAL, wb_errmsg());
        return NULL;
    }
    wb_wr w = wb_conn_wr(c);
    wb_enc_hello(&w, (uint8_t)my_role, c->nonce_l);
    wb_conn_mark(c);
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
