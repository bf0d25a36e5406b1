/* jconn.c — the connection file, read with libjansson (see jconn.h). */
#include "jconn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

const char *const jconn_port_names[JC_NPORTS] = {"shell_port", "control_port", "iopub_port", "stdin_port", "hb_port"};

static int fail(char *err, size_t cap, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, const char *path, const char *fmt, ...)
{
    int k = snprintf(err, cap, "connection file %s: ", path);
    if (k < 0 || (size_t)k >= cap) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, cap - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* a JSON value, short, for messages */
static void shown(const json_t *v, char *buf, size_t cap)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(buf, cap, "%.60s%s", s ? s : "nothing", s && strlen(s) > 60 ? "..." : "");
    free(s);
}

static int get_string(json_t *o, const char *name, const char *dflt, char *out, size_t cap, const char *path,
                      char *err, size_t errcap)
{
    json_t *v = json_object_get(o, name);
    if (!v && dflt) {
        snprintf(out, cap, "%s", dflt);
        return 0;
    }
    if (!json_is_string(v)) {
        char s[80];
        shown(v, s, sizeof s);
        return fail(err, errcap, path, "%s must be a string, got %s", name, s);
    }
    if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, errcap, path, "%s is too long or holds a NUL (at most %zu bytes)", name, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

int jconn_read(const char *path, jconn *c, char *err, size_t errcap)
{
    memset(c, 0, sizeof *c);
    json_error_t je;
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errcap, path, "cannot open it: %s", strerror(errno));
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!root) return fail(err, errcap, path, "line %d, column %d: %s", je.line, je.column, je.text);
    int rc = -1;
    char scheme[64];
    if (!json_is_object(root)) {
        fail(err, errcap, path, "a JSON object expected");
        goto done;
    }
    if (get_string(root, "transport", "tcp", c->transport, sizeof c->transport, path, err, errcap)) goto done;
    if (strcmp(c->transport, "tcp") != 0 && strcmp(c->transport, "ipc") != 0) {
        fail(err, errcap, path, "transport must be \"tcp\" or \"ipc\", got \"%s\"", c->transport);
        goto done;
    }
    if (get_string(root, "ip", NULL, c->ip, sizeof c->ip, path, err, errcap)) goto done;
    if (!c->ip[0]) {
        fail(err, errcap, path, "ip is empty (an address such as \"127.0.0.1\" expected)");
        goto done;
    }
    for (int i = 0; i < JC_NPORTS; i++) {
        json_t *v = json_object_get(root, jconn_port_names[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
            char s[80];
            shown(v, s, sizeof s);
            fail(err, errcap, path, "%s must be an integer in 1..65535, got %s", jconn_port_names[i], s);
            goto done;
        }
        c->port[i] = (int)json_integer_value(v);
    }
    if (get_string(root, "signature_scheme", "hmac-sha256", scheme, sizeof scheme, path, err, errcap)) goto done;
    if (strcmp(scheme, "hmac-sha256") != 0) {
        fail(err, errcap, path, "signature_scheme \"%s\" is not supported (allowed: hmac-sha256)", scheme);
        goto done;
    }
    json_t *key = json_object_get(root, "key");
    if (!json_is_string(key)) {
        char s[80];
        shown(key, s, sizeof s);
        fail(err, errcap, path, "key must be a string (empty: messages are not signed), got %s", s);
        goto done;
    }
    c->key.len = json_string_length(key);
    c->key.bytes = malloc(c->key.len + 1);
    if (!c->key.bytes) {
        fail(err, errcap, path, "out of memory");
        goto done;
    }
    memcpy(c->key.bytes, json_string_value(key), c->key.len + 1);
    rc = 0;
done:
    json_decref(root);
    if (rc) jconn_free(c);
    return rc;
}

void jconn_free(jconn *c)
{
    if (c->key.bytes) OPENSSL_cleanse(c->key.bytes, c->key.len);
    free(c->key.bytes);
    c->key.bytes = NULL;
    c->key.len = 0;
}

void jconn_endpoint(const jconn *c, int i, char *buf, size_t cap)
{
    if (strcmp(c->transport, "ipc") == 0)
        snprintf(buf, cap, "ipc://%s-%d", c->ip, c->port[i]);
    else
        snprintf(buf, cap, "tcp://%s:%d", c->ip, c->port[i]);
}
