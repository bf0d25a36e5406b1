/* test_proto.c — the cluster wire protocol: frames, every message codec
 * (round trips, every truncation, corrupted fields, random bytes; every
 * encoder against the field-by-field writes it replaced) and the token/HMAC
 * helpers. */
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

/* ------------------------------------------------------------------------
 * encoders: for every message, the encoder writes exactly the bytes the
 * head, workers and drivers wrote field by field before the encoders
 * existed (the reference writers below repeat those writes), and its frame
 * decodes back to the fields it was given
 * ---------------------------------------------------------------------- */

static int enc_seen[256]; /* message types whose encoder was checked */

/* the one frame in b: of this type, its payload accepted (every prefix refused) */
static const unsigned char *encoded(const wb_buf *b, int type, wb_frame_hdr *h)
{
    const unsigned char *p = payload(b, h);
    assert_int_equal(h->type, type);
    check_truncations(type, p, h->len);
    enc_seen[type] = 1;
    return p;
}

static void same_bytes(const wb_buf *a, const wb_buf *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->p, b->p, a->len);
}

static void same_pstr(wb_pstr a, wb_pstr b)
{
    assert_int_equal(a.len, b.len);
    if (a.len) assert_memory_equal(a.p, b.p, a.len);
}

static void same_wstat(const wb_wstat *a, const wb_wstat *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->has_y, b->has_y);
    assert_true(a->size == b->size && a->rows == b->rows && a->cols == b->cols && a->row0 == b->row0);
}

static void same_plugins(uint32_t na, const wb_m_plugin *a, uint32_t nb, const wb_m_plugin *b)
{
    assert_int_equal(na, nb);
    for (uint32_t i = 0; i < na; i++) {
        same_pstr(a[i].name, b[i].name);
        same_pstr(a[i].version, b[i].version);
    }
}

static const wb_m_plugin enc_plugins[2] = {{{"datagen", 7}, {"1.0", 3}}, {{"pver", 4}, {"2+build.7", 9}}};

/* a partition's shape: 4096 x 3 with labels at row 8192 */
static const wb_wstat enc_part = {WB_OBJ_PART, 1, (uint64_t)(4096 * 3 * 8 + 4096 * 8), 4096, 3, 8192};

