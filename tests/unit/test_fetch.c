/* test_fetch.c — the client of a worker's data port (cluster/fetch.c) that
 * workers and drivers share, against a data port written here on the same
 * loop: requests made before the handshake go out in one FETCH, later ones
 * one by one; answers come in order (OBJ with its bytes, read into the
 * owner's buffer or thrown away, OBJ_ERR with its code and message); the
 * connection's end tells the owner first, then hands back every request not
 * answered, in order; a data port that answers out of turn is dropped with a
 * message naming it. All of it over TLS keyed by the token (the default) and
 * again without TLS; objects of 24 MB come whole (or are thrown away) through
 * TLS's window; a wrong token, and ends that disagree on TLS, close with
 * the reason. */
#include <signal.h>

#include "wbtest.h"

#include "cluster/fetch.h"

#define TOKEN "fetch-test-token-0123456789"

/* ------------------------------------------------------------ the data port
 * It answers oid k < 100 with k bytes of value k, 200..299 with OBJ_ERR,
 * 400.. not at all; 500 with an OBJ of another object, 600 with OBJ_ERR
 * twice, 700 with a HOLD, 800 and 801 with BIG bytes of a pattern. */
#define BIG ((size_t)24 << 20)
static unsigned char *big;
static int tls_off; /* the group being run: 1 without TLS */
typedef struct port {
    wb_net net;
    uv_tcp_t tcp;
    int port;
    int nfetch;        /* FETCH frames received */
    uint32_t sizes[8]; /* object ids in each */
    int silent;        /* stop answering (from oid 400 on) */
} port;

static unsigned char bytes[100][100];

static void send_obj(wb_conn *c, uint64_t oid, uint64_t size)
{
    wb_buf fb = {0};
    wb_wr w = {&fb, 0};
    wb_m_obj m = {oid, {WB_OBJ_BYTES, 0, size, 0, 0, 0}};
    wb_enc_obj(&w, WB_M_OBJ, &m);
    uv_buf_t b = uv_buf_init((char *)bytes[oid % 100], (unsigned)size);
    wb_conn_send_raw(c, &fb, &b, size ? 1 : 0, NULL, NULL);
    wb_buf_free(&fb);
}

static void send_err(wb_conn *c, uint64_t oid)
{
    char msg[100];
    snprintf(msg, sizeof msg, "does not hold object %llx", (unsigned long long)oid);
    wb_m_loc1 e = {oid, WB_ENOTFOUND, 9, 0, wb_pstr_z(msg)};
    wb_m_locs m = {1, &e};
    wb_wr w = wb_conn_wr(c);
    wb_enc_locs(&w, WB_M_OBJ_ERR, &m);
    wb_conn_mark(c);
}

static int port_frame(wb_conn *c, int type, const unsigned char *b, size_t n)
{
    port *s = c->data;
    assert_int_equal(type, WB_M_FETCH);
    wb_m_oids m;
    assert_int_equal(wb_dec_oids(b, n, &m), 0);
    if (s->nfetch < 8) s->sizes[s->nfetch] = m.n;
    s->nfetch++;
    for (uint32_t i = 0; i < m.n; i++) {
        uint64_t oid = wb_m_oid_at(&m, i);
        if (oid >= 400 && oid < 500) s->silent = 1;
        if (s->silent) continue;
        if (oid < 100) send_obj(c, oid, oid);
        else if (oid == 800 || oid == 801) {
            wb_buf fb = {0};
            wb_wr w = {&fb, 0};
            wb_m_obj m = {oid, {WB_OBJ_BYTES, 0, BIG, 0, 0, 0}};
            wb_enc_obj(&w, WB_M_OBJ, &m);
            uv_buf_t b = uv_buf_init((char *)big, (unsigned)BIG);
            wb_conn_send_raw(c, &fb, &b, 1, NULL, NULL);
            wb_buf_free(&fb);
        } else if (oid < 300) send_err(c, oid);
        else if (oid == 500) send_obj(c, 501, 4);
        else if (oid == 600) {
            send_err(c, oid);
            send_err(c, oid);
        } else if (oid == 700) {
            wb_m_obj1 e = {oid, 0, {WB_OBJ_BYTES, 0, 1, 0, 0, 0}};
            wb_m_objs h = {1, &e};
            wb_wr w = wb_conn_wr(c);
            wb_enc_objs(&w, WB_M_HOLD, &h);
            wb_conn_mark(c);
        }
    }
    return 0;
}

static void port_close(wb_conn *c, int code, const char *why)
{
    (void)c;
    (void)code;
    (void)why;
}

static const wb_conn_cbs port_cbs = {NULL, port_frame, NULL, port_close};

