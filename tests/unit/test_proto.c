/* test_proto.c — the cluster wire protocol: frames, every message codec
 * (round trips, every truncation, corrupted fields, random bytes) and the
 * token/HMAC helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster/proto.h"

/* the payload of the first frame in b */
static const unsigned char *payload(const wb_buf *b, wb_frame_hdr *h)
{
    assert_int_equal(wb_frame_decode(b->p, WB_PROTO_MAX_FRAME, h), 0);
    assert_int_equal(h->len + WB_PROTO_HDR, b->len);
    return b->p + WB_PROTO_HDR;
}

/* every strict prefix of a valid payload must be refused, cleanly */
static void check_truncations(int type, const unsigned char *p, size_t n)
{
    assert_int_equal(wb_dec_any(type, p, n), 0);
    for (size_t k = 0; k < n; k++) {
        unsigned char *q = malloc(k ? k : 1); /* exact size: ASan sees overreads */
        memcpy(q, p, k);
        int rc = wb_dec_any(type, q, k);
        free(q);
        assert_int_equal(rc, WB_EPROTO);
    }
    /* one byte too many */
    unsigned char *q = malloc(n + 1);
    memcpy(q, p, n);
    q[n] = 0;
    assert_int_equal(wb_dec_any(type, q, n + 1), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "unexpected bytes"));
    free(q);
}

/* flip every byte to a few values: decoders may accept or refuse, never crash */
static void check_mutations(int type, const unsigned char *p, size_t n)
{
    unsigned char *q = malloc(n ? n : 1);
    static const unsigned char vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(q, p, n);
            q[i] = vals[v];
            int rc = wb_dec_any(type, q, n);
            assert_true(rc == 0 || rc == WB_EPROTO || rc == WB_ENOMEM);
        }
    free(q);
}

static void test_frame_header(void **state)
{
    (void)state;
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    size_t s = wb_msg_begin(&w, WB_M_RELEASE);
    wb_wr_u32(&w, 1);
    wb_wr_u64(&w, 42);
    assert_int_equal(wb_msg_end(&w, s), 0);
    wb_frame_hdr h;
    const unsigned char *p = payload(&b, &h);
    assert_int_equal(h.type, WB_M_RELEASE);
    assert_int_equal(h.len, 12);
    wb_m_oids o;
    assert_int_equal(wb_dec_oids(p, h.len, &o), 0);
    assert_int_equal(o.n, 1);
    assert_true(wb_m_oid_at(&o, 0) == 42);
    assert_string_equal(wb_msg_name(WB_M_DONE), "DONE");
    assert_null(wb_msg_name(999));

    /* limits: the length is checked against the limit given */
    assert_int_equal(wb_frame_decode(b.p, 11, &h), WB_ELIMIT);
    assert_non_null(strstr(wb_errmsg(), "RELEASE of 12 bytes exceeds the limit of 11 bytes"));
    /* unknown type, nonzero flags */
    unsigned char bad[8] = {1, 0, 0, 0, 0xee, 0x03, 0, 0};
    assert_int_equal(wb_frame_decode(bad, 100, &h), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "unknown message type 1006"));
    unsigned char flags[8] = {1, 0, 0, 0, WB_M_DONE, 0, 1, 0};
    assert_int_equal(wb_frame_decode(flags, 100, &h), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "flags"));
    /* "GET / HTTP/1.1" arriving on the port is not a frame */
    assert_int_not_equal(wb_frame_decode("GET / HTTP/1.1\r\n", WB_PROTO_MAX_PREAUTH, &h), 0);
    wb_buf_free(&b);
}

