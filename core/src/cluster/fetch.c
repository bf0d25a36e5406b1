/* cluster/fetch.c — the client of a worker's data port: FETCH requests
 * pipelined on one connection, answered in order by OBJ (the object's raw
 * bytes follow, read straight into the owner's buffer) or OBJ_ERR. Workers
 * fetch their inputs with it, drivers their results (see fetch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static void send_fetch(wb_fetcher *f)
{
    size_t n = f->qn - f->qsent;
    if (!n) return;
    wb_wr wr = wb_conn_wr(f->conn);
    wb_enc_oids(&wr, WB_M_FETCH, f->oids + f->qsent, (uint32_t)n);
    wb_conn_mark(f->conn);
    f->qsent = f->qn;
}

static void fc_ready(wb_conn *c)
{
    wb_fetcher *f = c->data;
    f->ready = 1;
    if (f->cb->on_ready) f->cb->on_ready(f);
    send_fetch(f);
}

static int fc_frame(wb_conn *c, int type, const unsigned char *b, size_t n)
{
    wb_fetcher *f = c->data;
    if (f->qh == f->qsent) return wb_seterr(WB_EPROTO, "%s sent %s without a request", c->peer, wb_msg_name(type));
    void *req = f->reqs[f->qh];
    if (type == WB_M_OBJ) {
        wb_m_obj m;
        if (wb_dec_obj(b, n, &m)) return -1;
        if (m.oid != f->oids[f->qh])
            return wb_seterr(WB_EPROTO, "%s sent object %llx for a request of %llx", c->peer,
                             (unsigned long long)m.oid, (unsigned long long)f->oids[f->qh]);
        f->body = f->cb->on_obj(f, req, &m.stat);
        wb_conn_recv_raw(c, f->body, (size_t)m.stat.size, req);
        return 0;
    }
    if (type == WB_M_OBJ_ERR) {
        wb_m_locs m;
        if (wb_dec_locs(b, n, &m)) return -1;
        char em[WB_PROTO_MAX_TEXT + 1] = "";
        if (m.n) wb_pstr_copy(m.l[0].msg, em, sizeof em);
        int code = m.n ? m.l[0].code : WB_ENOTFOUND;
        wb_m_locs_free(&m);
        f->qh++;
        f->cb->on_refused(f, req, code, em);
        return 0;
    }
    return wb_seterr(WB_EPROTO, "%s sent %s on a data connection", c->peer, wb_msg_name(type));
}

static void fc_raw(wb_conn *c, void *ctx)
{
    wb_fetcher *f = c->data;
    unsigned char *buf = f->body;
    f->body = NULL;
    f->qh++;
    f->cb->on_body(f, ctx, buf);
}

static void fc_close(wb_conn *c, int code, const char *why)
{
    wb_fetcher *f = c->data;
    if (!f) return;
    c->data = NULL;
    f->conn = NULL;
    f->ready = 0;
    free(f->body); /* an answer cut short */
    f->body = NULL;
    f->cb->on_close(f, code, why);
    /* requests not answered: the owner sends them elsewhere */
    for (size_t i = f->qh; i < f->qn; i++) f->cb->on_lost(f, f->reqs[i], why);
    free(f->oids);
    free(f->reqs);
    free(f);
}

static const wb_conn_cbs fetcher_cbs = {fc_ready, fc_frame, fc_raw, fc_close};

wb_fetcher *wb_fetcher_open(wb_net *net, uint32_t id, const char *host, int port, int timeout_ms,
                            const wb_fetch_cbs *cb, void *data)
{
    struct sockaddr_storage sa;
    if (wb_resolve_hp(host, port, &sa)) return NULL;
    wb_fetcher *f = calloc(1, sizeof *f);
    if (!f) {
        wb_seterr(WB_ENOMEM, "out of memory");
        return NULL;
    }
    f->id = id;
    f->net = net;
    f->cb = cb;
    f->data = data;
    char name[96];
    snprintf(name, sizeof name, "%s:%d", host, port);
    f->conn = wb_conn_connect(net, (struct sockaddr *)&sa, name, &fetcher_cbs, f, WB_ROLE_PEER, WB_ROLE_WORKER,
                              timeout_ms);
    if (!f->conn) {
        free(f);
        return NULL;
    }
    return f;
}

int wb_fetcher_request(wb_fetcher *f, uint64_t oid, void *req)
{
    if (f->qn == f->qcap) {
        /* answered requests go first */
        if (f->qh) {
            memmove(f->oids, f->oids + f->qh, (f->qn - f->qh) * sizeof *f->oids);
            memmove(f->reqs, f->reqs + f->qh, (f->qn - f->qh) * sizeof *f->reqs);
            f->qn -= f->qh;
            f->qsent -= f->qh;
            f->qh = 0;
        }
        if (f->qn == f->qcap) {
            size_t cap = f->qcap ? f->qcap * 2 : 16;
            uint64_t *oids = realloc(f->oids, cap * sizeof *oids);
            if (oids) f->oids = oids;
            void **reqs = oids ? realloc(f->reqs, cap * sizeof *reqs) : NULL;
            if (!reqs) return wb_seterr(WB_ENOMEM, "out of memory");
            f->reqs = reqs;
            f->qcap = cap;
        }
    }
    f->oids[f->qn] = oid;
    f->reqs[f->qn++] = req;
    if (f->ready) send_fetch(f);
    return 0;
}

void wb_fetcher_close(wb_fetcher *f, int code, const char *why)
{
    if (f->conn) wb_conn_close(f->conn, code, why);
}
