/* kernel.c — `wb kernel -f CONNECTION_FILE`: the Jupyter kernel's sockets,
 * threads and requests (see kernel.h); `wb kernel install` (install.c).
 *
 * Threads: the main thread serves shell (and stdin while io.read waits) and
 * runs Lua; the control thread serves control (kernel_info, interrupt,
 * shutdown, answered while a cell runs) and sends buffered output every
 * 50 ms; the heartbeat thread echoes. Requests on shell are served one at a
 * time, each between a busy and an idle status on iopub. A message that
 * does not decode (bad signature, bad JSON, too large) is logged and
 * dropped; an unknown type is logged and dropped. */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "../commands.h"
#include "../progress.h"
#include "kernel.h"
#include "wblua.h"

#define MAX_ZMQ_MESSAGE ((int64_t)256 << 20) /* a frame larger than this drops its peer's connection */

static kernel *sig_kernel;

static void on_sigterm(int sig)
{
    (void)sig;
    if (sig_kernel) {
        sig_kernel->stop = 1;
        raise(SIGINT); /* a running cell stops as on an interrupt (only the main thread takes SIGTERM) */
    }
}

/* ------------------------------------------------------------- helpers */

static const char *str_field(json_t *o, const char *name, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : dflt;
}

static int bool_field(json_t *o, const char *name, int dflt)
{
    json_t *v = json_object_get(o, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static long long int_field(json_t *o, const char *name, long long dflt)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* "x_request" -> "x_reply" */
static void reply_type(const char *req, char *out, size_t cap)
{
    size_t n = strlen(req);
    if (n > 8 && strcmp(req + n - 8, "_request") == 0)
        snprintf(out, cap, "%.*s_reply", (int)(n - 8), req);
    else
        snprintf(out, cap, "%s_reply", req);
}

static void status(kernel *k, json_t *parent, const char *state)
{
    kio_publish_to(k, parent, "status", json_pack("{s:s}", "execution_state", state));
}

/* a cursor position (characters) in code -> bytes */
static size_t cursor_bytes(const char *code, long long pos)
{
    size_t len = strlen(code);
    if (pos < 0) return len;
    return jmsg_utf8_offset(code, len, (size_t)pos);
}

/* -------------------------------------------------------- kernel_info */

static json_t *kernel_info(void)
{
    char banner[160];
    snprintf(banner, sizeof banner, "wb %s -- an analysis workbench (Lua %s.%s). help() for help.", WB_VERSION,
             LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:[], s:b}", "status", "ok",
                     "protocol_version", JMSG_PROTOCOL_VERSION, "implementation", "wb", "implementation_version",
                     WB_VERSION, "language_info", "name", "lua", "version",
                     LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "." LUA_VERSION_RELEASE, "mimetype", "text/x-lua",
                     "file_extension", ".lua", "pygments_lexer", "lua", "codemirror_mode", "lua",
                     "nbconvert_exporter", "script", "banner", banner, "help_links", "debugger", 0);
}

/* ------------------------------------------------------------- history */

static void history_add(kernel *k, const char *input, const char *output)
{
    if (k->nhist == k->caphist) {
        int cap = k->caphist ? k->caphist * 2 : 64;
        khist *h = realloc(k->hist, (size_t)cap * sizeof *h);
        if (!h) return;
        k->hist = h;
        k->caphist = cap;
    }
    khist *e = &k->hist[k->nhist];
    e->line = k->execution_count;
    e->input = strdup(input);
    e->output = output ? strdup(output) : NULL;
    if (e->input) k->nhist++;
}

static json_t *history_entry(const khist *e, int output)
{
    if (output) return json_pack("[i, i, [s, s?]]", 1, e->line, e->input, e->output);
    return json_pack("[i, i, s]", 1, e->line, e->input);
}

/* this kernel's history is its session (session 1, or 0 / negative: the
 * current one); lines as execution counts */
static json_t *history(kernel *k, json_t *c)
{
    json_t *out = json_array();
    const char *type = str_field(c, "hist_access_type", "tail");
    int output = bool_field(c, "output", 0);
    long long n = int_field(c, "n", 10);
    if (strcmp(type, "tail") == 0) {
        int from = n >= 0 && n < k->nhist ? k->nhist - (int)n : 0;
        for (int i = from; i < k->nhist; i++) json_array_append_new(out, history_entry(&k->hist[i], output));
    } else if (strcmp(type, "range") == 0) {
        long long session = int_field(c, "session", 0), start = int_field(c, "start", 0),
                  stop = int_field(c, "stop", 0);
        if (session <= 1)
            for (int i = 0; i < k->nhist; i++) {
                int line = k->hist[i].line;
                if (line >= start && (stop <= 0 || line < stop))
                    json_array_append_new(out, history_entry(&k->hist[i], output));
            }
    } else if (strcmp(type, "search") == 0) {
        const char *pattern = str_field(c, "pattern", "*");
        int unique = bool_field(c, "unique", 0);
        /* the last n matches, oldest first */
        int count = 0;
        for (int i = k->nhist - 1; i >= 0 && (n <= 0 || count < n); i--) {
            if (fnmatch(pattern, k->hist[i].input, 0) != 0) continue;
            int dup = 0;
            for (int j = i + 1; unique && j < k->nhist && !dup; j++)
                dup = strcmp(k->hist[j].input, k->hist[i].input) == 0 && fnmatch(pattern, k->hist[j].input, 0) == 0;
            if (dup) continue;
            json_array_insert_new(out, 0, history_entry(&k->hist[i], output));
            count++;
        }
    }
    return json_pack("{s:s, s:o}", "status", "ok", "history", out);
}

/* ------------------------------------------------------------- execute */

static void run_begin(kernel *k, const jmsg *req, int silent, int allow_stdin)
{
    kio_begin(k, req->header, silent);
    k->req_ids = (jmsg_frame *)req->ids;
    k->req_nids = req->nids;
    k->allow_stdin = allow_stdin;
}

static void run_end(kernel *k)
{
    kio_end(k);
    k->req_ids = NULL;
    k->req_nids = 0;
}

/* the requests queued behind a failed cell */
typedef struct queued {
    jmsg *m;
    size_t n, cap;
} queued;

static int serve_shell(kernel *k, const jmsg *m, int aborting);

/* after a failed cell, before anything says it failed: the shell requests
 * already queued are taken (to be answered once the cell's reply is out).
 * A request a client sends once it has seen the error or an "aborted"
 * reply is not among them, and runs. */
static void take_queued(kernel *k, queued *q)
{
    for (;;) {
        if (q->n == q->cap) {
            size_t nc = q->cap ? 2 * q->cap : 16;
            jmsg *g = realloc(q->m, nc * sizeof *g);
            if (!g) return; /* no room: the rest stays queued (and runs) */
            q->m = g;
            q->cap = nc;
        }
        jmsg m;
        if (kio_recv(k, k->shell, "shell", &m) != 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ETERM) break;
            continue;
        }
        q->m[q->n++] = m;
    }
}