static void test_handshake_messages(void **state)
{
    (void)state;
    uint8_t nonce[WB_PROTO_NONCE], mac[WB_PROTO_MAC];
    for (int i = 0; i < WB_PROTO_NONCE; i++) nonce[i] = (uint8_t)i;
    for (int i = 0; i < WB_PROTO_MAC; i++) mac[i] = (uint8_t)(200 - i);
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    wb_frame_hdr h;

    wb_enc_hello(&w, WB_ROLE_HEAD, nonce);
    const unsigned char *p = payload(&b, &h);
    wb_m_hello he;
    assert_int_equal(wb_dec_hello(p, h.len, &he), 0);
    assert_int_equal(he.version, WB_PROTO_VERSION);
    assert_int_equal(he.role, WB_ROLE_HEAD);
    assert_memory_equal(he.nonce, nonce, WB_PROTO_NONCE);
    check_truncations(WB_M_HELLO, p, h.len);
    check_mutations(WB_M_HELLO, p, h.len);
    /* bad magic */
    unsigned char *q = malloc(h.len);
    memcpy(q, p, h.len);
    q[0] = 'X';
    assert_int_equal(wb_dec_hello(q, h.len, &he), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "bad magic"));
    free(q);

    b.len = 0;
    wb_enc_auth(&w, 7, WB_ROLE_DRIVER, nonce, mac);
    p = payload(&b, &h);
    wb_m_auth au;
    assert_int_equal(wb_dec_auth(p, h.len, &au), 0);
    assert_int_equal(au.version, 7); /* the version is the caller's to check */
    assert_int_equal(au.role, WB_ROLE_DRIVER);
    assert_memory_equal(au.mac, mac, WB_PROTO_MAC);
    check_truncations(WB_M_AUTH, p, h.len);
    check_mutations(WB_M_AUTH, p, h.len);

    b.len = 0;
    wb_enc_auth_ok(&w, mac);
    p = payload(&b, &h);
    uint8_t m2[WB_PROTO_MAC];
    assert_int_equal(wb_dec_auth_ok(p, h.len, m2), 0);
    assert_memory_equal(m2, mac, WB_PROTO_MAC);
    check_truncations(WB_M_AUTH_OK, p, h.len);

    b.len = 0;
    wb_enc_reject(&w, WB_EAUTH, "authentication failed");
    p = payload(&b, &h);
    wb_m_reject rj;
    assert_int_equal(wb_dec_reject(p, h.len, &rj), 0);
    assert_int_equal(rj.code, WB_EAUTH);
    assert_true(wb_pstr_eq(rj.msg, "authentication failed"));
    check_truncations(WB_M_REJECT, p, h.len);
    check_mutations(WB_M_REJECT, p, h.len);
    wb_buf_free(&b);
}

