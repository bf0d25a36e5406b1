/* kio.c — what the kernel sends and receives: replies, iopub broadcasts,
 * the output of print / io.write / C stdio as stream messages, the
 * progress line as a display that is updated in place and cleared when done,
 * and io.read as an input_request (see kernel.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "../progress.h"
#include "kernel.h"
#include "wb/wb.h"

#define STREAM_DELAY 0.05          /* seconds text may wait to be sent with more */
#define STREAM_CHUNK ((size_t)1 << 16) /* bytes sent at once at most */

void klog(kernel *k, const char *fmt, ...)
{
    FILE *f = k && k->log ? k->log : stderr;
    va_list ap;
    va_start(ap, fmt);
    fputs("wb kernel: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    va_end(ap);
}

/* ------------------------------------------------------------- sending */

/* all frames, or none: a signal (an interrupt) does not cut a message */
static int send_frames(void *sock, jmsg_frames *fr)
{
    for (int i = 0; i < fr->n; i++) {
        int r;
        do {
            r = zmq_send(sock, fr->f[i].data, fr->f[i].len, i + 1 < fr->n ? ZMQ_SNDMORE : 0);
        } while (r < 0 && errno == EINTR);
        if (r < 0) return -1;
    }
    return 0;
}

static int send_msg(kernel *k, void *sock, const jmsg_frame *ids, int nids, json_t *parent, const char *type,
                    json_t *content)
{
    json_t *header = jmsg_header(type, k->session, "wb");
    jmsg_frames fr = {0, NULL};
    int rc = -1;
    if (header && content && jmsg_encode(ids, nids, &k->conn.key, header, parent, NULL, content, &fr) == 0) {
        rc = send_frames(sock, &fr);
        if (rc) klog(k, "sending %s failed: %s", type, zmq_strerror(errno));
    } else {
        klog(k, "cannot build a %s message (out of memory?)", type);
    }
    jmsg_frames_free(&fr);
    json_decref(header);
    json_decref(content);
    return rc;
}

/* iopub: the topic frame first ("kernel.SESSION.TYPE"); k->pub_mu held */
static void publish_locked(kernel *k, json_t *parent, const char *type, json_t *content)
{
    char topic[96];
    snprintf(topic, sizeof topic, "kernel.%s.%s", k->session, type);
    jmsg_frame id = {(const unsigned char *)topic, strlen(topic)};
    send_msg(k, k->iopub, &id, 1, parent, type, content);
}

/* the buffered text of one stream as a message; k->pub_mu held */
static void stream_send_locked(kernel *k, kstream *s, int all)
{
    while (s->len > 0) {
        size_t n = s->len < STREAM_CHUNK ? s->len : STREAM_CHUNK;
        size_t cut = jmsg_utf8_cut(s->buf, n);
        if (cut == 0 && !all && n == s->len) break; /* only an unfinished character: wait for the rest */
        if (cut == 0) cut = n;
        if (k->parent && !k->silent)
            publish_locked(k, k->parent, "stream",
                           json_pack("{s:s, s:o}", "name", s->name, "text", jmsg_text(s->buf, cut)));
        memmove(s->buf, s->buf + cut, s->len - cut);
        s->len -= cut;
    }
    s->first = wb_now();
}

static void streams_send_locked(kernel *k)
{
    stream_send_locked(k, &k->out, 1);
    stream_send_locked(k, &k->err, 1);
}

void kio_publish(kernel *k, const char *type, json_t *content)
{
    pthread_mutex_lock(&k->pub_mu);
    streams_send_locked(k); /* what was printed before comes first */
    if (k->parent && !k->silent)
        publish_locked(k, k->parent, type, content);
    else
        json_decref(content);
    pthread_mutex_unlock(&k->pub_mu);
}

void kio_publish_to(kernel *k, json_t *parent, const char *type, json_t *content)
{
    pthread_mutex_lock(&k->pub_mu);
    publish_locked(k, parent, type, content);
    pthread_mutex_unlock(&k->pub_mu);
}

int kio_reply(kernel *k, void *sock, const jmsg *req, const char *type, json_t *content)
{
    return send_msg(k, sock, req->ids, req->nids, req->header, type, content);
}

/* ----------------------------------------------------------- receiving */

int kio_recv(kernel *k, void *sock, const char *channel, jmsg *m)
{
    jmsg_frame fr[JMSG_MAX_FRAMES];
    zmq_msg_t parts[JMSG_MAX_FRAMES];
    int n = 0, more = 1, too_many = 0, rc = -1;
    size_t total = 0;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        int r;
        do { /* once a message has begun, a signal does not cut it (before, EINTR goes to the caller) */
            r = zmq_msg_recv(&part, sock, n == 0 ? ZMQ_DONTWAIT : 0);
        } while (r < 0 && errno == EINTR && n > 0);
        if (r < 0) {
            int e = errno;
            zmq_msg_close(&part);
            if (n > 0) klog(k, "%s: a message broke off: %s", channel, zmq_strerror(e));
            errno = e;
            goto done;
        }
        more = zmq_msg_more(&part);
        total += zmq_msg_size(&part);
        if (n < JMSG_MAX_FRAMES && total <= JMSG_MAX_BYTES) {
            parts[n] = part;
            fr[n].data = zmq_msg_data(&parts[n]);
            fr[n].len = zmq_msg_size(&parts[n]);
            n++;
        } else {
            too_many = 1; /* read to the end, keep nothing more */
            zmq_msg_close(&part);
        }
    }
    char why[256];
    if (too_many) {
        klog(k, "%s: message dropped: more than %d frames or %zu bytes (%zu bytes)", channel, JMSG_MAX_FRAMES,
             JMSG_MAX_BYTES, total);
        errno = EPROTO;
    } else if (jmsg_decode(fr, n, &k->conn.key, m, why, sizeof why) != 0) {
        klog(k, "%s: message dropped: %s", channel, why);
        errno = EPROTO;
    } else {
        rc = 0;
    }
done:
    for (int i = 0; i < n; i++) zmq_msg_close(&parts[i]);
    return rc;
}

