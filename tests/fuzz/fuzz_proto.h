/* fuzz_proto.h — what the wire-protocol targets share: decode one message
 * payload with its decoder and check what came out.
 *
 * Properties beyond "no crash":
 *   - a refusal carries WB_EPROTO (or WB_ENOMEM) and a message naming the
 *     message type;
 *   - an accepted message is walked completely (every string, holder, input
 *     and argument the decoder points at is read, so a pointer outside the
 *     buffer shows under ASan);
 *   - an accepted message encodes back to exactly the bytes it came from
 *     (the format is canonical: a decoder that accepts bytes represents
 *     them faithfully) — the encoders here follow the layouts documented in
 *     core/src/cluster/proto.c and proto.h — and the cluster's own encoders
 *     (wb_enc_*) give the same bytes;
 *   - wb_dec_any agrees with the specific decoder. */
#ifndef WB_FUZZ_PROTO_H
#define WB_FUZZ_PROTO_H

#include "fuzz.h"
#include "cluster/proto.h"

static const int fz_types[] = {
#define FZ_T(name, code) code,
    WB_MSG_LIST(FZ_T)
#undef FZ_T
};
#define FZ_NTYPES ((int)(sizeof fz_types / sizeof fz_types[0]))

static void fz_wr_f64(wb_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    wb_wr_u64(w, u);
}

static volatile unsigned fz_sink;

static void fz_touch(const void *p, size_t n)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++) fz_sink += q[i];
}

static void enc_pstr(wb_wr *w, wb_pstr s)
{
    wb_wr_u32(w, s.len);
    wb_wr_raw(w, s.p, s.len);
    fz_touch(s.p, s.len);
}

static void enc_plugins(wb_wr *w, uint32_t n, const wb_m_plugin *p)
{
    wb_wr_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        enc_pstr(w, p[i].name);
        enc_pstr(w, p[i].version);
    }
}

static void enc_objs(wb_wr *w, const wb_m_objs *m, int with_worker)
{
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        wb_wr_u64(w, m->o[i].oid);
        if (with_worker) wb_wr_u32(w, m->o[i].worker);
        wb_wr_wstat(w, &m->o[i].stat);
    }
}

static void enc_locs(wb_wr *w, const wb_m_locs *m)
{
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        wb_wr_u64(w, m->l[i].oid);
        wb_wr_i32(w, m->l[i].code);
        wb_wr_u32(w, m->l[i].worker);
        wb_wr_u64(w, m->l[i].other);
        enc_pstr(w, m->l[i].msg);
    }
}