static void test_register_welcome_workers(void **state)
{
    (void)state;
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    wb_frame_hdr h;
    size_t s = wb_msg_begin(&w, WB_M_REGISTER);
    wb_wr_u32(&w, 4);
    wb_wr_u64(&w, 1ull << 32);
    wb_wr_str(&w, "10.0.0.2");
    wb_wr_u16(&w, 4567);
    wb_wr_u32(&w, 1234);
    wb_wr_u32(&w, 2);
    wb_wr_str(&w, "datagen");
    wb_wr_str(&w, "1.0");
    wb_wr_str(&w, "kmeans");
    wb_wr_str(&w, "0.3-b");
    wb_wr_u32(&w, 2);
    wb_wr_str(&w, "datagen.classification");
    wb_wr_str(&w, "kmeans.assign");
    assert_int_equal(wb_msg_end(&w, s), 0);
    const unsigned char *p = payload(&b, &h);
    wb_m_register r;
    assert_int_equal(wb_dec_register(p, h.len, &r), 0);
    assert_int_equal(r.threads, 4);
    assert_true(r.mem_limit == 1ull << 32);
    assert_true(wb_pstr_eq(r.host, "10.0.0.2"));
    assert_int_equal(r.port, 4567);
    assert_int_equal(r.nplugins, 2);
    assert_true(wb_pstr_eq(r.plugins[1].version, "0.3-b"));
    assert_int_equal(r.nkernels, 2);
    assert_true(wb_pstr_eq(r.kernels[1], "kmeans.assign"));
    wb_m_register_free(&r);
    check_truncations(WB_M_REGISTER, p, h.len);
    check_mutations(WB_M_REGISTER, p, h.len);

    /* a kernel name with a bad character */
    b.len = 0;
    s = wb_msg_begin(&w, WB_M_REGISTER);
    wb_wr_u32(&w, 1);
    wb_wr_u64(&w, 0);
    wb_wr_str(&w, "h");
    wb_wr_u16(&w, 1);
    wb_wr_u32(&w, 1);
    wb_wr_u32(&w, 0);
    wb_wr_u32(&w, 1);
    wb_wr_str(&w, "a/b");
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    assert_int_equal(wb_dec_register(p, h.len, &r), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "REGISTER message: kernel name has a bad character"));

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_WELCOME);
    wb_wr_u32(&w, 3);
    wb_wr_u32(&w, 1000);
    wb_wr_u32(&w, 10000);
    wb_wr_u16(&w, 7879);
    wb_wr_u32(&w, 1);
    wb_wr_str(&w, "datagen");
    wb_wr_str(&w, "1.0");
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_welcome we;
    assert_int_equal(wb_dec_welcome(p, h.len, &we), 0);
    assert_int_equal(we.id, 3);
    assert_int_equal(we.timeout_ms, 10000);
    assert_int_equal(we.dashboard_port, 7879);
    wb_m_welcome_free(&we);
    check_truncations(WB_M_WELCOME, p, h.len);
    check_mutations(WB_M_WELCOME, p, h.len);

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_PLUGINS);
    wb_wr_u32(&w, 2);
    wb_wr_str(&w, "datagen");
    wb_wr_str(&w, "1.0");
    wb_wr_str(&w, "pver");
    wb_wr_str(&w, "2+build.7");
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_plugins pl;
    assert_int_equal(wb_dec_plugins(p, h.len, &pl), 0);
    assert_int_equal(pl.nplugins, 2);
    assert_true(wb_pstr_eq(pl.plugins[1].name, "pver") && wb_pstr_eq(pl.plugins[1].version, "2+build.7"));
    wb_m_plugins_free(&pl);
    check_truncations(WB_M_PLUGINS, p, h.len);
    check_mutations(WB_M_PLUGINS, p, h.len);
    b.len = 0;
    s = wb_msg_begin(&w, WB_M_PLUGINS);
    wb_wr_u32(&w, 1);
    wb_wr_str(&w, "pver");
    wb_wr_str(&w, "1 beta");
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    assert_int_equal(wb_dec_plugins(p, h.len, &pl), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "PLUGINS message: plugin version has a bad character (byte 0x20 at 1)"));

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_WORKERS);
    wb_wr_u32(&w, 2);
    for (uint32_t i = 1; i <= 2; i++) {
        wb_wr_u32(&w, i);
        wb_wr_str(&w, "127.0.0.1");
        wb_wr_u16(&w, (uint16_t)(5000 + i));
        wb_wr_u32(&w, 2);
        wb_wr_u32(&w, 100 + i);
        wb_wr_u8(&w, 1);
        wb_wr_u32(&w, i - 1); /* worker 2 has one plugin */
        if (i == 2) {
            wb_wr_str(&w, "pver");
            wb_wr_str(&w, "2");
        }
    }
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_workers ws;
    assert_int_equal(wb_dec_workers(p, h.len, &ws), 0);
    assert_int_equal(ws.n, 2);
    assert_int_equal(ws.w[1].port, 5002);
    assert_int_equal(ws.w[1].pid, 102);
    assert_int_equal(ws.w[0].nplugins, 0);
    assert_int_equal(ws.w[1].nplugins, 1);
    assert_true(wb_pstr_eq(ws.w[1].plugins[0].name, "pver") && wb_pstr_eq(ws.w[1].plugins[0].version, "2"));
    wb_m_workers_free(&ws);
    check_truncations(WB_M_WORKERS, p, h.len);
    check_mutations(WB_M_WORKERS, p, h.len);
    wb_buf_free(&b);
}

static void enc_task(wb_wr *w, uint64_t oid, uint32_t kernel, int mode, uint64_t sumlen, int64_t out_rows,
                     uint32_t arg, int nin, const uint64_t *in, int nh)
{
    wb_wr_u64(w, oid);
    wb_wr_u32(w, kernel);
    wb_wr_u8(w, (uint8_t)mode);
    wb_wr_u64(w, sumlen);
    wb_wr_i64(w, out_rows);
    wb_wr_u32(w, 0);
    wb_wr_u32(w, arg);
    wb_wr_u32(w, (uint32_t)nin);
    for (int i = 0; i < nin; i++) {
        wb_wr_u64(w, in[i]);
        wb_wr_u16(w, (uint16_t)nh);
        for (int k = 0; k < nh; k++) wb_wr_u32(w, (uint32_t)(k + 1));
    }
}

