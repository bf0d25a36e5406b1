/* cluster/dashboard.c — the dashboard: a small HTTP/1.1 server serving the
 * embedded page (share/dashboard) and a JSON status (/api/status) that its
 * owner writes: the head's on the head's loop (wb_dash_start), or any
 * other's on a thread of its own (wb_dashboard_start: the local executor's,
 * for wb.dashboard()). GET and HEAD only; one request per connection;
 * requests are limited in size and time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard_files.h"
#include "head.h"

#define REQ_MAX 8192
/* connections open at once: more get a 503 at once (idle connections held
 * open must not use up the head's descriptors) */
#define DASH_MAX_CONNS 64
static int dash_open;

struct wb_dash {
    uv_tcp_t server;
    wb_dash_status_fn status; /* writes the JSON of /api/status */
    void *ctx;
    /* a server on a thread of its own (wb_dashboard_start) */
    uv_loop_t loop;
    uv_timer_t tick;
    uv_async_t stop;
    wb_dash_tick_fn tickfn;
    pthread_t thread;
};

typedef struct hconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles;
    wb_dash *d;
    char req[REQ_MAX + 1];
    size_t len;
    int answered, sent, eof;
    uv_shutdown_t shut;
} hconn;

typedef struct hwrite {
    uv_write_t req;
    hconn *c;
    char *buf;
} hwrite;

static void hc_closed(uv_handle_t *hd)
{
    hconn *c = hd->data;
    if (--c->handles == 0) {
        free(c);
        dash_open--;
    }
}

static void hc_close(hconn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, hc_closed);
    uv_close((uv_handle_t *)&c->tcp, hc_closed);
}

static void on_shut(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status; /* the client closes its side (or the timer ends it) */
}

/* the answer is out: close now if the client is done sending, else half-close
 * and read what it still sends (closing with unread bytes would reset the
 * connection and lose the answer) */
static void on_sent(uv_write_t *req, int status)
{
    hwrite *w = (hwrite *)req;
    hconn *c = w->c;
    free(w->buf);
    free(w);
    c->sent = 1;
    if (status < 0 || c->eof || uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shut)) hc_close(c);
}

static void respond(hconn *c, int status, const char *reason, const char *type, const char *body, size_t len,
                    int head_only)
{
    c->answered = 1;
    wb_buf b = {0};
    wb_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                  "Connection: close\r\nX-Content-Type-Options: nosniff\r\n"
                  "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
                  "img-src 'self' data:\r\n\r\n",
                  status, reason, type, len);
    if (!head_only && len) wb_buf_add(&b, body, len);
    hwrite *w = calloc(1, sizeof *w);
    if (!w || !b.p) {
        free(w);
        wb_buf_free(&b);
        hc_close(c);
        return;
    }
    w->c = c;
    w->buf = (char *)b.p;
    uv_buf_t ub = uv_buf_init(w->buf, (unsigned)b.len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_sent)) {
        free(w->buf);
        free(w);
        hc_close(c);
    }
}

static void error_page(hconn *c, int status, const char *reason)
{
    char body[200];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
    respond(c, status, reason, "text/plain; charset=utf-8", body, (size_t)n, 0);
}

static const wb_dash_file *find_file(const char *path)
{
    for (const wb_dash_file *f = wb_dash_files; f->path; f++)
        if (strcmp(f->path, path) == 0) return f;
    return NULL;
}