static void on_connection(uv_stream_t *server, int status)
{
    port *s = server->data;
    assert_int_equal(status, 0);
    wb_conn_accept(&s->net, server, &port_cbs, s, WB_ROLE_WORKER, 1u << WB_ROLE_PEER);
}

static void port_open(port *s, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(wb_net_init(&s->net, loop, TOKEN, "worker"), 0);
    wb_tls_opts t = {tls_off, NULL, NULL, NULL};
    assert_int_equal(wb_net_tls(&s->net, &t), 0);
    wb_net_limits(&s->net, 0, 3000, 0); /* a peer that never starts TLS goes soon (not so soon that a first TLS handshake under valgrind on a busy machine misses it) */
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&s->tcp, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 16, on_connection), 0);
    struct sockaddr_in b;
    int len = sizeof b;
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&b, &len);
    s->port = ntohs(b.sin_port);
}

/* ------------------------------------------------------------- the owner */

typedef struct owner {
    wb_net net;
    wb_buf log; /* what the callbacks saw, a line each */
    int done;
    int closed;
    wb_fetcher *f;
    uint64_t then;   /* ask for this once the first body arrived */
    int close_after; /* close the connection once this many bodies arrived */
    int bodies;
    int throw_away; /* on_obj returns NULL for this object */
    unsigned char *bufs[16];
    int nbufs;
} owner;

static void say(owner *o, const char *fmt, ...) WB_PRINTF(2, 3);
static void say(owner *o, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    wb_buf_printf(&o->log, "%s\n", line);
}

static void on_ready(wb_fetcher *f)
{
    owner *o = f->data;
    say(o, "ready %u", f->id);
}

static unsigned char *on_obj(wb_fetcher *f, void *req, const wb_wstat *st)
{
    owner *o = f->data;
    uint64_t oid = (uint64_t)(uintptr_t)req;
    say(o, "obj %llu: %llu bytes", (unsigned long long)oid, (unsigned long long)st->size);
    if ((int)oid == o->throw_away) return NULL;
    unsigned char *b = malloc(st->size ? st->size : 1);
    o->bufs[o->nbufs++] = b;
    return b;
}

static void on_body(wb_fetcher *f, void *req, unsigned char *buf)
{
    owner *o = f->data;
    uint64_t oid = (uint64_t)(uintptr_t)req;
    if (!buf) say(o, "body %llu: thrown away", (unsigned long long)oid);
    else {
        int ok = 1;
        if (oid >= 800) ok = memcmp(buf, big, BIG) == 0;
        else
            for (uint64_t i = 0; i < oid; i++) ok &= buf[i] == (unsigned char)oid;
        say(o, "body %llu: %s", (unsigned long long)oid, ok ? "right bytes" : "WRONG BYTES");
    }
    o->bodies++;
    if (o->then) {
        uint64_t t = o->then;
        o->then = 0;
        assert_int_equal(wb_fetcher_request(f, t, (void *)(uintptr_t)t), 0);
    }
    if (o->close_after && o->bodies == o->close_after) wb_fetcher_close(f, WB_ENET, "it left the cluster");
}

static void on_refused(wb_fetcher *f, void *req, int code, const char *msg)
{
    owner *o = f->data;
    say(o, "refused %llu: %s %s", (unsigned long long)(uintptr_t)req, wb_errname(code), msg);
}

static void on_close(wb_fetcher *f, int code, const char *why)
{
    owner *o = f->data;
    say(o, "close %s: %s", code ? wb_errname(code) : "0", why);
    o->f = NULL;
    o->closed = 1;
}

static void on_lost(wb_fetcher *f, void *req, const char *why)
{
    owner *o = f->data;
    say(o, "lost %llu: %s", (unsigned long long)(uintptr_t)req, why);
}

static const wb_fetch_cbs owner_cbs = {on_ready, on_obj, on_body, on_refused, on_close, on_lost};

static void on_guard(uv_timer_t *t)
{
    owner *o = t->data;
    say(o, "TIMED OUT");
    o->done = 1;
}

/* open a client to the port, ask for the objects, run until `until` bodies
 * and refusals are in (or the connection closed); the log */
static const char *owner_token = TOKEN;
static int owner_tls_off = -1; /* -1: as the port */