static void test_tasks(void **state)
{
    (void)state;
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    wb_frame_hdr h;
    size_t s = wb_msg_begin(&w, WB_M_TASKS);
    wb_wr_u32(&w, 2);
    wb_wr_str(&w, "core.colsum");
    wb_wr_str(&w, "cluster.noop");
    wb_wr_u32(&w, 1);
    wb_wr_bytes(&w, "\x01\x02\x03", 3);
    wb_wr_u32(&w, 3);
    uint64_t in[3] = {11, 12, 13};
    enc_task(&w, 100, 0, WB_TASK_BLOCKSUM, 4, -1, 0, 2, in, 2);
    enc_task(&w, 101, 1, WB_TASK_PLAIN, 0, 4096, WB_NO_ARG, 0, NULL, 0);
    enc_task(&w, 102, 1, WB_TASK_PLAIN, 0, -1, 0, 3, in, 0);
    assert_int_equal(wb_msg_end(&w, s), 0);
    const unsigned char *p = payload(&b, &h);
    wb_m_tasks t;
    assert_int_equal(wb_dec_tasks(p, h.len, &t), 0);
    assert_int_equal(t.ntasks, 3);
    assert_true(wb_pstr_eq(t.kernels[t.tasks[0].kernel], "core.colsum"));
    assert_int_equal(t.tasks[0].mode, WB_TASK_BLOCKSUM);
    assert_int_equal(t.tasks[0].nin, 2);
    assert_true(t.tasks[0].in[1].oid == 12);
    assert_int_equal(t.tasks[0].in[1].nholders, 2);
    assert_int_equal(t.tasks[0].in[1].holders[1], 2);
    assert_true(t.tasks[1].out_rows == 4096);
    assert_null(t.tasks[1].in);
    assert_int_equal(t.tasks[2].nin, 3);
    assert_true(t.tasks[2].in[2].oid == 13);
    assert_int_equal(t.args[t.tasks[2].arg].len, 3);
    wb_m_tasks_free(&t);
    check_truncations(WB_M_TASKS, p, h.len);
    check_mutations(WB_M_TASKS, p, h.len);

    /* semantic checks: a kernel index out of range, a bad mode, a plain task with a sum */
    struct {
        uint32_t kernel;
        int mode;
        uint64_t sumlen;
        const char *msg;
    } bad[] = {{5, 0, 0, "names kernel 5 of 1"}, {0, 3, 0, "has mode 3"}, {0, 0, 8, "a plain task with a sum length"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.len = 0;
        s = wb_msg_begin(&w, WB_M_SUBMIT);
        wb_wr_u32(&w, 1);
        wb_wr_str(&w, "k.k");
        wb_wr_u32(&w, 0);
        wb_wr_u32(&w, 1);
        enc_task(&w, 1, bad[i].kernel, bad[i].mode, bad[i].sumlen, -1, WB_NO_ARG, 0, NULL, 0);
        wb_msg_end(&w, s);
        p = payload(&b, &h);
        assert_int_equal(wb_dec_tasks(p, h.len, &t), WB_EPROTO);
        assert_non_null(strstr(wb_errmsg(), bad[i].msg));
    }
    /* a count that cannot fit in the frame is refused before any allocation */
    b.len = 0;
    s = wb_msg_begin(&w, WB_M_SUBMIT);
    wb_wr_u32(&w, 60000);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    assert_int_equal(wb_dec_tasks(p, h.len, &t), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "does not fit"));
    wb_buf_free(&b);
}