static void test_enc_peers(void **state)
{
    (void)state;
    wb_buf e = {0}, r = {0};
    wb_wr we = {&e, 0}, wr = {&r, 0};
    wb_frame_hdr h;
    const unsigned char *p;
    size_t s;

    /* REGISTER (worker.c, head_ready) */
    wb_pstr kernels[2] = {wb_pstr_z("datagen.classification"), wb_pstr_z("kmeans.assign")};
    wb_m_register rg = {4, 1ull << 32, wb_pstr_z("10.0.0.2"), 4567, 1234, 2, (wb_m_plugin *)enc_plugins, 2, kernels};
    assert_int_equal(wb_enc_register(&we, &rg), 0);
    s = wb_msg_begin(&wr, WB_M_REGISTER);
    wb_wr_u32(&wr, 4);
    wb_wr_u64(&wr, 1ull << 32);
    wb_wr_str(&wr, "10.0.0.2");
    wb_wr_u16(&wr, 4567);
    wb_wr_u32(&wr, 1234);
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "datagen");
    wb_wr_str(&wr, "1.0");
    wb_wr_str(&wr, "pver");
    wb_wr_str(&wr, "2+build.7");
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "datagen.classification");
    wb_wr_str(&wr, "kmeans.assign");
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_REGISTER, &h);
    wb_m_register rg2;
    assert_int_equal(wb_dec_register(p, h.len, &rg2), 0);
    assert_true(rg2.threads == rg.threads && rg2.mem_limit == rg.mem_limit && rg2.port == rg.port && rg2.pid == rg.pid);
    same_pstr(rg2.host, rg.host);
    same_plugins(rg2.nplugins, rg2.plugins, rg.nplugins, rg.plugins);
    assert_int_equal(rg2.nkernels, 2);
    for (int i = 0; i < 2; i++) same_pstr(rg2.kernels[i], kernels[i]);
    wb_m_register_free(&rg2);

    /* WELCOME (head.c: to a worker and to a driver) */
    e.len = r.len = 0;
    wb_m_welcome wl = {3, 1000, 10000, 7879, 2, (wb_m_plugin *)enc_plugins};
    assert_int_equal(wb_enc_welcome(&we, &wl), 0);
    s = wb_msg_begin(&wr, WB_M_WELCOME);
    wb_wr_u32(&wr, 3);
    wb_wr_u32(&wr, 1000);
    wb_wr_u32(&wr, 10000);
    wb_wr_u16(&wr, 7879);
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "datagen");
    wb_wr_str(&wr, "1.0");
    wb_wr_str(&wr, "pver");
    wb_wr_str(&wr, "2+build.7");
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_WELCOME, &h);
    wb_m_welcome wl2;
    assert_int_equal(wb_dec_welcome(p, h.len, &wl2), 0);
    assert_true(wl2.id == 3 && wl2.heartbeat_ms == 1000 && wl2.timeout_ms == 10000 && wl2.dashboard_port == 7879);
    same_plugins(wl2.nplugins, wl2.plugins, 2, enc_plugins);
    wb_m_welcome_free(&wl2);

    /* PLUGINS (driver.c, c_submit) */
    e.len = r.len = 0;
    wb_m_plugins pg = {2, (wb_m_plugin *)enc_plugins};
    assert_int_equal(wb_enc_plugins(&we, &pg), 0);
    s = wb_msg_begin(&wr, WB_M_PLUGINS);
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "datagen");
    wb_wr_str(&wr, "1.0");
    wb_wr_str(&wr, "pver");
    wb_wr_str(&wr, "2+build.7");
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_PLUGINS, &h);
    wb_m_plugins pg2;
    assert_int_equal(wb_dec_plugins(p, h.len, &pg2), 0);
    same_plugins(pg2.nplugins, pg2.plugins, 2, enc_plugins);
    wb_m_plugins_free(&pg2);
    /* no plugins */
    e.len = 0;
    wb_m_plugins none = {0, NULL};
    assert_int_equal(wb_enc_plugins(&we, &none), 0);
    p = payload(&e, &h);
    assert_int_equal(h.len, 4);

    /* WORKERS (head.c, encode_workers): the whole message and entry by entry */
    e.len = r.len = 0;
    wb_m_worker ws[2] = {{1, wb_pstr_z("127.0.0.1"), 5001, 2, 101, 0, 0, NULL},
                         {2, wb_pstr_z("10.1.2.3"), 5002, 8, 102, 1, 1, (wb_m_plugin *)&enc_plugins[1]}};
    wb_m_workers wk = {2, ws};
    assert_int_equal(wb_enc_workers(&we, &wk), 0);
    s = wb_msg_begin(&wr, WB_M_WORKERS);
    wb_wr_u32(&wr, 2);
    for (int i = 0; i < 2; i++) {
        wb_wr_u32(&wr, ws[i].id);
        wb_wr_str(&wr, i ? "10.1.2.3" : "127.0.0.1");
        wb_wr_u16(&wr, ws[i].port);
        wb_wr_u32(&wr, ws[i].threads);
        wb_wr_u32(&wr, ws[i].pid);
        wb_wr_u8(&wr, ws[i].alive); /* the head lists live workers: 1 */
        wb_wr_u32(&wr, ws[i].nplugins);
        if (i) {
            wb_wr_str(&wr, "pver");
            wb_wr_str(&wr, "2+build.7");
        }
    }
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_WORKERS, &h);
    wb_m_workers wk2;
    assert_int_equal(wb_dec_workers(p, h.len, &wk2), 0);
    assert_int_equal(wk2.n, 2);
    for (int i = 0; i < 2; i++) {
        const wb_m_worker *a = &wk2.w[i], *b = &ws[i];
        assert_true(a->id == b->id && a->port == b->port && a->threads == b->threads && a->pid == b->pid &&
                    a->alive == b->alive);
        same_pstr(a->host, b->host);
        same_plugins(a->nplugins, a->plugins, b->nplugins, b->plugins);
    }
    wb_m_workers_free(&wk2);
    wb_list l;
    wb_list_init(&l, WB_M_WORKERS);
    for (int i = 0; i < 2; i++) wb_enc_worker1(&l, &ws[i]);
    e.len = 0;
    assert_int_equal(wb_enc_list(&we, &l), 0);
    same_bytes(&e, &r);
    assert_int_equal(l.n, 0); /* framed: emptied */
    e.len = r.len = 0;
    assert_int_equal(wb_enc_list(&we, &l), 0); /* an empty list is a frame too */
    wb_m_workers nobody = {0, NULL};
    assert_int_equal(wb_enc_workers(&wr, &nobody), 0);
    same_bytes(&e, &r);
    assert_int_equal(e.len, WB_PROTO_HDR + 4);
    wb_list_free(&l);

    /* HEARTBEAT (worker.c, send_heartbeat) */
    e.len = r.len = 0;
    wb_m_heartbeat hb = {1000, 1ull << 33, 17, 3, 9, 12345, 2, -1};
    assert_int_equal(wb_enc_heartbeat(&we, &hb), 0);
    s = wb_msg_begin(&wr, WB_M_HEARTBEAT);
    wb_wr_u64(&wr, 1000);
    wb_wr_u64(&wr, 1ull << 33);
    wb_wr_u64(&wr, 17);
    wb_wr_u32(&wr, 3);
    wb_wr_u32(&wr, 9);
    wb_wr_u64(&wr, 12345);
    wb_wr_u64(&wr, 2);
    wb_wr_i64(&wr, -1);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_HEARTBEAT, &h);
    wb_m_heartbeat hb2;
    assert_int_equal(wb_dec_heartbeat(p, h.len, &hb2), 0);
    assert_memory_equal(&hb2, &hb, sizeof hb);

    /* PING (head.c, driver.c): a header and nothing else; a payload is refused */
    e.len = r.len = 0;
    assert_int_equal(wb_enc_ping(&we), 0);
    s = wb_msg_begin(&wr, WB_M_PING);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    assert_int_equal(e.len, WB_PROTO_HDR);
    p = encoded(&e, WB_M_PING, &h);
    assert_int_equal(wb_dec_ping(p, h.len), 0);
    assert_int_equal(wb_dec_ping("x", 1), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "PING"));

    /* the handshake (net.c): HELLO, AUTH, AUTH_OK, REJECT */
    uint8_t nonce[WB_PROTO_NONCE], mac[WB_PROTO_MAC];
    for (int i = 0; i < WB_PROTO_NONCE; i++) nonce[i] = (uint8_t)(i * 7);
    for (int i = 0; i < WB_PROTO_MAC; i++) mac[i] = (uint8_t)(255 - i);
    e.len = r.len = 0;
    assert_int_equal(wb_enc_hello(&we, WB_ROLE_WORKER, nonce), 0);
    s = wb_msg_begin(&wr, WB_M_HELLO);
    wb_wr_raw(&wr, "WBCL", 4);
    wb_wr_u16(&wr, WB_PROTO_VERSION);
    wb_wr_u8(&wr, WB_ROLE_WORKER);
    wb_wr_raw(&wr, nonce, sizeof nonce);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_HELLO, &h);
    wb_m_hello he;
    assert_int_equal(wb_dec_hello(p, h.len, &he), 0);
    assert_true(he.version == WB_PROTO_VERSION && he.role == WB_ROLE_WORKER);
    assert_memory_equal(he.nonce, nonce, sizeof nonce);
    e.len = r.len = 0;
    assert_int_equal(wb_enc_auth(&we, WB_PROTO_VERSION, WB_ROLE_PEER, nonce, mac), 0);
    s = wb_msg_begin(&wr, WB_M_AUTH);
    wb_wr_raw(&wr, "WBCL", 4);
    wb_wr_u16(&wr, WB_PROTO_VERSION);
    wb_wr_u8(&wr, WB_ROLE_PEER);
    wb_wr_raw(&wr, nonce, sizeof nonce);
    wb_wr_raw(&wr, mac, sizeof mac);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_AUTH, &h);
    wb_m_auth au;
    assert_int_equal(wb_dec_auth(p, h.len, &au), 0);
    assert_true(au.version == WB_PROTO_VERSION && au.role == WB_ROLE_PEER);
    assert_memory_equal(au.nonce, nonce, sizeof nonce);
    assert_memory_equal(au.mac, mac, sizeof mac);
    e.len = r.len = 0;
    assert_int_equal(wb_enc_auth_ok(&we, mac), 0);
    s = wb_msg_begin(&wr, WB_M_AUTH_OK);
    wb_wr_raw(&wr, mac, sizeof mac);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_AUTH_OK, &h);
    uint8_t mac2[WB_PROTO_MAC];
    assert_int_equal(wb_dec_auth_ok(p, h.len, mac2), 0);
    assert_memory_equal(mac2, mac, sizeof mac);
    /* REJECT: a reason longer than a text field is cut to 4095 bytes, as the
     * snprintf into a 4096-byte buffer did */
    char *longmsg = malloc(6001);
    memset(longmsg, 'x', 6000);
    longmsg[6000] = 0;
    e.len = r.len = 0;
    assert_int_equal(wb_enc_reject(&we, WB_ESTATE, longmsg), 0);
    char cut[WB_PROTO_MAX_TEXT];
    snprintf(cut, sizeof cut, "%s", longmsg);
    s = wb_msg_begin(&wr, WB_M_REJECT);
    wb_wr_i32(&wr, WB_ESTATE);
    wb_wr_str(&wr, cut);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_REJECT, &h);
    wb_m_reject rj;
    assert_int_equal(wb_dec_reject(p, h.len, &rj), 0);
    assert_int_equal(rj.code, WB_ESTATE);
    assert_int_equal(rj.msg.len, WB_PROTO_MAX_TEXT - 1);
    free(longmsg);
    wb_buf_free(&e);
    wb_buf_free(&r);
}