static char *run(int portno, const uint64_t *oids, int n, owner *o, int answers)
{
    uv_loop_t *loop = uv_default_loop();
    assert_int_equal(wb_net_init(&o->net, loop, owner_token, "owner"), 0);
    wb_tls_opts t = {owner_tls_off >= 0 ? owner_tls_off : tls_off, NULL, NULL, NULL};
    assert_int_equal(wb_net_tls(&o->net, &t), 0);
    o->f = wb_fetcher_open(&o->net, 9, "127.0.0.1", portno, 6000, &owner_cbs, o);
    assert_non_null(o->f);
    for (int i = 0; i < n; i++) assert_int_equal(wb_fetcher_request(o->f, oids[i], (void *)(uintptr_t)oids[i]), 0);
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    guard.data = o;
    uv_timer_start(&guard, on_guard, 120000, 0); /* a hang guard: valgrind makes 24 MB through TLS slow */
    while (!o->done && !o->closed) {
        uv_run(loop, UV_RUN_ONCE);
        int lines = 0;
        for (size_t i = 0; i < o->log.len; i++) lines += o->log.p[i] == '\n';
        if (answers && lines >= answers) break;
    }
    if (o->f) wb_fetcher_close(o->f, 0, "");
    uv_timer_stop(&guard);
    uv_close((uv_handle_t *)&guard, NULL);
    wb_net_close(&o->net);
    uv_run(loop, UV_RUN_NOWAIT);
    for (int i = 0; i < o->nbufs; i++) free(o->bufs[i]);
    wb_buf_add(&o->log, "", 1);
    return (char *)o->log.p;
}

static port P;

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) memset(bytes[i], i, sizeof bytes[i]);
    if (!big) {
        big = malloc(BIG);
        for (size_t i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 31 + (i >> 13));
    }
    port_open(&P, uv_default_loop());
    return 0;
}

static int setup_clear(void **state)
{
    tls_off = 1;
    return setup(state);
}

static int teardown(void **state)
{
    (void)state;
    wb_net_close(&P.net);
    uv_close((uv_handle_t *)&P.tcp, NULL);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    return 0;
}

static void expect(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) fail_msg("the client saw:\n%s\nexpected:\n%s", got, want);
}

static void test_in_order(void **state)
{
    (void)state;
    P.nfetch = 0;
    P.silent = 0;
    owner o = {0};
    o.then = 7;             /* asked for once the first body is in: its own FETCH */
    o.throw_away = 9;       /* its bytes are read and thrown away */
    const uint64_t oids[] = {3, 201, 9, 5};
    /* ready, 3, 201, 9, 5, 7 (and the close at the end) */
    char *log = run(P.port, oids, 4, &o, 1 + 2 + 1 + 2 + 2 + 2);
    expect(log, "ready 9\n"
                "obj 3: 3 bytes\n"
                "body 3: right bytes\n"
                "refused 201: WB_ENOTFOUND does not hold object c9\n"
                "obj 9: 9 bytes\n"
                "body 9: thrown away\n"
                "obj 5: 5 bytes\n"
                "body 5: right bytes\n"
                "obj 7: 7 bytes\n"
                "body 7: right bytes\n"
                "close 0: \n");
    /* the four asked for before the handshake in one FETCH, the fifth alone */
    assert_int_equal(P.nfetch, 2);
    assert_int_equal(P.sizes[0], 4);
    assert_int_equal(P.sizes[1], 1);
    wb_buf_free(&o.log);
}

static void test_closed_with_requests(void **state)
{
    (void)state;
    P.nfetch = 0;
    P.silent = 0;
    owner o = {0};
    o.close_after = 1; /* the owner closes after the first body: the others come back, in order */
    const uint64_t oids[] = {4, 400, 6};
    char *log = run(P.port, oids, 3, &o, 0);
    expect(log, "ready 9\n"
                "obj 4: 4 bytes\n"
                "body 4: right bytes\n"
                "close WB_ENET: it left the cluster\n"
                "lost 400: it left the cluster\n"
                "lost 6: it left the cluster\n");
    wb_buf_free(&o.log);

    /* nobody listening: the requests come back with the reason */
    uv_tcp_t t;
    uv_tcp_init(uv_default_loop(), &t);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_bind(&t, (struct sockaddr *)&a, 0);
    struct sockaddr_in b;
    int len = sizeof b;
    uv_tcp_getsockname(&t, (struct sockaddr *)&b, &len);
    int dead = ntohs(b.sin_port);
    uv_close((uv_handle_t *)&t, NULL); /* bound, never listening: refused */
    owner o2 = {0};
    const uint64_t two[] = {1, 2};
    log = run(dead, two, 2, &o2, 0);
    char want[400];
    snprintf(want, sizeof want,
             "close WB_ENET: cannot connect to 127.0.0.1:%d: connection refused\n"
             "lost 1: cannot connect to 127.0.0.1:%d: connection refused\n"
             "lost 2: cannot connect to 127.0.0.1:%d: connection refused\n",
             dead, dead, dead);
    expect(log, want);
    wb_buf_free(&o2.log);
}