static void test_results_and_lists(void **state)
{
    (void)state;
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    wb_frame_hdr h;
    /* DONE: one inline bytes result, one failure, one partition held on a worker */
    size_t s = wb_msg_begin(&w, WB_M_DONE);
    wb_wr_u32(&w, 3);
    wb_wstat st = {WB_OBJ_BYTES, 0, 5, 0, 0, 0};
    wb_wr_u64(&w, 7);
    wb_wr_i32(&w, 0);
    wb_wr_u32(&w, 1);
    wb_wr_wstat(&w, &st);
    wb_wr_str(&w, "");
    wb_wr_u8(&w, 1);
    wb_wr_bytes(&w, "hello", 5);
    wb_wstat none = {0};
    wb_wr_u64(&w, 8);
    wb_wr_i32(&w, WB_EINVAL);
    wb_wr_u32(&w, 2);
    wb_wr_wstat(&w, &none);
    wb_wr_str(&w, "kmeans.assign: bad input");
    wb_wr_u8(&w, 0);
    wb_wstat part = {WB_OBJ_PART, 1, (uint64_t)(4096 * 3 * 8 + 4096 * 8), 4096, 3, 8192};
    wb_wr_u64(&w, 9);
    wb_wr_i32(&w, 0);
    wb_wr_u32(&w, 2);
    wb_wr_wstat(&w, &part);
    wb_wr_str(&w, "");
    wb_wr_u8(&w, 0);
    assert_int_equal(wb_msg_end(&w, s), 0);
    const unsigned char *p = payload(&b, &h);
    wb_m_done d;
    assert_int_equal(wb_dec_done(p, h.len, &d), 0);
    assert_int_equal(d.n, 3);
    assert_true(wb_pstr_eq(d.d[0].data, "hello"));
    assert_int_equal(d.d[1].code, WB_EINVAL);
    assert_true(wb_pstr_eq(d.d[1].msg, "kmeans.assign: bad input"));
    assert_true(d.d[2].stat.rows == 4096 && d.d[2].stat.row0 == 8192 && d.d[2].stat.has_y == 1);
    wb_m_done_free(&d);
    check_truncations(WB_M_DONE, p, h.len);
    check_mutations(WB_M_DONE, p, h.len);

    /* a partition whose size does not match its shape */
    b.len = 0;
    s = wb_msg_begin(&w, WB_M_HOLD);
    wb_wr_u32(&w, 1);
    wb_wr_u64(&w, 9);
    wb_wstat badpart = part;
    badpart.size += 8;
    wb_wr_wstat(&w, &badpart);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_objs os;
    assert_int_equal(wb_dec_objs(p, h.len, 0, &os), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "HOLD message: partition of 4096 x 3 with labels has size"));

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_PUT_DECL);
    wb_wr_u32(&w, 1);
    wb_wr_u64(&w, 9);
    wb_wr_u32(&w, 2);
    wb_wr_wstat(&w, &part);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    assert_int_equal(wb_dec_objs(p, h.len, 1, &os), 0);
    assert_int_equal(os.o[0].worker, 2);
    wb_m_objs_free(&os);
    check_truncations(WB_M_PUT_DECL, p, h.len);
    check_mutations(WB_M_PUT_DECL, p, h.len);

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_LOCATION);
    wb_wr_u32(&w, 2);
    wb_wr_u64(&w, 5);
    wb_wr_i32(&w, 0);
    wb_wr_u32(&w, 3);
    wb_wr_u64(&w, 0);
    wb_wr_str(&w, "");
    wb_wr_u64(&w, 6);
    wb_wr_i32(&w, WB_ENOTFOUND);
    wb_wr_u32(&w, 0);
    wb_wr_u64(&w, 77);
    wb_wr_str(&w, "object 6 was lost");
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_locs l;
    assert_int_equal(wb_dec_locs(p, h.len, &l), 0);
    assert_int_equal(l.l[0].worker, 3);
    assert_true(l.l[1].other == 77);
    wb_m_locs_free(&l);
    check_truncations(WB_M_LOCATION, p, h.len);
    check_mutations(WB_M_LOCATION, p, h.len);

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_PULL);
    wb_wr_u32(&w, 2);
    wb_wr_u64(&w, 5);
    wb_wr_u16(&w, 2);
    wb_wr_u32(&w, 1);
    wb_wr_u32(&w, 4);
    wb_wr_u64(&w, 6);
    wb_wr_u16(&w, 1);
    wb_wr_u32(&w, 9);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_pull pl;
    assert_int_equal(wb_dec_pull(p, h.len, &pl), 0);
    assert_int_equal(pl.p[0].holders[1], 4);
    assert_int_equal(pl.p[1].holders[0], 9);
    wb_m_pull_free(&pl);
    check_truncations(WB_M_PULL, p, h.len);
    check_mutations(WB_M_PULL, p, h.len);

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_OBJ);
    wb_wr_u64(&w, 5);
    wb_wr_wstat(&w, &part);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_obj ob;
    assert_int_equal(wb_dec_obj(p, h.len, &ob), 0);
    assert_true(ob.stat.size == part.size);
    check_truncations(WB_M_OBJ, p, h.len);
    check_mutations(WB_M_OBJ, p, h.len);

    b.len = 0;
    s = wb_msg_begin(&w, WB_M_HEARTBEAT);
    for (int i = 0; i < 3; i++) wb_wr_u64(&w, (uint64_t)i);
    wb_wr_u32(&w, 1);
    wb_wr_u32(&w, 2);
    wb_wr_u64(&w, 3);
    wb_wr_u64(&w, 4);
    wb_wr_i64(&w, 5);
    wb_msg_end(&w, s);
    p = payload(&b, &h);
    wb_m_heartbeat hb;
    assert_int_equal(wb_dec_heartbeat(p, h.len, &hb), 0);
    assert_true(hb.rss == 5 && hb.queued == 2);
    check_truncations(WB_M_HEARTBEAT, p, h.len);
    wb_buf_free(&b);
}

