/* jmsg.h — the Jupyter messaging protocol's wire format (version 5.3), with
 * no sockets: a message's ZeroMQ frames to its parts and back.
 *
 *   [identities...] "<IDS|MSG>" signature header parent_header metadata content [buffers...]
 *
 * The signature is the lowercase hex HMAC-SHA256, keyed with the connection
 * file's key, of the four JSON frames header .. content, as sent; with an
 * empty key messages are neither signed nor checked (as jupyter_client).
 * JSON is read and written with libjansson. The decoder is what faces the
 * network: it refuses a message (with a one-line reason) that is too large,
 * has too many frames, no delimiter, a wrong signature, JSON that does not
 * parse or parts of the wrong type; tests/fuzz/fuzz_jmsg.c fuzzes it. */
#ifndef WB_SHELL_JMSG_H
#define WB_SHELL_JMSG_H

#include <stddef.h>

#include <jansson.h>

#define JMSG_PROTOCOL_VERSION "5.3"
#define JMSG_DELIM "<IDS|MSG>"
/* limits of one message: the bytes of all its frames, the frames, the
 * routing identities before the delimiter */
#define JMSG_MAX_BYTES ((size_t)64 << 20)
#define JMSG_MAX_FRAMES 1024
#define JMSG_MAX_IDS 16

/* a frame: bytes and their length (borrowed by the decoder, owned by a
 * jmsg_frames made by the encoder) */
typedef struct jmsg_frame {
    const unsigned char *data;
    size_t len;
} jmsg_frame;

/* the HMAC key (from the connection file); len 0: no signing */
typedef struct jmsg_key {
    unsigned char *bytes;
    size_t len;
} jmsg_key;

/* a decoded message: every pointer owned by it (jmsg_clear) */
typedef struct jmsg {
    int nids;
    jmsg_frame ids[JMSG_MAX_IDS]; /* routing identities, copied */
    json_t *header, *parent, *metadata, *content;
    int nbuffers;                 /* extra frames after content (not kept) */
    const char *type, *id;        /* header.msg_type and header.msg_id (borrowed from header) */
    const char *session;          /* header.session, or "" */
} jmsg;

/* frames made by jmsg_encode: free with jmsg_frames_free */
typedef struct jmsg_frames {
    int n;
    jmsg_frame *f;
} jmsg_frames;

/* frames -> msg. 0 on success (free with jmsg_clear); -1 with a one-line
 * reason in err (msg left empty). */
int jmsg_decode(const jmsg_frame *frames, int n, const jmsg_key *key, jmsg *msg, char *err, size_t errcap);
void jmsg_clear(jmsg *msg);

/* the signature of four frames into hex (65 bytes: 64 digits and NUL; ""
 * with an empty key); 0 or -1 when OpenSSL fails */
int jmsg_sign(const jmsg_key *key, const jmsg_frame parts[4], char hex[65]);

/* the frames of a message: ids (may be NULL/0), then the delimiter, the
 * signature and the four parts (parent, metadata NULL: {}). 0 or -1 (out
 * of memory, a part that cannot be written). */
int jmsg_encode(const jmsg_frame *ids, int nids, const jmsg_key *key, json_t *header, json_t *parent,
                json_t *metadata, json_t *content, jmsg_frames *out);
void jmsg_frames_free(jmsg_frames *fr);

/* a new header: a fresh msg_id, the date now (UTC, microseconds), the
 * protocol version; NULL when out of memory. The caller owns it. */
json_t *jmsg_header(const char *msg_type, const char *session, const char *username);
/* a JSON string of n bytes of text that may not be UTF-8 (from Lua or C
 * output): bad bytes and NULs become U+FFFD; NULL when out of memory */
json_t *jmsg_text(const char *s, size_t n);
/* the longest prefix of s[0, n) that does not end inside a UTF-8 sequence */
size_t jmsg_utf8_cut(const char *s, size_t n);
/* Jupyter counts cursor positions in characters (code points), Lua in
 * bytes: the byte offset of character `chars` of s[0, n) (n at most), and
 * the characters in the first `bytes` bytes (a bad byte counts as one) */
size_t jmsg_utf8_offset(const char *s, size_t n, size_t chars);
size_t jmsg_utf8_chars(const char *s, size_t bytes);
/* a random UUID (version 4) as 36 characters and NUL */
void jmsg_uuid(char out[37]);

#endif
