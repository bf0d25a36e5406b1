/* jconn.h — a Jupyter connection file (JSON, written by the front end that
 * starts the kernel): where the five sockets listen and the signing key. */
#ifndef WB_SHELL_JCONN_H
#define WB_SHELL_JCONN_H

#include <stddef.h>

#include "jmsg.h"

enum { JC_SHELL, JC_CONTROL, JC_IOPUB, JC_STDIN, JC_HB, JC_NPORTS };
extern const char *const jconn_port_names[JC_NPORTS]; /* "shell_port", ... */

typedef struct jconn {
    char transport[8]; /* "tcp" or "ipc" */
    char ip[256];      /* an address (tcp) or a path prefix (ipc) */
    int port[JC_NPORTS];
    jmsg_key key;      /* owned: jconn_free */
} jconn;

/* read path into c. 0, or -1 with a message naming the file and what is
 * wrong in it (line and column for bad JSON; the field, its value and what
 * is allowed otherwise). */
int jconn_read(const char *path, jconn *c, char *err, size_t errcap);
void jconn_free(jconn *c);
/* "tcp://127.0.0.1:5555" or "ipc://PATH-5555" for port i */
void jconn_endpoint(const jconn *c, int i, char *buf, size_t cap);

#endif