/* the taken requests: execute requests are answered "aborted" (as
 * ipykernel does), others are served */
static void answer_queued(kernel *k, queued *q)
{
    for (size_t i = 0; i < q->n; i++) {
        serve_shell(k, &q->m[i], 1);
        jmsg_clear(&q->m[i]);
    }
    free(q->m);
    q->m = NULL;
    q->n = q->cap = 0;
}

/* when the cell failed and stops on error, the requests queued behind it
 * are taken into *q (the caller answers them) */
static void execute(kernel *k, const jmsg *req, queued *q)
{
    json_t *c = req->content;
    const char *code = str_field(c, "code", "");
    int silent = bool_field(c, "silent", 0);
    int store = silent ? 0 : bool_field(c, "store_history", 1);
    int allow_stdin = bool_field(c, "allow_stdin", 1);
    json_t *exprs = json_object_get(c, "user_expressions");
    if (store) k->execution_count++;
    int count = k->execution_count;
    run_begin(k, req, silent, allow_stdin);
    kio_publish(k, "execute_input", json_pack("{s:s, s:i}", "code", code, "execution_count", count));
    kad_result r;
    kad_execute(k, code, &r);
    if (r.error && bool_field(c, "stop_on_error", 1)) take_queued(k, q);
    kio_flush(k);
    json_t *ue = json_object();
    if (!r.error) {
        if (r.bundle && json_object_size(r.bundle) > 0)
            kio_publish(k, "execute_result",
                        json_pack("{s:i, s:O, s:{}}", "execution_count", count, "data", r.bundle, "metadata"));
        const char *name;
        json_t *v;
        if (json_is_object(exprs))
            json_object_foreach(exprs, name, v)
            {
                json_t *res = json_is_string(v) ? kad_expression(k, json_string_value(v))
                                                : json_pack("{s:s, s:s, s:s, s:[s]}", "status", "error", "ename",
                                                            "wb", "evalue", "an expression must be a string",
                                                            "traceback", "wb: an expression must be a string");
                json_object_set_new(ue, name, res);
            }
        kio_flush(k);
    } else {
        kio_publish(k, "error", json_deep_copy(r.error));
    }
    run_end(k);
    if (store) history_add(k, code, r.plain);
    json_t *reply;
    if (!r.error) {
        reply = json_pack("{s:s, s:i, s:o, s:[]}", "status", "ok", "execution_count", count, "user_expressions", ue,
                          "payload");
    } else {
        json_decref(ue);
        reply = json_pack("{s:s, s:i, s:O, s:O, s:O, s:{}, s:[]}", "status", "error", "execution_count", count,
                          "ename", json_object_get(r.error, "ename"), "evalue", json_object_get(r.error, "evalue"),
                          "traceback", json_object_get(r.error, "traceback"), "user_expressions", "payload");
    }
    kio_reply(k, k->shell, req, "execute_reply", reply);
    kad_result_free(&r);
}