/* ------------------------------------------------------------- streams */

static kernel *the_kernel; /* for the stdio cookies and the progress hooks */

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    kstream *s = cookie;
    kernel *k = the_kernel;
    pthread_mutex_lock(&k->pub_mu);
    if (!k->parent || k->silent) {
        /* no request runs: the process's own output (the front end's log) */
        pthread_mutex_unlock(&k->pub_mu);
        size_t off = 0;
        while (off < size) {
            ssize_t w = write(s->fd, buf + off, size - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        return (ssize_t)size;
    }
    if (s->len + size > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + size) cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) {
            pthread_mutex_unlock(&k->pub_mu);
            errno = ENOMEM;
            return -1;
        }
        s->buf = b;
        s->cap = cap;
    }
    if (s->len == 0) s->first = wb_now();
    memcpy(s->buf + s->len, buf, size);
    s->len += size;
    if (s->len >= STREAM_CHUNK || wb_now() - s->first >= STREAM_DELAY) stream_send_locked(k, s, 0);
    pthread_mutex_unlock(&k->pub_mu);
    return (ssize_t)size;
}

static FILE *stream_file(kstream *s)
{
    cookie_io_functions_t io = {NULL, cookie_write, NULL, NULL};
    FILE *f = fopencookie(s, "w", io);
    if (f) setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int kio_streams_install(kernel *k)
{
    the_kernel = k;
    k->out.name = "stdout";
    k->out.fd = 1;
    k->err.name = "stderr";
    k->err.fd = 2;
    FILE *o = stream_file(&k->out), *e = stream_file(&k->err);
    if (!o || !e) {
        if (o) fclose(o);
        if (e) fclose(e);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    k->real_stdout = stdout;
    k->real_stderr = stderr;
    stdout = o; /* glibc's stdout and stderr are variables: Lua's print, io.write and C stdio follow */
    stderr = e;
    return 0;
}

void kio_streams_restore(kernel *k)
{
    if (!k->real_stdout) return;
    fflush(stdout);
    fflush(stderr);
    FILE *o = stdout, *e = stderr;
    stdout = k->real_stdout;
    stderr = k->real_stderr;
    fclose(o);
    fclose(e);
    k->real_stdout = k->real_stderr = NULL;
    free(k->out.buf);
    free(k->err.buf);
    k->out.buf = k->err.buf = NULL;
    k->out.len = k->err.len = k->out.cap = k->err.cap = 0;
}

void kio_flush(kernel *k)
{
    fflush(stdout);
    fflush(stderr);
    pthread_mutex_lock(&k->pub_mu);
    streams_send_locked(k);
    pthread_mutex_unlock(&k->pub_mu);
}

void kio_begin(kernel *k, json_t *header, int silent)
{
    static unsigned long displays;
    pthread_mutex_lock(&k->pub_mu);
    k->parent = json_incref(header);
    k->silent = silent;
    k->progress_shown = 0;
    snprintf(k->progress_id, sizeof k->progress_id, "wb-progress-%.8s-%lu", k->session, ++displays);
    pthread_mutex_unlock(&k->pub_mu);
}

void kio_end(kernel *k)
{
    fflush(stdout);
    fflush(stderr);
    pthread_mutex_lock(&k->pub_mu);
    streams_send_locked(k); /* all of it, before output stops going to the request */
    json_decref(k->parent);
    k->parent = NULL;
    k->silent = 0;
    pthread_mutex_unlock(&k->pub_mu);
}

void kio_tick(kernel *k)
{
    pthread_mutex_lock(&k->pub_mu);
    double now = wb_now();
    if (k->out.len && now - k->out.first >= STREAM_DELAY) stream_send_locked(k, &k->out, 0);
    if (k->err.len && now - k->err.first >= STREAM_DELAY) stream_send_locked(k, &k->err, 0);
    pthread_mutex_unlock(&k->pub_mu);
}

/* ------------------------------------------------------------ progress */

/* the progress line's display: made at its first drawing in a request,
 * then updated (the line, or "" once the work is done) */
static void progress_show(const char *line)
{
    kernel *k = the_kernel;
    pthread_mutex_lock(&k->pub_mu);
    if (k->parent && !k->silent) {
        streams_send_locked(k);
        json_t *c = json_pack("{s:{s:o}, s:{}, s:{s:s}}", "data", "text/plain", jmsg_text(line, strlen(line)),
                              "metadata", "transient", "display_id", k->progress_id);
        publish_locked(k, k->parent, k->progress_shown ? "update_display_data" : "display_data", c);
        k->progress_shown = 1;
    }
    pthread_mutex_unlock(&k->pub_mu);
}

static void progress_draw(const char *line) { progress_show(line); }
static void progress_erase(void)
{
    if (the_kernel->progress_shown) progress_show("");
}

void kio_progress_install(kernel *k)
{
    the_kernel = k;
    wb_shell_progress_output(progress_draw, progress_erase);
}

/* --------------------------------------------------------------- input */

char *kio_input(kernel *k, const char *prompt, int password, const char **why)
{
    *why = NULL;
    if (!k->allow_stdin || !k->parent) {
        *why = "this front end takes no input (the request said allow_stdin = false)";
        return NULL;
    }
    kio_flush(k);
    json_t *parent = json_incref(k->parent);
    send_msg(k, k->stdin_sock, k->req_ids, k->req_nids, parent, "input_request",
             json_pack("{s:s, s:b}", "prompt", prompt ? prompt : "", "password", password));
    char *line = NULL;
    while (!line) {
        if (wb_interrupted()) {
            *why = "interrupted!";
            break;
        }
        if (k->stop) {
            *why = "the kernel is shutting down";
            break;
        }
        zmq_pollitem_t it = {k->stdin_sock, 0, ZMQ_POLLIN, 0};
        int r = zmq_poll(&it, 1, 100);
        if (r < 0) {
            if (errno == EINTR) continue;
            *why = "the input channel failed";
            break;
        }
        if (r == 0) continue;
        jmsg m;
        if (kio_recv(k, k->stdin_sock, "stdin", &m)) continue;
        if (strcmp(m.type, "input_reply") != 0) {
            klog(k, "stdin: unexpected %s (an input_reply awaited): dropped", m.type);
        } else {
            const char *v = json_string_value(json_object_get(m.content, "value"));
            line = strdup(v ? v : "");
            if (!line) *why = "out of memory";
        }
        jmsg_clear(&m);
        if (*why) break;
    }
    json_decref(parent);
    return line;
}