/* decode payload p of type with its decoder; on success re-encode into w */
static int fz_decode_encode(int type, const unsigned char *p, size_t n, wb_wr *w)
{
    int rc;
    switch (type) {
    case WB_M_HELLO: {
        wb_m_hello m;
        if ((rc = wb_dec_hello(p, n, &m)) != 0) return rc;
        wb_wr_raw(w, WB_PROTO_MAGIC, 4);
        wb_wr_u16(w, m.version);
        wb_wr_u8(w, m.role);
        wb_wr_raw(w, m.nonce, WB_PROTO_NONCE);
        return 0;
    }
    case WB_M_AUTH: {
        wb_m_auth m;
        if ((rc = wb_dec_auth(p, n, &m)) != 0) return rc;
        wb_wr_raw(w, WB_PROTO_MAGIC, 4);
        wb_wr_u16(w, m.version);
        wb_wr_u8(w, m.role);
        wb_wr_raw(w, m.nonce, WB_PROTO_NONCE);
        wb_wr_raw(w, m.mac, WB_PROTO_MAC);
        return 0;
    }
    case WB_M_AUTH_OK: {
        uint8_t mac[WB_PROTO_MAC];
        if ((rc = wb_dec_auth_ok(p, n, mac)) != 0) return rc;
        wb_wr_raw(w, mac, WB_PROTO_MAC);
        return 0;
    }
    case WB_M_REJECT: {
        wb_m_reject m;
        if ((rc = wb_dec_reject(p, n, &m)) != 0) return rc;
        FZ_ASSERT(m.code < 0, "REJECT with code %d accepted", (int)m.code);
        wb_wr_i32(w, m.code);
        enc_pstr(w, m.msg);
        return 0;
    }
    case WB_M_REGISTER: {
        wb_m_register m;
        if ((rc = wb_dec_register(p, n, &m)) != 0) {
            FZ_ASSERT(!m.plugins && !m.kernels, "REGISTER: arrays kept after a failure");
            return rc;
        }
        wb_wr_u32(w, m.threads);
        wb_wr_u64(w, m.mem_limit);
        enc_pstr(w, m.host);
        wb_wr_u16(w, m.port);
        wb_wr_u32(w, m.pid);
        enc_plugins(w, m.nplugins, m.plugins);
        wb_wr_u32(w, m.nkernels);
        for (uint32_t i = 0; i < m.nkernels; i++) enc_pstr(w, m.kernels[i]);
        wb_m_register_free(&m);
        return 0;
    }
    case WB_M_WELCOME: {
        wb_m_welcome m;
        if ((rc = wb_dec_welcome(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.id);
        wb_wr_u32(w, m.heartbeat_ms);
        wb_wr_u32(w, m.timeout_ms);
        wb_wr_u16(w, m.dashboard_port);
        enc_plugins(w, m.nplugins, m.plugins);
        wb_m_welcome_free(&m);
        return 0;
    }
    case WB_M_PLUGINS: {
        wb_m_plugins m;
        if ((rc = wb_dec_plugins(p, n, &m)) != 0) return rc;
        enc_plugins(w, m.nplugins, m.plugins);
        wb_m_plugins_free(&m);
        return 0;
    }
    case WB_M_WORKERS: {
        wb_m_workers m;
        if ((rc = wb_dec_workers(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.n);
        for (uint32_t i = 0; i < m.n; i++) {
            wb_wr_u32(w, m.w[i].id);
            enc_pstr(w, m.w[i].host);
            wb_wr_u16(w, m.w[i].port);
            wb_wr_u32(w, m.w[i].threads);
            wb_wr_u32(w, m.w[i].pid);
            wb_wr_u8(w, m.w[i].alive);
            enc_plugins(w, m.w[i].nplugins, m.w[i].plugins);
        }
        wb_m_workers_free(&m);
        return 0;
    }
    case WB_M_HEARTBEAT: {
        wb_m_heartbeat m;
        if ((rc = wb_dec_heartbeat(p, n, &m)) != 0) return rc;
        wb_wr_u64(w, m.mem_used);
        wb_wr_u64(w, m.mem_limit);
        wb_wr_u64(w, m.objects);
        wb_wr_u32(w, m.running);
        wb_wr_u32(w, m.queued);
        wb_wr_u64(w, m.done);
        wb_wr_u64(w, m.failed);
        wb_wr_i64(w, m.rss);
        return 0;
    }
    case WB_M_SUBMIT:
    case WB_M_TASKS: {
        wb_m_tasks m;
        if ((rc = wb_dec_tasks(p, n, &m)) != 0) {
            FZ_ASSERT(!m.kernels && !m.args && !m.tasks && !m.mem, "TASKS: arrays kept after a failure");
            return rc;
        }
        wb_wr_u32(w, m.nkernels);
        for (uint32_t i = 0; i < m.nkernels; i++) enc_pstr(w, m.kernels[i]);
        wb_wr_u32(w, m.nargs);
        for (uint32_t i = 0; i < m.nargs; i++) enc_pstr(w, m.args[i]);
        wb_wr_u32(w, m.ntasks);
        for (uint32_t i = 0; i < m.ntasks; i++) {
            const wb_m_task *t = &m.tasks[i];
            FZ_ASSERT(t->kernel < m.nkernels, "task %u: kernel %u of %u", i, t->kernel, m.nkernels);
            FZ_ASSERT(t->arg == WB_NO_ARG || t->arg < m.nargs, "task %u: argument %u of %u", i, t->arg, m.nargs);
            wb_wr_u64(w, t->oid);
            wb_wr_u32(w, t->kernel);
            wb_wr_u8(w, t->mode);
            wb_wr_u64(w, t->sumlen);
            wb_wr_i64(w, t->out_rows);
            wb_wr_u32(w, t->attempt);
            wb_wr_u32(w, t->arg);
            wb_wr_u32(w, t->nin);
            FZ_ASSERT(t->nin == 0 || t->in, "task %u: %u inputs without an array", i, t->nin);
            for (uint32_t j = 0; j < t->nin; j++) {
                wb_wr_u64(w, t->in[j].oid);
                wb_wr_u16(w, t->in[j].nholders);
                FZ_ASSERT(t->in[j].nholders == 0 || t->in[j].holders, "input without holders array");
                for (uint16_t k = 0; k < t->in[j].nholders; k++) wb_wr_u32(w, t->in[j].holders[k]);
            }
        }
        wb_m_tasks_free(&m);
        return 0;
    }
    case WB_M_DONE: {
        wb_m_done m;
        if ((rc = wb_dec_done(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.n);
        for (uint32_t i = 0; i < m.n; i++) {
            const wb_m_done1 *d = &m.d[i];
            wb_wr_u64(w, d->oid);
            wb_wr_i32(w, d->code);
            wb_wr_u32(w, d->worker);
            wb_wr_wstat(w, &d->stat);
            enc_pstr(w, d->msg);
            wb_wr_u8(w, d->has_inline);
            if (d->has_inline) {
                FZ_ASSERT(d->data.len == d->stat.size, "inline data of %u bytes for %llu", d->data.len,
                          (unsigned long long)d->stat.size);
                enc_pstr(w, d->data);
            }
        }
        wb_m_done_free(&m);
        return 0;
    }
    case WB_M_PUT_DECL:
    case WB_M_HOLD: {
        wb_m_objs m;
        if ((rc = wb_dec_objs(p, n, type == WB_M_PUT_DECL, &m)) != 0) return rc;
        enc_objs(w, &m, type == WB_M_PUT_DECL);
        wb_m_objs_free(&m);
        return 0;
    }
    case WB_M_RELEASE:
    case WB_M_DROP:
    case WB_M_LOCATE:
    case WB_M_FREED:
    case WB_M_FETCH: {
        wb_m_oids m;
        if ((rc = wb_dec_oids(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.n);
        for (uint32_t i = 0; i < m.n; i++) {
            uint64_t id = wb_m_oid_at(&m, i);
            FZ_ASSERT(id != 0, "object id 0 accepted");
            wb_wr_u64(w, id);
        }
        return 0;
    }
    case WB_M_LOCATION:
    case WB_M_REPUT:
    case WB_M_REPLICATE:
    case WB_M_INPUT_LOST:
    case WB_M_OBJ_ERR: {
        wb_m_locs m;
        if ((rc = wb_dec_locs(p, n, &m)) != 0) return rc;
        enc_locs(w, &m);
        wb_m_locs_free(&m);
        return 0;
    }
    case WB_M_PULL: {
        wb_m_pull m;
        if ((rc = wb_dec_pull(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.n);
        for (uint32_t i = 0; i < m.n; i++) {
            wb_wr_u64(w, m.p[i].oid);
            wb_wr_u16(w, m.p[i].nholders);
            for (uint16_t k = 0; k < m.p[i].nholders; k++) wb_wr_u32(w, m.p[i].holders[k]);
        }
        wb_m_pull_free(&m);
        return 0;
    }
    case WB_M_OBJ:
    case WB_M_PUT: {
        wb_m_obj m;
        if ((rc = wb_dec_obj(p, n, &m)) != 0) return rc;
        wb_wr_u64(w, m.oid);
        wb_wr_wstat(w, &m.stat);
        return 0;
    }
    case WB_M_WSTATS: {
        wb_m_wstats m;
        if ((rc = wb_dec_wstats(p, n, &m)) != 0) return rc;
        fz_wr_f64(w, m.now);
        fz_wr_f64(w, m.cpu);
        wb_wr_i64(w, m.rss);
        wb_wr_u32(w, m.ntasks);
        for (uint32_t i = 0; i < m.ntasks; i++) {
            enc_pstr(w, m.tasks[i].kernel);
            wb_wr_u16(w, m.tasks[i].thread);
            fz_wr_f64(w, m.tasks[i].start);
            fz_wr_f64(w, m.tasks[i].end);
            wb_wr_u8(w, m.tasks[i].ok);
        }
        wb_wr_u32(w, m.nlogs);
        for (uint32_t i = 0; i < m.nlogs; i++) {
            fz_wr_f64(w, m.logs[i].time);
            wb_wr_u8(w, m.logs[i].level);
            enc_pstr(w, m.logs[i].msg);
        }
        wb_m_wstats_free(&m);
        return 0;
    }
    case WB_M_JOB: {
        wb_m_job m;
        if ((rc = wb_dec_job(p, n, &m)) != 0) return rc;
        wb_wr_u32(w, m.n);
        for (uint32_t i = 0; i < m.n; i++) {
            enc_pstr(w, m.s[i].name);
            fz_wr_f64(w, m.s[i].done);
            fz_wr_f64(w, m.s[i].total);
            fz_wr_f64(w, m.s[i].elapsed);
            enc_pstr(w, m.s[i].info);
        }
        return 0;
    }
    case WB_M_PING: return wb_dec_ping(p, n); /* no payload */
    default: return wb_seterr(WB_EPROTO, "unknown message type %d", type);
    }
}

/* the cluster's own encoder (wb_enc_*) writes an accepted message as one
 * frame into w. Returns 1, or 0 for the messages it cannot give back as they
 * came (by design): a text field of WB_PROTO_MAX_TEXT bytes (encoders cut
 * text to one byte less), a HELLO of another version (the encoder writes
 * this one). */
static int fz_product_encode(int type, const unsigned char *p, size_t n, wb_wr *w)
{
    switch (type) {
    case WB_M_HELLO: {
        wb_m_hello m;
        if (wb_dec_hello(p, n, &m) || m.version != WB_PROTO_VERSION) return 0;
        wb_enc_hello(w, m.role, m.nonce);
        return 1;
    }
    case WB_M_AUTH: {
        wb_m_auth m;
        if (wb_dec_auth(p, n, &m)) return 0;
        wb_enc_auth(w, m.version, m.role, m.nonce, m.mac);
        return 1;
    }
    case WB_M_AUTH_OK: {
        uint8_t mac[WB_PROTO_MAC];
        if (wb_dec_auth_ok(p, n, mac)) return 0;
        wb_enc_auth_ok(w, mac);
        return 1;
    }
    case WB_M_REJECT: {
        wb_m_reject m;
        if (wb_dec_reject(p, n, &m) || m.msg.len >= WB_PROTO_MAX_TEXT) return 0;
        char msg[WB_PROTO_MAX_TEXT];
        wb_enc_reject(w, m.code, wb_pstr_copy(m.msg, msg, sizeof msg));
        return 1;
    }
    case WB_M_REGISTER: {
        wb_m_register m;
        if (wb_dec_register(p, n, &m)) return 0;
        wb_enc_register(w, &m);
        wb_m_register_free(&m);
        return 1;
    }
    case WB_M_WELCOME: {
        wb_m_welcome m;
        if (wb_dec_welcome(p, n, &m)) return 0;
        wb_enc_welcome(w, &m);
        wb_m_welcome_free(&m);
        return 1;
    }
    case WB_M_PLUGINS: {
        wb_m_plugins m;
        if (wb_dec_plugins(p, n, &m)) return 0;
        wb_enc_plugins(w, &m);
        wb_m_plugins_free(&m);
        return 1;
    }
    case WB_M_WORKERS: {
        wb_m_workers m;
        if (wb_dec_workers(p, n, &m)) return 0;
        wb_enc_workers(w, &m);
        wb_m_workers_free(&m);
        return 1;
    }
    case WB_M_HEARTBEAT: {
        wb_m_heartbeat m;
        if (wb_dec_heartbeat(p, n, &m)) return 0;
        wb_enc_heartbeat(w, &m);
        return 1;
    }
    case WB_M_SUBMIT:
    case WB_M_TASKS: {
        wb_m_tasks m;
        if (wb_dec_tasks(p, n, &m)) return 0;
        wb_enc_tasks(w, type, &m);
        wb_m_tasks_free(&m);
        return 1;
    }
    case WB_M_DONE: {
        wb_m_done m;
        if (wb_dec_done(p, n, &m)) return 0;
        int ok = 1;
        for (uint32_t i = 0; i < m.n; i++) ok &= m.d[i].msg.len < WB_PROTO_MAX_TEXT;
        if (ok) wb_enc_done(w, &m);
        wb_m_done_free(&m);
        return ok;
    }
    case WB_M_PUT_DECL:
    case WB_M_HOLD: {
        wb_m_objs m;
        if (wb_dec_objs(p, n, type == WB_M_PUT_DECL, &m)) return 0;
        wb_enc_objs(w, type, &m);
        wb_m_objs_free(&m);
        return 1;
    }
    case WB_M_RELEASE:
    case WB_M_DROP:
    case WB_M_LOCATE:
    case WB_M_FREED:
    case WB_M_FETCH: {
        wb_m_oids m;
        if (wb_dec_oids(p, n, &m)) return 0;
        uint64_t *ids = malloc((m.n ? m.n : 1) * sizeof *ids);
        if (!ids) return 0;
        for (uint32_t i = 0; i < m.n; i++) ids[i] = wb_m_oid_at(&m, i);
        wb_enc_oids(w, type, ids, m.n);
        free(ids);
        return 1;
    }
    case WB_M_LOCATION:
    case WB_M_REPUT:
    case WB_M_REPLICATE:
    case WB_M_INPUT_LOST:
    case WB_M_OBJ_ERR: {
        wb_m_locs m;
        if (wb_dec_locs(p, n, &m)) return 0;
        int ok = 1;
        for (uint32_t i = 0; i < m.n; i++) ok &= m.l[i].msg.len < WB_PROTO_MAX_TEXT;
        if (ok) wb_enc_locs(w, type, &m);
        wb_m_locs_free(&m);
        return ok;
    }
    case WB_M_PULL: {
        wb_m_pull m;
        if (wb_dec_pull(p, n, &m)) return 0;
        wb_enc_pull(w, &m);
        wb_m_pull_free(&m);
        return 1;
    }
    case WB_M_OBJ:
    case WB_M_PUT: {
        wb_m_obj m;
        if (wb_dec_obj(p, n, &m)) return 0;
        wb_enc_obj(w, type, &m);
        return 1;
    }
    case WB_M_PING:
        if (wb_dec_ping(p, n)) return 0;
        wb_enc_ping(w);
        return 1;
    default: return 0;
    }
}

/* the name a decoder gives in its messages (messages sharing a layout share
 * a decoder) */
static const char *fz_decoder_name(int type)
{
    switch (type) {
    case WB_M_SUBMIT: return "TASKS";
    case WB_M_PUT: return "OBJ";
    case WB_M_RELEASE:
    case WB_M_DROP:
    case WB_M_LOCATE:
    case WB_M_FREED:
    case WB_M_FETCH: return "object list";
    case WB_M_LOCATION:
    case WB_M_REPUT:
    case WB_M_REPLICATE:
    case WB_M_INPUT_LOST:
    case WB_M_OBJ_ERR: return "location list";
    default: return wb_msg_name(type);
    }
}

/* one payload: decode, check, re-encode, compare */
static void fz_message(int type, const unsigned char *p, size_t n)
{
    wb_buf b = {0};
    wb_wr w = {&b, 0};
    wb_clearerr();
    int rc = fz_decode_encode(type, p, n, &w);
    fz_check_err(rc, "decode");
    const char *name = wb_msg_name(type);
    if (rc) {
        FZ_ASSERT(rc == WB_EPROTO || rc == WB_ENOMEM, "%s refused with %s", name ? name : "?", wb_errname(rc));
        FZ_ASSERT(!name || strncmp(wb_errmsg(), fz_decoder_name(type), strlen(fz_decoder_name(type))) == 0,
                  "the refusal of %s does not start with \"%s\": %s", name, fz_decoder_name(type), wb_errmsg());
    } else {
        fz_accepted = 1;
        FZ_ASSERT(!w.err, "re-encoding failed");
        FZ_ASSERT(b.len == n && (n == 0 || memcmp(b.p, p, n) == 0),
                  "%s: accepted %zu bytes that encode back to %zu different bytes", name, n, b.len);
        /* and the cluster's own encoder agrees, in a frame of the type */
        wb_buf f = {0};
        wb_wr wf = {&f, 0};
        if (fz_product_encode(type, p, n, &wf)) {
            wb_frame_hdr h;
            FZ_ASSERT(!wf.err && f.len >= WB_PROTO_HDR && wb_frame_decode(f.p, WB_PROTO_MAX_FRAME, &h) == 0,
                      "%s: the encoder wrote no frame", name);
            FZ_ASSERT(h.type == type && h.len == n && f.len == n + WB_PROTO_HDR &&
                          (n == 0 || memcmp(f.p + WB_PROTO_HDR, p, n) == 0),
                      "%s: wb_enc_* gives %u other bytes for %zu accepted ones", name, (unsigned)h.len, n);
        }
        wb_buf_free(&f);
    }
    int any = wb_dec_any(type, p, n);
    FZ_ASSERT((any == 0) == (rc == 0), "%s: wb_dec_any gives %s, the decoder %s", name ? name : "?",
              wb_errname(any), wb_errname(rc));
    wb_buf_free(&b);
}

#endif