static void handle(hconn *c)
{
    /* request line: METHOD SP TARGET SP HTTP/x.y */
    char *eol = strstr(c->req, "\r\n");
    if (!eol) {
        error_page(c, 400, "Bad Request");
        return;
    }
    *eol = 0;
    char method[16], target[1024], version[16];
    if (sscanf(c->req, "%15s %1023s %15s", method, target, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
        error_page(c, 400, "Bad Request");
        return;
    }
    int head_only = strcmp(method, "HEAD") == 0;
    if (!head_only && strcmp(method, "GET") != 0) {
        error_page(c, 405, "Method Not Allowed");
        return;
    }
    char *q = strchr(target, '?');
    if (q) *q = 0;
    if (strcmp(target, "/api/status") == 0) {
        wb_buf b = {0};
        c->d->status(c->d->ctx, &b);
        respond(c, 200, "OK", "application/json", (const char *)b.p, b.len, head_only);
        wb_buf_free(&b);
        return;
    }
    if (strcmp(target, "/") == 0) snprintf(target, sizeof target, "/index.html");
    const wb_dash_file *f = find_file(target);
    if (!f) {
        error_page(c, 404, "Not Found");
        return;
    }
    if (strcmp(f->path, "/index.html") == 0) {
        /* the first status goes into the page so it renders without a round trip */
        const char *mark = "{\"initial\":null}";
        const char *at = strstr(f->data, mark);
        wb_buf js = {0}, page = {0};
        c->d->status(c->d->ctx, &js);
        if (at) {
            wb_buf_add(&page, f->data, (size_t)(at - f->data));
            for (size_t i = 0; i < js.len; i++) {
                if (js.p[i] == '<') wb_buf_add(&page, "\\u003c", 6); /* never closes the script element */
                else wb_buf_add(&page, &js.p[i], 1);
            }
            const char *rest = at + strlen(mark);
            wb_buf_add(&page, rest, f->len - (size_t)(rest - f->data));
        } else {
            wb_buf_add(&page, f->data, f->len);
        }
        respond(c, 200, "OK", f->type, (const char *)page.p, page.len, head_only);
        wb_buf_free(&js);
        wb_buf_free(&page);
        return;
    }
    respond(c, 200, "OK", f->type, f->data, f->len, head_only);
}

static void hc_alloc(uv_handle_t *hd, size_t sugg, uv_buf_t *buf)
{
    (void)sugg;
    hconn *c = hd->data;
    if (c->answered) { /* what follows the request is read and dropped */
        *buf = uv_buf_init(c->req, REQ_MAX);
        return;
    }
    size_t room = REQ_MAX - c->len;
    *buf = uv_buf_init(c->req + c->len, (unsigned)(room ? room : 1));
    if (!room) *buf = uv_buf_init(NULL, 0);
}

static void hc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    hconn *c = s->data;
    if (c->answered) {
        if (n < 0) {
            c->eof = 1;
            if (c->sent) hc_close(c);
        }
        return;
    }
    if (n < 0) {
        if (n == UV_ENOBUFS) error_page(c, 431, "Request Header Fields Too Large");
        else hc_close(c);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = 0;
    if (memchr(c->req, 0, c->len)) {
        error_page(c, 400, "Bad Request");
        return;
    }
    if (strstr(c->req, "\r\n\r\n")) handle(c);
    else if (c->len >= REQ_MAX) error_page(c, 431, "Request Header Fields Too Large");
}

static void hc_timeout(uv_timer_t *t)
{
    hconn *c = t->data;
    if (!c->answered) error_page(c, 408, "Request Timeout");
    else hc_close(c);
}

static void on_http(uv_stream_t *server, int status)
{
    wb_dash *d = server->data;
    if (status < 0) return;
    hconn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->d = d;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    dash_open++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        hc_close(c);
        return;
    }
    if (dash_open > DASH_MAX_CONNS) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 48\r\nConnection: close\r\n\r\n"
                                   "too many connections to the dashboard (limit 64)";
        uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        hc_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, hc_alloc, hc_read);
    uv_timer_start(&c->timer, hc_timeout, 5000, 0);
}

/* listen on host:port on loop; *bound_port is the port taken */
static int serve(wb_dash *d, uv_loop_t *loop, const char *host, int port, int *bound_port)
{
    struct sockaddr_storage sa;
    if (wb_resolve_hp(host, port, &sa)) return WB_ENET;
    uv_tcp_init(loop, &d->server);
    d->server.data = d;
    int e = uv_tcp_bind(&d->server, (struct sockaddr *)&sa, 0);
    if (!e) e = uv_listen((uv_stream_t *)&d->server, 64, on_http);
    if (e) return wb_seterr(WB_ENET, "cannot serve the dashboard on %s:%d: %s", host, port, uv_strerror(e));
    struct sockaddr_storage b;
    int len = sizeof b;
    uv_tcp_getsockname(&d->server, (struct sockaddr *)&b, &len);
    *bound_port = b.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&b)->sin_port)
                                         : ntohs(((struct sockaddr_in6 *)&b)->sin6_port);
    return 0;
}