/* ------------------------------------------------------------ requests */

static int serve_shell(kernel *k, const jmsg *m, int aborting)
{
    const char *t = m->type;
    json_t *c = m->content;
    char rtype[96];
    reply_type(t, rtype, sizeof rtype);
    int known = 1;
    queued q = {0};
    status(k, m->header, "busy");
    if (strcmp(t, "execute_request") == 0) {
        if (aborting)
            kio_reply(k, k->shell, m, "execute_reply",
                      json_pack("{s:s, s:i}", "status", "aborted", "execution_count", k->execution_count));
        else
            execute(k, m, &q);
    } else if (strcmp(t, "kernel_info_request") == 0) {
        kio_reply(k, k->shell, m, rtype, kernel_info());
    } else if (strcmp(t, "complete_request") == 0) {
        const char *code = str_field(c, "code", "");
        size_t cur = cursor_bytes(code, int_field(c, "cursor_pos", -1)), start, end;
        json_t *matches = kad_complete(k, code, cur, &start, &end);
        kio_reply(k, k->shell, m, rtype,
                  json_pack("{s:o, s:I, s:I, s:{}, s:s}", "matches", matches, "cursor_start",
                            (json_int_t)jmsg_utf8_chars(code, start), "cursor_end",
                            (json_int_t)jmsg_utf8_chars(code, end), "metadata", "status", "ok"));
    } else if (strcmp(t, "inspect_request") == 0) {
        const char *code = str_field(c, "code", "");
        char *text = kad_inspect(k, code, cursor_bytes(code, int_field(c, "cursor_pos", -1)));
        json_t *data = text ? json_pack("{s:o}", "text/plain", jmsg_text(text, strlen(text))) : json_object();
        kio_reply(k, k->shell, m, rtype,
                  json_pack("{s:s, s:b, s:o, s:{}}", "status", "ok", "found", text != NULL, "data", data, "metadata"));
        free(text);
    } else if (strcmp(t, "is_complete_request") == 0) {
        const char *st = kad_is_complete(k, str_field(c, "code", ""));
        json_t *reply = json_pack("{s:s}", "status", st);
        if (strcmp(st, "incomplete") == 0) json_object_set_new(reply, "indent", json_string(""));
        kio_reply(k, k->shell, m, rtype, reply);
    } else if (strcmp(t, "history_request") == 0) {
        kio_reply(k, k->shell, m, rtype, history(k, c));
    } else if (strcmp(t, "comm_info_request") == 0) {
        kio_reply(k, k->shell, m, rtype, json_pack("{s:s, s:{}}", "status", "ok", "comms"));
    } else if (strcmp(t, "shutdown_request") == 0) {
        k->restart = bool_field(c, "restart", 0);
        kio_reply(k, k->shell, m, rtype, json_pack("{s:s, s:b}", "status", "ok", "restart", k->restart));
        k->stop = 1;
    } else {
        known = 0;
    }
    status(k, m->header, "idle");
    if (!known) klog(k, "shell: unknown message type '%s' (session %s): dropped", t, m->session);
    answer_queued(k, &q);
    return 0;
}