static void test_enc_tasks(void **state)
{
    (void)state;
    wb_buf e = {0}, r = {0}, t = {0};
    wb_wr we = {&e, 0}, wr = {&r, 0};
    wb_frame_hdr h;
    /* TASKS (head.c, batch_task): a block sum over two inputs held elsewhere,
     * a plain task without an argument, a task over an input held here */
    const uint32_t holders[3] = {4, 9, 2};
    wb_m_input in0[2] = {{11, 2, holders}, {12, 3, holders}};
    wb_m_input in2[1] = {{13, 0, NULL}};
    wb_m_task tasks[3] = {{100, 0, WB_TASK_BLOCKSUM, 4, -1, 2, 0, 2, in0},
                          {101, 1, WB_TASK_PLAIN, 0, 4096, 0, WB_NO_ARG, 0, NULL},
                          {102, 1, WB_TASK_PLAIN, 0, -1, 1, 0, 1, in2}};
    wb_pstr kn[2] = {wb_pstr_z("core.colsum"), wb_pstr_z("cluster.noop")};
    wb_pstr args[1] = {{"\x01\x02\x03", 3}};
    wb_m_tasks m = {2, kn, 1, args, 3, tasks, NULL};
    for (int type = WB_M_SUBMIT; type <= WB_M_TASKS; type++) {
        e.len = r.len = 0;
        assert_int_equal(wb_enc_tasks(&we, type, &m), 0);
        /* the reference: kernel table, argument table, tasks, as batch_task and flush_tasks wrote them */
        wb_buf kb = {0}, ab = {0};
        wb_wr kw = {&kb, 0}, aw = {&ab, 0}, tw = {&t, 0};
        t.len = 0;
        wb_wr_str(&kw, "core.colsum");
        wb_wr_str(&kw, "cluster.noop");
        wb_wr_bytes(&aw, "\x01\x02\x03", 3);
        for (int i = 0; i < 3; i++) {
            wb_wr_u64(&tw, tasks[i].oid);
            wb_wr_u32(&tw, tasks[i].kernel);
            wb_wr_u8(&tw, tasks[i].mode);
            wb_wr_u64(&tw, tasks[i].sumlen);
            wb_wr_i64(&tw, tasks[i].out_rows);
            wb_wr_u32(&tw, tasks[i].attempt);
            wb_wr_u32(&tw, tasks[i].arg);
            wb_wr_u32(&tw, tasks[i].nin);
            for (uint32_t j = 0; j < tasks[i].nin; j++) {
                wb_wr_u64(&tw, tasks[i].in[j].oid);
                wb_wr_u16(&tw, tasks[i].in[j].nholders);
                for (uint16_t k = 0; k < tasks[i].in[j].nholders; k++) wb_wr_u32(&tw, tasks[i].in[j].holders[k]);
            }
        }
        size_t s = wb_msg_begin(&wr, type);
        wb_wr_u32(&wr, 2);
        wb_wr_raw(&wr, kb.p, kb.len);
        wb_wr_u32(&wr, 1);
        wb_wr_raw(&wr, ab.p, ab.len);
        wb_wr_u32(&wr, 3);
        wb_wr_raw(&wr, t.p, t.len);
        wb_msg_end(&wr, s);
        wb_buf_free(&kb);
        wb_buf_free(&ab);
        same_bytes(&e, &r);
        const unsigned char *p = encoded(&e, type, &h);
        wb_m_tasks d;
        assert_int_equal(wb_dec_tasks(p, h.len, &d), 0);
        assert_true(d.nkernels == 2 && d.nargs == 1 && d.ntasks == 3);
        for (int i = 0; i < 2; i++) same_pstr(d.kernels[i], kn[i]);
        same_pstr(d.args[0], args[0]);
        for (int i = 0; i < 3; i++) {
            const wb_m_task *a = &d.tasks[i], *b = &tasks[i];
            assert_true(a->oid == b->oid && a->kernel == b->kernel && a->mode == b->mode && a->sumlen == b->sumlen &&
                        a->out_rows == b->out_rows && a->attempt == b->attempt && a->arg == b->arg && a->nin == b->nin);
            for (uint32_t j = 0; j < a->nin; j++) {
                assert_true(a->in[j].oid == b->in[j].oid && a->in[j].nholders == b->in[j].nholders);
                for (uint16_t k = 0; k < a->in[j].nholders; k++) assert_int_equal(a->in[j].holders[k], b->in[j].holders[k]);
            }
        }
        wb_m_tasks_free(&d);

        /* the batch built task by task gives the same frame */
        wb_taskbatch tb;
        wb_taskbatch_init(&tb, type);
        assert_int_equal(wb_taskbatch_kernel(&tb, "core.colsum"), 0);
        assert_int_equal(wb_taskbatch_kernel(&tb, "cluster.noop"), 1);
        assert_int_equal(wb_taskbatch_arg(&tb, "\x01\x02\x03", 3), 0);
        for (int i = 0; i < 3; i++) {
            wb_taskbatch_task(&tb, &tasks[i]);
            for (uint32_t j = 0; j < tasks[i].nin; j++)
                wb_taskbatch_input(&tb, tasks[i].in[j].oid, tasks[i].in[j].nholders, tasks[i].in[j].holders);
        }
        assert_int_equal(tb.err, 0);
        e.len = 0;
        assert_int_equal(wb_enc_taskbatch(&we, &tb), 0);
        same_bytes(&e, &r);
        assert_true(tb.nk == 0 && tb.na == 0 && tb.nt == 0 && tb.tasks.len == 0);
        wb_taskbatch_free(&tb);
    }
    wb_buf_free(&e);
    wb_buf_free(&r);
    wb_buf_free(&t);
}

