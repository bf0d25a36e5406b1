/* cluster/dashboard.c — the dashboard: a small HTTP/1.1 server serving the
 * embedded page (share/dashboard) and a JSON status (/api/status) that its
 * owner writes: the head's on the head's loop (wb_dash_start), or any
 * other's on a thread of its own (wb_dashboard_start: the local executor's,
 * for wb.dashboard()); both are the same server. GET and HEAD only; one
 * request per connection; requests are limited in size and time, and every
 * connection ends within a bounded time whatever the client does (also
 * after the answer, when the client keeps its side open). Requests name a
 * Host the dashboard answers for (loopback names, its own address, or the
 * names its owner allows: --dashboard-allow-host, wb.dashboard{allow_hosts}):
 * a web page elsewhere cannot read the status through a DNS name of its own
 * pointed at the server (DNS rebinding). A request without Host (no browser
 * sends one) is answered. The messages it shows (errors, log lines) come
 * without the folders of paths and without quoted excerpts of files
 * (wb_redact, applied by the status writers). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dashboard_files.h"
#include "head.h"

#define REQ_MAX 8192
/* connections open at once: more get a 503 at once (idle connections held
 * open must not use up the head's descriptors) */
#define DASH_MAX_CONNS 64
/* time to send a request, to take the answer, and to close after it */
#define DASH_REQUEST_MS 5000
#define DASH_WRITE_MS 10000
#define DASH_LINGER_MS 2000

typedef struct hconn hconn;

struct wb_dash {
    uv_tcp_t server;
    int listening;            /* server initialised (closed by dash_close) */
    int server_closed;        /* its close callback ran */
    wb_dash_status_fn status; /* writes the JSON of /api/status */
    void *ctx;
    char bound[96];           /* the address it listens on, without the port */
    char given[128];          /* the host it was asked to listen on */
    char *allow;              /* more Host names, "a,b" ("*": any); owned */
    const char *allow_how;    /* how to allow a name, for the 403 */
    hconn *conns;             /* its open connections */
    int nconns;
    /* a server on a thread of its own (wb_dashboard_start): its loop owns
     * the struct, freed by wb_dashboard_stop once the thread ended */
    int threaded;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_async_t stop;
    wb_dash_tick_fn tickfn;
    pthread_t thread;
};

struct hconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles;
    wb_dash *d;
    hconn *prev, *next; /* in d->conns */
    char req[REQ_MAX + 1];
    size_t len;
    int answered, sent, eof;
    uv_shutdown_t shut;
};

typedef struct hwrite {
    uv_write_t req;
    hconn *c;
    char *buf;
} hwrite;

static void dash_free(wb_dash *d)
{
    free(d->allow);
    free(d);
}

static void hc_closed(uv_handle_t *hd)
{
    hconn *c = hd->data;
    if (--c->handles) return;
    wb_dash *d = c->d;
    if (c->prev) c->prev->next = c->next;
    else d->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    d->nconns--;
    free(c);
    /* a stopped server on the head's loop goes with its last connection */
    if (d->server_closed && !d->conns && !d->threaded) dash_free(d);
}

static void hc_close(hconn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, hc_closed);
    uv_close((uv_handle_t *)&c->tcp, hc_closed);
}

static void hc_timeout_cb(uv_timer_t *t);

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
    if (status < 0 || c->eof || uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shut)) {
        hc_close(c);
        return;
    }
    /* half-closed: the client has a moment to close its side, then it goes */
    uv_timer_start(&c->timer, hc_timeout_cb, DASH_LINGER_MS, 0);
}