static void test_out_of_turn(void **state)
{
    (void)state;
    P.silent = 0;
    char want[600];
    /* an object that was not asked for */
    owner o = {0};
    const uint64_t a[] = {500, 8};
    char *log = run(P.port, a, 2, &o, 0);
    snprintf(want, sizeof want,
             "ready 9\n"
             "close WB_EPROTO: 127.0.0.1:%d sent object 1f5 for a request of 1f4\n"
             "lost 500: 127.0.0.1:%d sent object 1f5 for a request of 1f4\n"
             "lost 8: 127.0.0.1:%d sent object 1f5 for a request of 1f4\n",
             P.port, P.port, P.port);
    expect(log, want);
    wb_buf_free(&o.log);
    /* an answer too many */
    owner o2 = {0};
    const uint64_t b[] = {600};
    log = run(P.port, b, 1, &o2, 0);
    snprintf(want, sizeof want,
             "ready 9\n"
             "refused 600: WB_ENOTFOUND does not hold object 258\n"
             "close WB_EPROTO: 127.0.0.1:%d sent OBJ_ERR without a request\n",
             P.port);
    expect(log, want);
    wb_buf_free(&o2.log);
    /* a message that has no place on a data connection */
    owner o3 = {0};
    const uint64_t c[] = {700};
    log = run(P.port, c, 1, &o3, 0);
    snprintf(want, sizeof want,
             "ready 9\n"
             "close WB_EPROTO: 127.0.0.1:%d sent HOLD on a data connection\n"
             "lost 700: 127.0.0.1:%d sent HOLD on a data connection\n",
             P.port, P.port);
    expect(log, want);
    wb_buf_free(&o3.log);
}

/* objects larger than TLS's window, one kept and one thrown away, then small
 * ones on the same connection */
static void test_big(void **state)
{
    (void)state;
    P.nfetch = 0;
    P.silent = 0;
    owner o = {0};
    o.throw_away = 801;
    const uint64_t oids[] = {800, 801, 5, 800};
    char *log = run(P.port, oids, 4, &o, 1 + 2 * 4);
    expect(log, "ready 9\n"
                "obj 800: 25165824 bytes\n"
                "body 800: right bytes\n"
                "obj 801: 25165824 bytes\n"
                "body 801: thrown away\n"
                "obj 5: 5 bytes\n"
                "body 5: right bytes\n"
                "obj 800: 25165824 bytes\n"
                "body 800: right bytes\n"
                "close 0: \n");
    wb_buf_free(&o.log);
}

/* a wrong token; ends that disagree on TLS */
static void test_refused(void **state)
{
    (void)state;
    P.silent = 0;
    char want[800];
    const uint64_t one[] = {3};
    owner o = {0};
    owner_token = "another-token-0123456789";
    char *log = run(P.port, one, 1, &o, 0);
    owner_token = TOKEN;
    snprintf(want, sizeof want,
             "close WB_EAUTH: the worker at 127.0.0.1:%d refused the connection: authentication failed: wrong "
             "cluster token\n"
             "lost 3: the worker at 127.0.0.1:%d refused the connection: authentication failed: wrong cluster token\n",
             P.port, P.port);
    expect(log, want);
    wb_buf_free(&o.log);
    owner o2 = {0};
    owner_tls_off = !tls_off;
    log = run(P.port, one, 1, &o2, 0);
    owner_tls_off = -1;
    if (tls_off) /* the owner speaks TLS, the port does not */
        snprintf(want, sizeof want,
                 "close WB_EPROTO: the worker at 127.0.0.1:%d does not use TLS (it runs with --insecure-no-tls): "
                 "both ends use TLS, or both run with --insecure-no-tls (insecure_no_tls = true)\n"
                 "lost 3: the worker at 127.0.0.1:%d does not use TLS (it runs with --insecure-no-tls): both ends "
                 "use TLS, or both run with --insecure-no-tls (insecure_no_tls = true)\n",
                 P.port, P.port);
    else /* the port waits for TLS, then says so in clear */
        snprintf(want, sizeof want,
                 "close WB_EPROTO: the worker at 127.0.0.1:%d refused the connection: this worker uses TLS and no "
                 "TLS handshake came within 3.0 s (does the peer run with --insecure-no-tls? both ends use TLS, or "
                 "both run with --insecure-no-tls)\n"
                 "lost 3: the worker at 127.0.0.1:%d refused the connection: this worker uses TLS and no TLS "
                 "handshake came within 3.0 s (does the peer run with --insecure-no-tls? both ends use TLS, or both "
                 "run with --insecure-no-tls)\n",
                 P.port, P.port);
    expect(log, want);
    wb_buf_free(&o2.log);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_closed_with_requests),
        cmocka_unit_test(test_out_of_turn),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_refused),
    };
    int failed = cmocka_run_group_tests_name("TLS keyed by the token", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("without TLS", tests, setup_clear, teardown);
    free(big);
    return failed;
}