static void test_enc_lists(void **state)
{
    (void)state;
    wb_buf e = {0}, r = {0};
    wb_wr we = {&e, 0}, wr = {&r, 0};
    wb_frame_hdr h;
    const unsigned char *p;
    size_t s;
    wb_list l;

    /* DONE (head.c ob_add_done, worker.c add_done): an inline result, a
     * failure with a message longer than a text field, a partition held on a
     * worker, an inline partition whose labels come as a second piece */
    char *longmsg = malloc(5001), cut[WB_PROTO_MAX_TEXT];
    memset(longmsg, 'e', 5000);
    longmsg[5000] = 0;
    snprintf(cut, sizeof cut, "%s", longmsg);
    double px[6] = {1, 2, 3, 4, 5, 6}, py[2] = {-1, 1};
    wb_wstat sb = {WB_OBJ_BYTES, 0, 5, 0, 0, 0}, none = {0}, sp = {WB_OBJ_PART, 1, 64, 2, 3, 4096};
    wb_m_done1 dd[4] = {{7, 0, 1, sb, {"", 0}, 1, {"hello", 5}},
                        {8, WB_EINVAL, 2, none, wb_pstr_z(longmsg), 0, {"", 0}},
                        {9, 0, 2, enc_part, {"", 0}, 0, {"", 0}},
                        {10, 0, 3, sp, {"", 0}, 1, {(const char *)px, sizeof px}}};
    wb_list_init(&l, WB_M_DONE);
    for (int i = 0; i < 4; i++) wb_enc_done1(&l, &dd[i], i == 3 ? py : NULL, i == 3 ? sizeof py : 0);
    assert_int_equal(wb_enc_list(&we, &l), 0);
    s = wb_msg_begin(&wr, WB_M_DONE);
    wb_wr_u32(&wr, 4);
    wb_wr_u64(&wr, 7);
    wb_wr_i32(&wr, 0);
    wb_wr_u32(&wr, 1);
    wb_wr_wstat(&wr, &sb);
    wb_wr_str(&wr, "");
    wb_wr_u8(&wr, 1);
    wb_wr_bytes(&wr, "hello", 5);
    wb_wr_u64(&wr, 8);
    wb_wr_i32(&wr, WB_EINVAL);
    wb_wr_u32(&wr, 2);
    wb_wr_wstat(&wr, &none);
    wb_wr_str(&wr, cut);
    wb_wr_u8(&wr, 0);
    wb_wr_u64(&wr, 9);
    wb_wr_i32(&wr, 0);
    wb_wr_u32(&wr, 2);
    wb_wr_wstat(&wr, &enc_part);
    wb_wr_str(&wr, "");
    wb_wr_u8(&wr, 0);
    wb_wr_u64(&wr, 10);
    wb_wr_i32(&wr, 0);
    wb_wr_u32(&wr, 3);
    wb_wr_wstat(&wr, &sp);
    wb_wr_str(&wr, "");
    wb_wr_u8(&wr, 1);
    wb_wr_u32(&wr, (uint32_t)(sizeof px + sizeof py));
    wb_wr_raw(&wr, px, sizeof px);
    wb_wr_raw(&wr, py, sizeof py);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_DONE, &h);
    wb_m_done d;
    assert_int_equal(wb_dec_done(p, h.len, &d), 0);
    assert_int_equal(d.n, 4);
    for (int i = 0; i < 4; i++) {
        const wb_m_done1 *a = &d.d[i], *b = &dd[i];
        assert_true(a->oid == b->oid && a->code == b->code && a->worker == b->worker && a->has_inline == b->has_inline);
        same_wstat(&a->stat, &b->stat);
        if (i != 1) same_pstr(a->msg, b->msg);
        if (i == 0) same_pstr(a->data, b->data);
    }
    assert_int_equal(d.d[1].msg.len, WB_PROTO_MAX_TEXT - 1);
    assert_memory_equal(d.d[1].msg.p, longmsg, WB_PROTO_MAX_TEXT - 1);
    assert_int_equal(d.d[3].data.len, 64);
    assert_memory_equal(d.d[3].data.p, px, sizeof px);
    assert_memory_equal(d.d[3].data.p + sizeof px, py, sizeof py);
    wb_m_done_free(&d);
    /* the whole message at once (no second pieces) */
    wb_m_done dm = {3, dd};
    r.len = 0;
    assert_int_equal(wb_enc_done(&wr, &dm), 0);
    wb_list_clear(&l);
    for (int i = 0; i < 3; i++) wb_enc_done1(&l, &dd[i], NULL, 0);
    e.len = 0;
    assert_int_equal(wb_enc_list(&we, &l), 0);
    same_bytes(&e, &r);
    wb_list_free(&l);

    /* PUT_DECL (driver.c put_raw, with the worker) and HOLD (worker.c add_hold) */
    wb_m_obj1 ob[2] = {{5, 2, enc_part}, {6, 3, sb}};
    for (int type = WB_M_PUT_DECL; type <= WB_M_HOLD; type++) {
        int ww = type == WB_M_PUT_DECL;
        if (!ww) ob[0].worker = ob[1].worker = 0;
        wb_m_objs om = {2, ob};
        e.len = r.len = 0;
        assert_int_equal(wb_enc_objs(&we, type, &om), 0);
        s = wb_msg_begin(&wr, type);
        wb_wr_u32(&wr, 2);
        for (int i = 0; i < 2; i++) {
            wb_wr_u64(&wr, ob[i].oid);
            if (ww) wb_wr_u32(&wr, ob[i].worker);
            wb_wr_wstat(&wr, &ob[i].stat);
        }
        wb_msg_end(&wr, s);
        same_bytes(&e, &r);
        p = encoded(&e, type, &h);
        wb_m_objs o2;
        assert_int_equal(wb_dec_objs(p, h.len, ww, &o2), 0);
        assert_int_equal(o2.n, 2);
        for (int i = 0; i < 2; i++) {
            assert_true(o2.o[i].oid == ob[i].oid && o2.o[i].worker == ob[i].worker);
            same_wstat(&o2.o[i].stat, &ob[i].stat);
        }
        wb_m_objs_free(&o2);
        wb_list_init(&l, type);
        for (int i = 0; i < 2; i++) wb_enc_obj1(&l, &ob[i]);
        e.len = 0;
        assert_int_equal(wb_enc_list(&we, &l), 0);
        same_bytes(&e, &r);
        wb_list_free(&l);
    }

    /* object lists: RELEASE (driver.c), DROP, FREED (head.c), LOCATE (driver.c), FETCH (workers, drivers) */
    const int oid_types[] = {WB_M_RELEASE, WB_M_DROP, WB_M_LOCATE, WB_M_FREED, WB_M_FETCH};
    const uint64_t oids[3] = {42, (3ull << 40) | 7, UINT64_MAX};
    for (size_t k = 0; k < sizeof oid_types / sizeof oid_types[0]; k++) {
        int type = oid_types[k];
        e.len = r.len = 0;
        assert_int_equal(wb_enc_oids(&we, type, oids, 3), 0);
        s = wb_msg_begin(&wr, type);
        wb_wr_u32(&wr, 3);
        for (int i = 0; i < 3; i++) wb_wr_u64(&wr, oids[i]);
        wb_msg_end(&wr, s);
        same_bytes(&e, &r);
        p = encoded(&e, type, &h);
        wb_m_oids o2;
        assert_int_equal(wb_dec_oids(p, h.len, &o2), 0);
        assert_int_equal(o2.n, 3);
        for (uint32_t i = 0; i < 3; i++) assert_true(wb_m_oid_at(&o2, i) == oids[i]);
        wb_list_init(&l, type);
        for (int i = 0; i < 3; i++) wb_enc_oid1(&l, oids[i]);
        e.len = 0;
        assert_int_equal(wb_enc_list(&we, &l), 0);
        same_bytes(&e, &r);
        wb_list_free(&l);
    }

    /* location lists: LOCATION, REPUT (head.c ob_add_loc), REPLICATE (driver.c),
     * INPUT_LOST (worker.c add_lost), OBJ_ERR (worker.c serve_fetch) */
    const int loc_types[] = {WB_M_LOCATION, WB_M_REPUT, WB_M_REPLICATE, WB_M_INPUT_LOST, WB_M_OBJ_ERR};
    wb_m_loc1 lc[3] = {{5, 0, 3, 0, {"", 0}},
                       {6, WB_ENOTFOUND, 0, 77, wb_pstr_z("worker 2 does not hold input 4d")},
                       {8, WB_ENET, 1, 9, wb_pstr_z(longmsg)}};
    for (size_t k = 0; k < sizeof loc_types / sizeof loc_types[0]; k++) {
        int type = loc_types[k];
        wb_m_locs lm = {3, lc};
        e.len = r.len = 0;
        assert_int_equal(wb_enc_locs(&we, type, &lm), 0);
        s = wb_msg_begin(&wr, type);
        wb_wr_u32(&wr, 3);
        for (int i = 0; i < 3; i++) {
            wb_wr_u64(&wr, lc[i].oid);
            wb_wr_i32(&wr, lc[i].code);
            wb_wr_u32(&wr, lc[i].worker);
            wb_wr_u64(&wr, lc[i].other);
            wb_wr_str(&wr, i == 2 ? cut : i == 1 ? "worker 2 does not hold input 4d" : "");
        }
        wb_msg_end(&wr, s);
        same_bytes(&e, &r);
        p = encoded(&e, type, &h);
        wb_m_locs l2;
        assert_int_equal(wb_dec_locs(p, h.len, &l2), 0);
        assert_int_equal(l2.n, 3);
        for (int i = 0; i < 3; i++) {
            assert_true(l2.l[i].oid == lc[i].oid && l2.l[i].code == lc[i].code && l2.l[i].worker == lc[i].worker &&
                        l2.l[i].other == lc[i].other);
            if (i < 2) same_pstr(l2.l[i].msg, lc[i].msg);
            else assert_int_equal(l2.l[i].msg.len, WB_PROTO_MAX_TEXT - 1);
        }
        wb_m_locs_free(&l2);
        wb_list_init(&l, type);
        for (int i = 0; i < 3; i++) wb_enc_loc1(&l, &lc[i]);
        e.len = 0;
        assert_int_equal(wb_enc_list(&we, &l), 0);
        same_bytes(&e, &r);
        wb_list_free(&l);
    }

    /* PULL (head.c, wake_waiters) */
    const uint32_t hs[2] = {1, 4};
    wb_m_pull1 pp[2] = {{5, 2, hs}, {6, 1, hs + 1}};
    wb_m_pull pm = {2, pp, NULL};
    e.len = r.len = 0;
    assert_int_equal(wb_enc_pull(&we, &pm), 0);
    s = wb_msg_begin(&wr, WB_M_PULL);
    wb_wr_u32(&wr, 2);
    wb_wr_u64(&wr, 5);
    wb_wr_u16(&wr, 2);
    wb_wr_u32(&wr, 1);
    wb_wr_u32(&wr, 4);
    wb_wr_u64(&wr, 6);
    wb_wr_u16(&wr, 1);
    wb_wr_u32(&wr, 4);
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_PULL, &h);
    wb_m_pull p2;
    assert_int_equal(wb_dec_pull(p, h.len, &p2), 0);
    assert_int_equal(p2.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_true(p2.p[i].oid == pp[i].oid && p2.p[i].nholders == pp[i].nholders);
        for (int k = 0; k < pp[i].nholders; k++) assert_int_equal(p2.p[i].holders[k], pp[i].holders[k]);
    }
    wb_m_pull_free(&p2);
    wb_list_init(&l, WB_M_PULL);
    for (int i = 0; i < 2; i++) wb_enc_pull1(&l, &pp[i]);
    e.len = 0;
    assert_int_equal(wb_enc_list(&we, &l), 0);
    same_bytes(&e, &r);
    wb_list_free(&l);

    /* OBJ (worker.c serve_fetch) and PUT (driver.c send_put) */
    const int obj_types[] = {WB_M_OBJ, WB_M_PUT};
    for (size_t k = 0; k < 2; k++) {
        int type = obj_types[k];
        wb_m_obj om = {(5ull << 40) | 1, enc_part};
        e.len = r.len = 0;
        assert_int_equal(wb_enc_obj(&we, type, &om), 0);
        s = wb_msg_begin(&wr, type);
        wb_wr_u64(&wr, om.oid);
        wb_wr_wstat(&wr, &enc_part);
        wb_msg_end(&wr, s);
        same_bytes(&e, &r);
        p = encoded(&e, type, &h);
        wb_m_obj o2;
        assert_int_equal(wb_dec_obj(p, h.len, &o2), 0);
        assert_true(o2.oid == om.oid);
        same_wstat(&o2.stat, &enc_part);
    }
    free(longmsg);
    wb_buf_free(&e);
    wb_buf_free(&r);
}

