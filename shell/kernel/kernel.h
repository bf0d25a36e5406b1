/* kernel.h — `wb kernel`: a Jupyter kernel (messaging protocol 5.3 over
 * ZeroMQ) that runs the prompt's Lua. What the parts share:
 *
 *   kernel.c   the sockets, the threads (main: shell and stdin, and Lua;
 *              control; heartbeat), the requests
 *   kio.c      what goes out on iopub: replies and broadcasts, print and
 *              io.write as stream messages, the progress line as a display,
 *              io.read as an input_request
 *   adapter.c  the thin layer over the prompt's machinery: run a chunk,
 *              complete, inspect, is_complete, display (with lua/wb/kernel.lua)
 *   install.c  `wb kernel install`: the kernelspec
 *
 * Lua runs on the main thread only. iopub is shared by the threads under
 * k->pub_mu (ZeroMQ sockets may change threads behind a lock); every other
 * socket stays on the thread that serves it. */
#ifndef WB_SHELL_KERNEL_H
#define WB_SHELL_KERNEL_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "jconn.h"
#include "jmsg.h"

struct lua_State;

/* one entry of the history (history_request) */
typedef struct khist {
    int line;
    char *input;
    char *output; /* text/plain of the result, or NULL */
} khist;

/* a stream's buffered text (print, io.write, C stdio) */
typedef struct kstream {
    const char *name; /* "stdout" or "stderr" */
    int fd;           /* the process's own descriptor, for output outside a request */
    char *buf;
    size_t len, cap;
    double first;     /* when the oldest byte in buf was written */
} kstream;

typedef struct kernel {
    jconn conn;
    void *zctx;
    void *shell, *control, *iopub, *stdin_sock, *hb;
    char session[37];
    FILE *log; /* the kernel's own messages (the process's stderr, as started) */

    pthread_mutex_t pub_mu; /* iopub, the streams, parent, progress */
    json_t *parent;         /* header of the execute_request being run, or NULL */
    int silent;             /* its output is not broadcast */
    kstream out, err;
    FILE *real_stdout, *real_stderr;
    int progress_shown;     /* a progress display exists in this request */
    char progress_id[48];

    /* the execute_request being run, for input_request */
    jmsg_frame *req_ids;
    int req_nids;
    int allow_stdin;

    struct lua_State *L;
    int execution_count;
    khist *hist;
    int nhist, caphist;

    volatile sig_atomic_t stop; /* shutdown asked (shutdown_request, SIGTERM) */
    int restart;
    pthread_t main_thread, control_thread, hb_thread;
} kernel;

/* ---------------------------------------------------------------- kio.c */

/* replace stdout and stderr by streams that send what is written to the
 * notebook while a request runs (outside one: to the process's own
 * descriptors), before Lua opens its io library; undo */
int kio_streams_install(kernel *k);
void kio_streams_restore(kernel *k);
/* a request's output starts (header: its parent for what is published;
 * silent: nothing is) and ends (what is buffered is sent first) */
void kio_begin(kernel *k, json_t *header, int silent);
void kio_end(kernel *k);
/* send the buffered stream text now (stdio flushed first: main thread) */
void kio_flush(kernel *k);
/* from the control thread's clock: send buffered text older than 50 ms */
void kio_tick(kernel *k);
/* the progress line as a display in the notebook */
void kio_progress_install(kernel *k);

/* broadcast on iopub with the current request as parent (content is taken) */
void kio_publish(kernel *k, const char *type, json_t *content);
/* broadcast with the given parent header (NULL: {}) */
void kio_publish_to(kernel *k, json_t *parent, const char *type, json_t *content);
/* a reply to req on sock (content is taken); 0 or -1 */
int kio_reply(kernel *k, void *sock, const jmsg *req, const char *type, json_t *content);
/* receive one message; 0, or -1 after logging why it was dropped (or on
 * EINTR/ETERM/EAGAIN, not logged: errno tells) */
int kio_recv(kernel *k, void *sock, const char *channel, jmsg *m);
/* ask the front end for a line (input_request on stdin); the line
 * (malloc'd) or NULL with *why set: no input allowed, interrupted, shutdown */
char *kio_input(kernel *k, const char *prompt, int password, const char **why);

/* the kernel's log (k->log): "wb kernel: ..." */
void klog(kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ adapter.c */

/* what running a chunk gave */
typedef struct kad_result {
    json_t *bundle; /* the values' MIME bundle, or NULL (nothing to show) */
    json_t *error;  /* {ename, evalue, traceback} on failure, else NULL */
    char *plain;    /* the values' text/plain (history), or NULL */
} kad_result;

/* load wb.kernel and install io.read / wb.display; SIGINT's handler; 0 or -1 */
int kad_init(kernel *k);
/* compile code by the prompt's rule (and a cell's last expression is its
 * result) and run it */
void kad_execute(kernel *k, const char *code, kad_result *r);
void kad_result_free(kad_result *r);
/* user_expressions: {status, data, metadata} or an error dict */
json_t *kad_expression(kernel *k, const char *expr);
/* matches for code with the cursor at byte `cursor`; *start, *end in bytes */
json_t *kad_complete(kernel *k, const char *code, size_t cursor, size_t *start, size_t *end);
/* help for the name at the cursor (malloc'd) or NULL */
char *kad_inspect(kernel *k, const char *code, size_t cursor);
/* "complete", "incomplete" or "invalid" (the rule of kad_execute) */
const char *kad_is_complete(kernel *k, const char *code);
/* a Ctrl-C note to publish (second press), from the signal handler; "" */
const char *kad_take_note(void);
/* stop the running chunk as Ctrl-C does (from the control thread) */
void kad_interrupt(kernel *k);

/* ------------------------------------------------------------ install.c */

int kinstall_main(int argc, char **argv);

#endif