static void serve_control(kernel *k, const jmsg *m)
{
    const char *t = m->type;
    char rtype[96];
    reply_type(t, rtype, sizeof rtype);
    status(k, m->header, "busy");
    if (strcmp(t, "kernel_info_request") == 0) {
        kio_reply(k, k->control, m, rtype, kernel_info());
    } else if (strcmp(t, "interrupt_request") == 0) {
        kad_interrupt(k);
        kio_reply(k, k->control, m, rtype, json_pack("{s:s}", "status", "ok"));
    } else if (strcmp(t, "shutdown_request") == 0) {
        k->restart = bool_field(m->content, "restart", 0);
        kio_reply(k, k->control, m, rtype, json_pack("{s:s, s:b}", "status", "ok", "restart", k->restart));
        k->stop = 1;
        kad_interrupt(k); /* a running cell stops; the main thread then leaves */
    } else {
        klog(k, "control: message type '%s' is not served on the control channel (session %s): dropped", t,
             m->session);
    }
    status(k, m->header, "idle");
}

/* ------------------------------------------------------------- threads */

/* started by Jupyter (JPY_PARENT_PID): is that process gone? (as ipykernel:
 * an orphaned kernel leaves, and a cluster it started stops) */
static int parent_gone(void)
{
    static pid_t parent = -1;
    if (parent == -1) {
        const char *s = getenv("JPY_PARENT_PID");
        parent = s && atoi(s) > 1 ? (pid_t)atoi(s) : 0;
    }
    return parent > 0 && getppid() != parent;
}

static void *control_main(void *arg)
{
    kernel *k = arg;
    double last_check = 0;
    while (!k->stop) {
        if (wb_now() - last_check >= 1.0) {
            last_check = wb_now();
            if (parent_gone()) {
                klog(k, "the process that started this kernel is gone: leaving");
                k->stop = 1;
                kad_interrupt(k);
                break;
            }
        }
        zmq_pollitem_t it = {k->control, 0, ZMQ_POLLIN, 0};
        int r = zmq_poll(&it, 1, 50);
        const char *note = kad_take_note();
        if (*note) {
            pthread_mutex_lock(&k->pub_mu);
            json_t *parent = json_incref(k->parent);
            pthread_mutex_unlock(&k->pub_mu);
            if (parent) kio_publish_to(k, parent, "stream", json_pack("{s:s, s:s}", "name", "stderr", "text", note));
            json_decref(parent);
        }
        kio_tick(k);
        if (r < 0) {
            if (errno == ETERM) break;
            continue;
        }
        if (r == 0) continue;
        jmsg m;
        while (kio_recv(k, k->control, "control", &m) == 0) {
            serve_control(k, &m);
            jmsg_clear(&m);
        }
    }
    zmq_close(k->control);
    return NULL;
}

static void *hb_main(void *arg)
{
    kernel *k = arg;
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, k->hb, 0) < 0) {
            zmq_msg_close(&msg);
            if (errno == EINTR) continue;
            break; /* ETERM: the context is shutting down */
        }
        int more = zmq_msg_more(&msg);
        zmq_msg_send(&msg, k->hb, more ? ZMQ_SNDMORE : 0);
        zmq_msg_close(&msg);
    }
    zmq_close(k->hb);
    return NULL;
}

/* ------------------------------------------------------------- serving */