static void wr_f64(wb_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    wb_wr_u64(w, u);
}

/* WSTATS (worker.c send_wstats) and JOB (driver.c on_job_timer): the
 * dashboard's messages; names not fit for the wire are made so; bad times,
 * levels and non-finite numbers are refused */
static void test_enc_dashboard(void **state)
{
    (void)state;
    wb_buf e = {0}, r = {0};
    wb_wr we = {&e, 0}, wr = {&r, 0};
    wb_frame_hdr h;
    wb_taskrec t[2] = {{"gbdt.wave", 1, 10.5, 10.75, 1}, {"bad name!", 0, 11.0, 11.0, 0}};
    wb_logrec l[1] = {{12.25, WB_LOG_WARN, "a line"}};
    assert_int_equal(wb_enc_wstats(&we, 20.0, 3.5, 123456789, t, 2, l, 1), 0);
    size_t s = wb_msg_begin(&wr, WB_M_WSTATS);
    wr_f64(&wr, 20.0);
    wr_f64(&wr, 3.5);
    wb_wr_i64(&wr, 123456789);
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "gbdt.wave");
    wb_wr_u16(&wr, 1);
    wr_f64(&wr, 10.5);
    wr_f64(&wr, 10.75);
    wb_wr_u8(&wr, 1);
    wb_wr_str(&wr, "bad_name_");
    wb_wr_u16(&wr, 0);
    wr_f64(&wr, 11.0);
    wr_f64(&wr, 11.0);
    wb_wr_u8(&wr, 0);
    wb_wr_u32(&wr, 1);
    wr_f64(&wr, 12.25);
    wb_wr_u8(&wr, WB_LOG_WARN);
    wb_wr_str(&wr, "a line");
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    const unsigned char *p = encoded(&e, WB_M_WSTATS, &h);
    wb_m_wstats m;
    assert_int_equal(wb_dec_wstats(p, h.len, &m), 0);
    assert_true(m.now == 20.0 && m.cpu == 3.5 && m.rss == 123456789 && m.ntasks == 2 && m.nlogs == 1);
    assert_true(m.tasks[0].thread == 1 && m.tasks[0].start == 10.5 && m.tasks[0].end == 10.75 && m.tasks[0].ok == 1);
    assert_true(m.tasks[0].kernel.len == 9 && !memcmp(m.tasks[0].kernel.p, "gbdt.wave", 9));
    assert_true(m.logs[0].level == WB_LOG_WARN && m.logs[0].time == 12.25 && m.logs[0].msg.len == 6);
    wb_m_wstats_free(&m);
    /* refused: a task ending before it starts, a level above ERROR, NaN */
    r.len = 0;
    s = wb_msg_begin(&wr, WB_M_WSTATS);
    wr_f64(&wr, 1);
    wr_f64(&wr, 1);
    wb_wr_i64(&wr, 0);
    wb_wr_u32(&wr, 1);
    wb_wr_str(&wr, "k");
    wb_wr_u16(&wr, 0);
    wr_f64(&wr, 2);
    wr_f64(&wr, 1);
    wb_wr_u8(&wr, 1);
    wb_wr_u32(&wr, 0);
    wb_msg_end(&wr, s);
    p = payload(&r, &h);
    assert_int_equal(wb_dec_wstats(p, h.len, &m), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "WSTATS message: task 0: bad times"));
    r.len = 0;
    s = wb_msg_begin(&wr, WB_M_WSTATS);
    wr_f64(&wr, 0.0 / 0.0);
    wr_f64(&wr, 1);
    wb_wr_i64(&wr, 0);
    wb_wr_u32(&wr, 0);
    wb_wr_u32(&wr, 0);
    wb_msg_end(&wr, s);
    p = payload(&r, &h);
    assert_int_equal(wb_dec_wstats(p, h.len, &m), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "clock is not a finite number"));
    r.len = 0;
    s = wb_msg_begin(&wr, WB_M_WSTATS);
    wr_f64(&wr, 1);
    wr_f64(&wr, 1);
    wb_wr_i64(&wr, 0);
    wb_wr_u32(&wr, 0);
    wb_wr_u32(&wr, 1);
    wr_f64(&wr, 1);
    wb_wr_u8(&wr, 9);
    wb_wr_str(&wr, "x");
    wb_msg_end(&wr, s);
    p = payload(&r, &h);
    assert_int_equal(wb_dec_wstats(p, h.len, &m), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "log line 0: level 9"));

    /* JOB: the stages, elapsed times from their start */
    wb_jobstage st[2] = {{"gbdt", "", 3, 100, 5.0}, {"tree", "leaf 7", 7, 31, 9.5}};
    e.len = r.len = 0;
    assert_int_equal(wb_enc_job(&we, st, 2, 10.0), 0);
    s = wb_msg_begin(&wr, WB_M_JOB);
    wb_wr_u32(&wr, 2);
    wb_wr_str(&wr, "gbdt");
    wr_f64(&wr, 3);
    wr_f64(&wr, 100);
    wr_f64(&wr, 5.0);
    wb_wr_str(&wr, "");
    wb_wr_str(&wr, "tree");
    wr_f64(&wr, 7);
    wr_f64(&wr, 31);
    wr_f64(&wr, 0.5);
    wb_wr_str(&wr, "leaf 7");
    wb_msg_end(&wr, s);
    same_bytes(&e, &r);
    p = encoded(&e, WB_M_JOB, &h);
    wb_m_job j;
    assert_int_equal(wb_dec_job(p, h.len, &j), 0);
    assert_true(j.n == 2 && j.s[1].done == 7 && j.s[1].total == 31 && j.s[1].elapsed == 0.5 && j.s[1].info.len == 6);
    /* no stages: idle */
    e.len = 0;
    assert_int_equal(wb_enc_job(&we, st, 0, 10.0), 0);
    p = encoded(&e, WB_M_JOB, &h);
    assert_int_equal(wb_dec_job(p, h.len, &j), 0);
    assert_int_equal(j.n, 0);
    /* more stages than allowed */
    r.len = 0;
    s = wb_msg_begin(&wr, WB_M_JOB);
    wb_wr_u32(&wr, WB_PROTO_MAX_STAGES + 1);
    for (int i = 0; i <= WB_PROTO_MAX_STAGES; i++) {
        wb_wr_str(&wr, "s");
        wr_f64(&wr, 0);
        wr_f64(&wr, 0);
        wr_f64(&wr, 0);
        wb_wr_str(&wr, "");
    }
    wb_msg_end(&wr, s);
    p = payload(&r, &h);
    assert_int_equal(wb_dec_job(p, h.len, &j), WB_EPROTO);
    assert_non_null(strstr(wb_errmsg(), "stage count 9 exceeds the limit of 8"));
    wb_buf_free(&e);
    wb_buf_free(&r);
}

