/* cluster/fetch.h — the client of a worker's data port (cluster/fetch.c),
 * shared by workers (fetching their tasks' inputs from other workers) and
 * drivers (fetching results, putting objects).
 *
 * One connection to one worker carries FETCH requests in the order they were
 * made; the worker answers them in that order, each with OBJ followed by the
 * object's raw bytes or with OBJ_ERR. Requests made before the handshake
 * completes wait and go out together once it has. What a request is belongs
 * to the owner: the client keeps its object id and an opaque pointer. */
#ifndef WB_CLUSTER_FETCH_H
#define WB_CLUSTER_FETCH_H

#include "cluster_internal.h"

typedef struct wb_fetcher wb_fetcher;

typedef struct wb_fetch_cbs {
    /* the connection is ready; the requests queued meanwhile go out after
     * this returns (may be NULL) */
    void (*on_ready)(wb_fetcher *f);
    /* the answer to req is an object of this shape: return the buffer its
     * stat->size raw bytes are read into (the owner's), or NULL to read and
     * throw them away (having noted why in req) */
    unsigned char *(*on_obj)(wb_fetcher *f, void *req, const wb_wstat *stat);
    /* req's bytes arrived in buf as on_obj returned it (NULL: thrown away);
     * the request is off the queue */
    void (*on_body)(wb_fetcher *f, void *req, unsigned char *buf);
    /* the worker cannot send req (OBJ_ERR): its code and message; the request
     * is off the queue */
    void (*on_refused)(wb_fetcher *f, void *req, int code, const char *msg);
    /* the connection closed (once): the owner forgets f; on_lost follows for
     * every request not answered, in order, then f is freed */
    void (*on_close)(wb_fetcher *f, int code, const char *why);
    /* req was not answered before the connection closed ("" for an orderly
     * close) */
    void (*on_lost)(wb_fetcher *f, void *req, const char *why);
} wb_fetch_cbs;

struct wb_fetcher {
    uint32_t id;   /* the worker's id */
    wb_net *net;   /* the owner's */
    wb_conn *conn; /* the data connection (a PUT may go out on it too) */
    int ready;     /* the handshake completed */
    const wb_fetch_cbs *cb;
    void *data; /* the owner's */
    /* requests in order: [qh, qsent) sent, [qsent, qn) waiting for the connection */
    uint64_t *oids;
    void **reqs;
    size_t qh, qn, qsent, qcap;
    unsigned char *body; /* where the answer being read goes (on_obj's buffer) */
};

/* connect to the data port of worker id at host:port as a peer (the
 * connection and its handshake bounded by timeout_ms). NULL (message set)
 * when the address does not resolve or no connection can be started;
 * failures later come through on_close. */
wb_fetcher *wb_fetcher_open(wb_net *net, uint32_t id, const char *host, int port, int timeout_ms,
                            const wb_fetch_cbs *cb, void *data);
/* queue a request for object oid (sent at once when the connection is
 * ready); WB_ENOMEM (nothing queued) when the queue cannot grow */
int wb_fetcher_request(wb_fetcher *f, uint64_t oid, void *req);
/* close the connection: on_close and on_lost follow, then f is freed */
void wb_fetcher_close(wb_fetcher *f, int code, const char *why);

#endif