static void *bind_socket(kernel *k, int type, int port_index, char *err, size_t cap)
{
    void *s = zmq_socket(k->zctx, type);
    if (!s) {
        snprintf(err, cap, "cannot make a socket: %s", zmq_strerror(errno));
        return NULL;
    }
    int linger = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    int64_t max = MAX_ZMQ_MESSAGE;
    if (type == ZMQ_ROUTER) zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    char ep[300];
    jconn_endpoint(&k->conn, port_index, ep, sizeof ep);
    if (zmq_bind(s, ep) != 0) {
        snprintf(err, cap, "cannot listen on %s (%s): %s", ep, jconn_port_names[port_index], zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static int serve(const char *path, struct lua_State *(*newstate)(int quiet))
{
    static kernel k_;
    kernel *k = &k_;
    char err[1024];
    int logfd = dup(2);
    k->log = logfd >= 0 ? fdopen(logfd, "w") : NULL;
    if (jconn_read(path, &k->conn, err, sizeof err) != 0) {
        fprintf(stderr, "wb kernel: %s\n", err);
        if (k->log) fclose(k->log);
        return 2;
    }
    pthread_mutex_init(&k->pub_mu, NULL);
    jmsg_uuid(k->session);
    k->main_thread = pthread_self();

    /* ZeroMQ's threads and ours get no SIGINT: the main thread takes it */
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &orig);

    int rc = 1;
    k->zctx = zmq_ctx_new();
    int types[JC_NPORTS] = {ZMQ_ROUTER, ZMQ_ROUTER, ZMQ_PUB, ZMQ_ROUTER, ZMQ_REP};
    void **socks[JC_NPORTS] = {&k->shell, &k->control, &k->iopub, &k->stdin_sock, &k->hb};
    for (int i = 0; i < JC_NPORTS; i++) {
        *socks[i] = k->zctx ? bind_socket(k, types[i], i, err, sizeof err) : NULL;
        if (!*socks[i]) {
            klog(k, "%s", k->zctx ? err : "cannot start ZeroMQ");
            for (int j = 0; j < i; j++) zmq_close(*socks[j]);
            if (k->zctx) zmq_ctx_term(k->zctx);
            jconn_free(&k->conn);
            return 2;
        }
    }
    if (strcmp(k->conn.ip, "127.0.0.1") != 0 && strcmp(k->conn.ip, "localhost") != 0 &&
        strcmp(k->conn.transport, "tcp") == 0)
        klog(k, "listening on %s, not only on this machine (127.0.0.1): messages are signed, not encrypted", k->conn.ip);
    if (kio_streams_install(k) != 0) {
        klog(k, "cannot capture the output streams");
        goto close_sockets;
    }
    status(k, NULL, "starting");
    pthread_create(&k->hb_thread, NULL, hb_main, k);
    pthread_create(&k->control_thread, NULL, control_main, k);

    k->L = newstate(0);
    if (!k->L) {
        klog(k, "cannot start Lua with wb");
        goto stop_threads;
    }
    kio_progress_install(k);
    if (kad_init(k) != 0) goto stop_threads;
    sig_kernel = k;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGINT);
    sigaddset(&unblock, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);

    rc = 0;
    while (!k->stop) {
        zmq_pollitem_t it = {k->shell, 0, ZMQ_POLLIN, 0};
        int r = zmq_poll(&it, 1, 100);
        if (r < 0) {
            if (errno == EINTR) continue;
            klog(k, "shell: %s", zmq_strerror(errno));
            break;
        }
        if (r == 0) continue;
        jmsg m;
        while (!k->stop && kio_recv(k, k->shell, "shell", &m) == 0) {
            serve_shell(k, &m, 0);
            jmsg_clear(&m);
        }
    }
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    wb_shell_progress_output(NULL, NULL);
    lua_close(k->L); /* a cluster the notebook started stops here */
    k->L = NULL;

stop_threads:
    k->stop = 1;
    pthread_join(k->control_thread, NULL);
    kio_streams_restore(k);
close_sockets:
    zmq_close(k->shell);
    zmq_close(k->stdin_sock);
    zmq_close(k->iopub);
    zmq_ctx_shutdown(k->zctx); /* the heartbeat's wait returns */
    if (k->hb_thread) pthread_join(k->hb_thread, NULL);
    else zmq_close(k->hb);
    if (!k->control_thread) zmq_close(k->control);
    zmq_ctx_term(k->zctx);
    for (int i = 0; i < k->nhist; i++) {
        free(k->hist[i].input);
        free(k->hist[i].output);
    }
    free(k->hist);
    jconn_free(&k->conn);
    if (k->log) fclose(k->log);
    return rc;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f, "usage: wb kernel -f CONNECTION_FILE     run the Jupyter kernel (Jupyter starts it so)\n"
               "       wb kernel install [--user | --prefix P] [--name NAME]\n"
               "                                       write the kernelspec so Jupyter lists \"wb (Lua)\"\n");
}

int wb_kernel_main(int argc, char **argv, struct lua_State *(*newstate)(int quiet))
{
    if (argc >= 2 && strcmp(argv[1], "install") == 0) return kinstall_main(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strncmp(argv[i], "--f=", 4) == 0) {
            file = argv[i] + 4;
        } else {
            fprintf(stderr, "wb kernel: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "wb kernel: a connection file is needed (-f FILE)\n");
        usage(stderr);
        return 2;
    }
    return serve(file, newstate);
}