/* every message of the list has had its encoder checked above */
static void test_enc_every_message(void **state)
{
    (void)state;
#define WB__SEEN(name, code) \
    if (!enc_seen[code]) fail_msg("the encoder of %s was not checked", #name);
    WB_MSG_LIST(WB__SEEN)
#undef WB__SEEN
}

/* every message type has a code of its own and its name; the version
 * counts the messages added since protocol 2 (WSTATS and JOB in 3, PING in 4) */
static void test_msg_codes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int code;
    } list[] = {
#define WB__ENTRY(name, code) {#name, code},
        WB_MSG_LIST(WB__ENTRY)
#undef WB__ENTRY
    };
    size_t n = sizeof list / sizeof list[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(list[i].code > 0 && list[i].code < 65536);
        assert_string_equal(wb_msg_name(list[i].code), list[i].name);
        for (size_t j = 0; j < i; j++)
            if (list[i].code == list[j].code) fail_msg("%s and %s share code %d", list[i].name, list[j].name, list[i].code);
    }
    assert_int_equal(WB_M_PING, 14);
    assert_int_equal(WB_M_WSTATS, 35);
    assert_int_equal(WB_M_JOB, 36);
    assert_string_equal(wb_msg_name(14), "PING");
    assert_string_equal(wb_msg_name(35), "WSTATS");
    assert_string_equal(wb_msg_name(36), "JOB");
    assert_int_equal(WB_PROTO_VERSION, 4);
    /* the fuzz corpus numbers the types by list order: the newest is last */
    assert_int_equal(list[n - 1].code, WB_M_PING);
}