/* random bytes for every message type: refused or accepted, never a crash */
static void test_random_bytes(void **state)
{
    (void)state;
    uint64_t x = 12345;
    unsigned char *buf = malloc(512);
    for (int type = 1; type <= 43; type++) {
        if (!wb_msg_name(type)) continue;
        for (int it = 0; it < 2000; it++) {
            size_t n = (size_t)(wb_splitmix64(&x) % 512);
            for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)wb_splitmix64(&x);
            /* small counts make deeper paths reachable */
            if (n >= 4 && (it & 1)) buf[0] = buf[0] & 3, buf[1] = buf[2] = buf[3] = 0;
            unsigned char *q = malloc(n ? n : 1);
            memcpy(q, buf, n);
            int rc = wb_dec_any(type, q, n);
            free(q);
            assert_true(rc == 0 || rc == WB_EPROTO);
        }
    }
    free(buf);
}

static void test_hmac(void **state)
{
    (void)state;
    uint8_t a[WB_PROTO_NONCE], b[WB_PROTO_NONCE], m1[WB_PROTO_MAC], m2[WB_PROTO_MAC], m3[WB_PROTO_MAC];
    assert_int_equal(wb_auth_nonce(a), 0);
    assert_int_equal(wb_auth_nonce(b), 0);
    assert_memory_not_equal(a, b, WB_PROTO_NONCE);
    wb_auth_mac("secret-token-0123456789", "wb-client", a, b, WB_ROLE_WORKER, m1);
    wb_auth_mac("secret-token-0123456789", "wb-client", a, b, WB_ROLE_WORKER, m2);
    assert_true(wb_auth_equal(m1, m2));
    /* another token, label, role or nonce order: another MAC */
    wb_auth_mac("secret-token-0123456780", "wb-client", a, b, WB_ROLE_WORKER, m3);
    assert_false(wb_auth_equal(m1, m3));
    wb_auth_mac("secret-token-0123456789", "wb-server", a, b, WB_ROLE_WORKER, m3);
    assert_false(wb_auth_equal(m1, m3));
    wb_auth_mac("secret-token-0123456789", "wb-client", a, b, WB_ROLE_DRIVER, m3);
    assert_false(wb_auth_equal(m1, m3));
    wb_auth_mac("secret-token-0123456789", "wb-client", b, a, WB_ROLE_WORKER, m3);
    assert_false(wb_auth_equal(m1, m3));
    /* the known HMAC-SHA256 test vector (RFC 4231 case 2 shape): key "Jefe" */
    /* not applicable directly (our message layout is fixed); check determinism only */
}

static void test_token_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/wbtokXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tok[65], back[WB_TOKEN_MAX + 1];
    snprintf(path, sizeof path, "%s/sub/token", dir);
    assert_int_equal(wb_token_generate(tok), 0);
    assert_int_equal(strlen(tok), 64);
    assert_int_equal(wb_token_write(path, tok), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(wb_token_read(path, back, sizeof back), 0);
    assert_string_equal(back, tok);
    /* errors name the file */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_equal(wb_token_read(missing, back, sizeof back), WB_ENOTFOUND);
    assert_non_null(strstr(wb_errmsg(), "token file"));
    assert_non_null(strstr(wb_errmsg(), "/none"));
    FILE *f = fopen(path, "w");
    fputs("short\n", f);
    fclose(f);
    assert_int_equal(wb_token_read(path, back, sizeof back), WB_EFORMAT);
    assert_non_null(strstr(wb_errmsg(), "a token of 5 characters (16 to 1024 expected)"));
    f = fopen(path, "w");
    fputs("0123456789abcdef 0123\n", f);
    fclose(f);
    assert_int_equal(wb_token_read(path, back, sizeof back), WB_EFORMAT);
    assert_non_null(strstr(wb_errmsg(), "non-printable or space character at 17"));
    unlink(path);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_header),      cmocka_unit_test(test_handshake_messages),
        cmocka_unit_test(test_register_welcome_workers), cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_results_and_lists), cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_hmac),              cmocka_unit_test(test_token_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