/* ---------------------------------------------------- the head's dashboard */

static void head_status(void *ctx, wb_buf *out) { wb_head_status_json(ctx, out); }

int wb_dash_start(wb_head *h, const char *host, int port, int *bound_port)
{
    wb_dash *d = calloc(1, sizeof *d);
    if (!d) return wb_seterr(WB_ENOMEM, "out of memory");
    d->status = head_status;
    d->ctx = h;
    int rc = serve(d, h->loop, host, port, bound_port);
    if (rc) {
        if (uv_is_active((uv_handle_t *)&d->server) || d->server.loop) uv_close((uv_handle_t *)&d->server, (uv_close_cb)free);
        else free(d);
        return rc;
    }
    h->dash = d;
    return 0;
}

static void dash_closed(uv_handle_t *hd) { free(hd->data); }

void wb_dash_stop(wb_head *h)
{
    if (!h->dash) return;
    uv_close((uv_handle_t *)&h->dash->server, dash_closed);
    h->dash = NULL;
}

/* ----------------------------------------- a dashboard on its own thread */

static void on_tick(uv_timer_t *t)
{
    wb_dash *d = t->data;
    if (d->tickfn) d->tickfn(d->ctx);
}

/* close every handle of the thread's loop: the connections through their
 * own close (which frees them), the rest plainly */
static void close_all(uv_handle_t *hd, void *arg)
{
    wb_dash *d = arg;
    if (uv_is_closing(hd)) return;
    if (hd == (uv_handle_t *)&d->server || hd == (uv_handle_t *)&d->tick || hd == (uv_handle_t *)&d->stop)
        uv_close(hd, NULL);
    else if (hd->type == UV_TCP)
        hc_close(hd->data); /* a connection: its timer goes with it */
}

static void on_stop(uv_async_t *a)
{
    wb_dash *d = a->data;
    uv_walk(&d->loop, close_all, d);
}

static void *dash_main(void *arg)
{
    wb_dash *d = arg;
    uv_run(&d->loop, UV_RUN_DEFAULT);
    return NULL;
}

int wb_dashboard_start(const char *host, int port, wb_dash_status_fn status, wb_dash_tick_fn tick, void *ctx,
                       wb_dash **out, int *bound_port)
{
    *out = NULL;
    wb_dash *d = calloc(1, sizeof *d);
    if (!d) return wb_seterr(WB_ENOMEM, "out of memory");
    d->status = status;
    d->tickfn = tick;
    d->ctx = ctx;
    if (uv_loop_init(&d->loop)) {
        free(d);
        return wb_seterr(WB_ENET, "cannot start the dashboard's event loop");
    }
    uv_async_init(&d->loop, &d->stop, on_stop);
    d->stop.data = d;
    uv_timer_init(&d->loop, &d->tick);
    d->tick.data = d;
    int rc = serve(d, &d->loop, host ? host : "127.0.0.1", port, bound_port);
    if (!rc && tick) {
        tick(ctx); /* a first sample now */
        uv_timer_start(&d->tick, on_tick, 1000, 1000);
    }
    if (!rc && pthread_create(&d->thread, NULL, dash_main, d)) rc = wb_seterr(WB_ENOMEM, "cannot start the dashboard's thread");
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        uv_walk(&d->loop, close_all, d);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        free(d);
        return wb_seterr(rc, "%s", msg);
    }
    *out = d;
    return 0;
}

void wb_dashboard_stop(wb_dash *d)
{
    if (!d) return;
    uv_async_send(&d->stop);
    pthread_join(d->thread, NULL);
    uv_loop_close(&d->loop);
    free(d);
}