/* what the dashboards show of a message (wb_redact): an absolute path keeps
 * its last part, a quoted excerpt its quotes; log lines go through it */
static void test_redact(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"/home/ann/private/bad.csv:3:3: bad value \"SECRET\" (expected a number)",
         ".../bad.csv:3:3: bad value \"...\" (expected a number)"},
        {"cannot open '/srv/data/x.npy': no such file", "cannot open '.../x.npy': no such file"},
        {"model (~/models/m.wbm) is damaged", "model (.../m.wbm) is damaged"},
        {"path=/a/b/c, then", "path=.../c, then"},
        {"no folder: /file and a/b/c stay", "no folder: /file and a/b/c stay"},
        {"an empty quote \"\" stays", "an empty quote \"\" stays"},
        {"an open quote \"never closed", "an open quote \"never closed"},
        {"quote \"across\nlines\" kept", "quote \"across\nlines\" kept"},
        {"", ""},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wb_redact(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    /* cut to the space given, always terminated */
    wb_redact("/x/y/abcdefgh", out, 8);
    assert_string_equal(out, ".../abc");
    wb_buf b = {0};
    wb_json_log(&b, 1.5, "worker 2", WB_LOG_WARN, "cannot read /data/p/q.csv: \"row 1\"");
    wb_buf_add(&b, "", 1);
    assert_string_equal((const char *)b.p, "{\"ago\":1.500,\"source\":\"worker 2\",\"level\":\"warning\","
                                           "\"message\":\"cannot read .../q.csv: \\\"...\\\"\"}");
    free(b.p);
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
        cmocka_unit_test(test_results_and_lists), cmocka_unit_test(test_enc_peers),
        cmocka_unit_test(test_enc_tasks),         cmocka_unit_test(test_enc_lists),
        cmocka_unit_test(test_enc_dashboard),     cmocka_unit_test(test_enc_every_message),
        cmocka_unit_test(test_msg_codes),         cmocka_unit_test(test_redact),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_hmac),              cmocka_unit_test(test_token_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