static void respond(hconn *c, int status, const char *reason, const char *type, const char *body, size_t len,
                    int head_only)
{
    c->answered = 1;
    uv_timer_start(&c->timer, hc_timeout_cb, DASH_WRITE_MS, 0); /* a client that does not read */
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

/* ------------------------------------------------------------ Host names */

/* name (without a port) equals one of the comma-separated list */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        while (k && (*p == ' ')) p++, k--;
        while (k && p[k - 1] == ' ') k--;
        if ((k == 1 && *p == '*') || (k == n && strncasecmp(p, name, n) == 0)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static int loopback_name(const char *h)
{
    if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost.") || !strcmp(h, "::1")) return 1;
    unsigned a, b, c, d;
    char tail;
    return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

/* the Host header's value (NULL: none; *bad set when malformed or repeated) */
static const char *find_host(char *headers, int *bad, char *out, size_t cap)
{
    const char *found = NULL;
    *bad = 0;
    for (char *p = headers; p && *p;) {
        char *e = strstr(p, "\r\n");
        if (e == p) break; /* the empty line: the end of the headers */
        if (e) *e = 0;
        if (!strncasecmp(p, "host:", 5)) {
            if (found) *bad = 1;
            char *v = p + 5;
            while (*v == ' ' || *v == '\t') v++;
            size_t k = strlen(v);
            while (k && (v[k - 1] == ' ' || v[k - 1] == '\t')) k--;
            if (!k || k >= cap) *bad = 1;
            else {
                memcpy(out, v, k);
                out[k] = 0;
                found = out;
            }
        }
        if (e) *e = '\r';
        p = e ? e + 2 : NULL;
    }
    return found;
}

/* may the dashboard answer a request for this Host? */
static int host_allowed(const wb_dash *d, const char *host)
{
    char name[300];
    snprintf(name, sizeof name, "%s", host);
    /* without its port: "[v6]:p", "name:p" */
    if (name[0] == '[') {
        char *rb = strchr(name, ']');
        if (!rb || (rb[1] && rb[1] != ':')) return 0;
        *rb = 0;
        memmove(name, name + 1, strlen(name));
    } else {
        char *colon = strchr(name, ':');
        if (colon) *colon = 0;
    }
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_:", *p)) return 0;
    if (!name[0]) return 0;
    if (loopback_name(name)) return 1;
    if (!strcasecmp(name, d->bound) || !strcasecmp(name, d->given)) return 1;
    return d->allow && in_list(d->allow, name);
}

static void forbidden_host(hconn *c, const char *host)
{
    char shown[104];
    size_t k = 0;
    for (const char *p = host; *p && k < 100; p++) shown[k++] = (*p >= 0x21 && *p <= 0x7e) ? *p : '?';
    shown[k] = 0;
    char body[600];
    int n = snprintf(body, sizeof body,
                     "403 Forbidden\nthis dashboard answers only for its own address and loopback names, not for "
                     "Host '%s' (to allow a name: %s)\n",
                     shown, c->d->allow_how);
    respond(c, 403, "Forbidden", "text/plain; charset=utf-8", body, (size_t)n, 0);
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
    char host[300];
    int bad;
    const char *hv = find_host(eol + 2, &bad, host, sizeof host);
    if (bad) {
        error_page(c, 400, "Bad Request");
        return;
    }
    if (hv && !host_allowed(c->d, hv)) {
        forbidden_host(c, hv);
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

static void hc_timeout_cb(uv_timer_t *t)
{
    hconn *c = t->data;
    if (!c->answered) error_page(c, 408, "Request Timeout");
    else hc_close(c); /* the answer not taken, or the client kept its side open */
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
    c->next = d->conns;
    if (d->conns) d->conns->prev = c;
    d->conns = c;
    d->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        hc_close(c);
        return;
    }
    if (d->nconns > DASH_MAX_CONNS) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 48\r\nConnection: close\r\n\r\n"
                                   "too many connections to the dashboard (limit 64)";
        uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        hc_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, hc_alloc, hc_read);
    uv_timer_start(&c->timer, hc_timeout_cb, DASH_REQUEST_MS, 0);
}

/* close the server and its connections; on the head's loop the struct is
 * freed once all of them closed */
static void server_closed(uv_handle_t *hd)
{
    wb_dash *d = hd->data;
    d->server_closed = 1;
    if (!d->conns && !d->threaded) dash_free(d);
}

static void dash_close(wb_dash *d)
{
    for (hconn *c = d->conns; c; c = c->next) hc_close(c); /* frees them later, in their callbacks */
    if (d->listening && !uv_is_closing((uv_handle_t *)&d->server)) uv_close((uv_handle_t *)&d->server, server_closed);
    else if (!d->listening && !d->threaded) dash_free(d);
}

/* a new server: its status writer, the names it answers for besides its own */
static wb_dash *dash_new(wb_dash_status_fn status, void *ctx, const char *allow_hosts, const char *allow_how)
{
    wb_dash *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->status = status;
    d->ctx = ctx;
    d->allow_how = allow_how;
    if (allow_hosts && *allow_hosts && !(d->allow = wb_strdup(allow_hosts))) {
        free(d);
        return NULL;
    }
    return d;
}

/* listen on host:port on loop; *bound_port is the port taken */
static int serve(wb_dash *d, uv_loop_t *loop, const char *host, int port, int *bound_port)
{
    struct sockaddr_storage sa;
    if (wb_resolve_hp(host, port, &sa)) return WB_ENET;
    snprintf(d->given, sizeof d->given, "%s", host);
    uv_tcp_init(loop, &d->server);
    d->server.data = d;
    d->listening = 1;
    int e = uv_tcp_bind(&d->server, (struct sockaddr *)&sa, 0);
    if (!e) e = uv_listen((uv_stream_t *)&d->server, 64, on_http);
    if (e) return wb_seterr(WB_ENET, "cannot serve the dashboard on %s:%d: %s", host, port, uv_strerror(e));
    struct sockaddr_storage b;
    int len = sizeof b;
    uv_tcp_getsockname(&d->server, (struct sockaddr *)&b, &len);
    char ba[128];
    wb_addr_str((struct sockaddr *)&b, ba, sizeof ba);
    char *colon = strrchr(ba, ':');
    if (colon) *colon = 0;
    if (ba[0] == '[') {
        memmove(ba, ba + 1, strlen(ba));
        char *rb = strchr(ba, ']');
        if (rb) *rb = 0;
    }
    snprintf(d->bound, sizeof d->bound, "%s", ba);
    *bound_port = b.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&b)->sin_port)
                                         : ntohs(((struct sockaddr_in6 *)&b)->sin6_port);
    return 0;
}

/* ---------------------------------------------------- the head's dashboard */

static void head_status(void *ctx, wb_buf *out) { wb_head_status_json(ctx, out); }

int wb_dash_start(wb_head *h, const char *host, int port, const char *allow_hosts, int *bound_port)
{
    wb_dash *d = dash_new(head_status, h, allow_hosts, "wb head --dashboard-allow-host NAME");
    if (!d) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = serve(d, h->loop, host, port, bound_port);
    if (rc) {
        dash_close(d);
        return rc;
    }
    h->dash = d;
    return 0;
}

void wb_dash_stop(wb_head *h)
{
    if (!h->dash) return;
    dash_close(h->dash);
    h->dash = NULL;
}

/* ----------------------------------------- a dashboard on its own thread */

static void on_tick(uv_timer_t *t)
{
    wb_dash *d = t->data;
    if (d->tickfn) d->tickfn(d->ctx);
}

/* close every handle of the thread's loop (the connections through their
 * own close, which frees them): the loop then ends */
static void close_thread_loop(wb_dash *d)
{
    dash_close(d);
    if (!uv_is_closing((uv_handle_t *)&d->tick)) uv_close((uv_handle_t *)&d->tick, NULL);
    if (!uv_is_closing((uv_handle_t *)&d->stop)) uv_close((uv_handle_t *)&d->stop, NULL);
}

static void on_stop(uv_async_t *a) { close_thread_loop(a->data); }

static void *dash_main(void *arg)
{
    wb_dash *d = arg;
    uv_run(&d->loop, UV_RUN_DEFAULT);
    return NULL;
}

int wb_dashboard_start(const char *host, int port, const char *allow_hosts, wb_dash_status_fn status,
                       wb_dash_tick_fn tick, void *ctx, wb_dash **out, int *bound_port)
{
    *out = NULL;
    wb_dash *d = dash_new(status, ctx, allow_hosts, "wb.dashboard{allow_hosts = \"NAME\"}");
    if (!d) return wb_seterr(WB_ENOMEM, "out of memory");
    d->threaded = 1;
    d->tickfn = tick;
    if (uv_loop_init(&d->loop)) {
        dash_free(d);
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
        close_thread_loop(d);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        dash_free(d);
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
    dash_free(d);
}
