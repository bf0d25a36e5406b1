/* fuzz_jmsg.c — the Jupyter kernel's message decoder (shell/kernel/jmsg.c),
 * which reads what arrives on the kernel's sockets.
 *
 * Input: a flags byte, then frames, each a 2-byte little-endian length and
 * its bytes (a length past the end takes what is left). Flags: bit 0, the
 * harness signs the message itself (the frame after the delimiter becomes
 * the right signature, so the JSON parts are reached); bit 1, the key is
 * empty (no signing). The key is otherwise "fuzz-key" (the seeds of
 * make_seeds.py are signed with it by Python's hmac).
 *
 * Properties: a refusal has a reason; a message accepted under a key
 * carries the right signature; an accepted message has an object header
 * with msg_type and msg_id strings and object parts, at most JMSG_MAX_IDS
 * identities; encoding it again and decoding gives the same identities and
 * equal parts. The text helpers over the input's bytes: jmsg_text gives a
 * JSON string for any bytes; jmsg_utf8_cut keeps all but at most 3 bytes;
 * counting characters and finding their offset agree at the end. */
#include <stdint.h>

#include "fuzz.h"
#include "jmsg.h"

#define KEY "fuzz-key"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int flags = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    jmsg_frame fr[64];
    int n = 0;
    while (p + 2 <= end && n < 64) {
        size_t len = (size_t)p[0] | (size_t)p[1] << 8;
        p += 2;
        if (len > (size_t)(end - p)) len = (size_t)(end - p);
        fr[n].data = p;
        fr[n].len = len;
        n++;
        p += len;
    }
    jmsg_key key = {(unsigned char *)KEY, (flags & 2) ? 0 : sizeof KEY - 1};
    /* the harness's own signature: the frame after the first delimiter */
    char hex[65];
    if ((flags & 1) && key.len) {
        for (int i = 0; i + 5 < n && i <= JMSG_MAX_IDS; i++)
            if (fr[i].len == 9 && memcmp(fr[i].data, JMSG_DELIM, 9) == 0) {
                FZ_ASSERT(jmsg_sign(&key, &fr[i + 2], hex) == 0, "signing failed");
                fr[i + 1].data = (const unsigned char *)hex;
                fr[i + 1].len = 64;
                break;
            }
    }
    jmsg m;
    char err[256] = "";
    int rc = jmsg_decode(fr, n, &key, &m, err, sizeof err);
    if (rc != 0) {
        FZ_ASSERT(rc == -1 && err[0], "a refusal without a reason (rc %d)", rc);
        FZ_ASSERT(m.header == NULL && m.nids == 0, "a refused message keeps parts");
    } else {
        fz_accepted = 1;
        FZ_ASSERT(json_is_object(m.header) && json_is_object(m.parent) && json_is_object(m.metadata) &&
                      json_is_object(m.content),
                  "a part is not an object");
        FZ_ASSERT(m.type && m.id && m.type[0], "no msg_type or msg_id");
        FZ_ASSERT(m.nids >= 0 && m.nids <= JMSG_MAX_IDS, "%d identities", m.nids);
        FZ_ASSERT(strcmp(m.type, json_string_value(json_object_get(m.header, "msg_type"))) == 0, "msg_type differs");
        int d = m.nids;
        FZ_ASSERT(fr[d].len == 9 && memcmp(fr[d].data, JMSG_DELIM, 9) == 0, "the delimiter is not after the ids");
        if (key.len) {
            char want[65];
            FZ_ASSERT(jmsg_sign(&key, &fr[d + 2], want) == 0, "signing failed");
            FZ_ASSERT(fr[d + 1].len == 64 && memcmp(fr[d + 1].data, want, 64) == 0, "accepted with a wrong signature");
        }
        /* again: encode, decode, compare */
        jmsg_frames out;
        FZ_ASSERT(jmsg_encode(m.ids, m.nids, &key, m.header, m.parent, m.metadata, m.content, &out) == 0,
                  "encoding failed");
        jmsg b;
        char err2[256];
        FZ_ASSERT(jmsg_decode(out.f, out.n, &key, &b, err2, sizeof err2) == 0, "re-encoded message refused: %s", err2);
        FZ_ASSERT(b.nids == m.nids, "identities %d -> %d", m.nids, b.nids);
        for (int i = 0; i < m.nids; i++)
            FZ_ASSERT(b.ids[i].len == m.ids[i].len && memcmp(b.ids[i].data, m.ids[i].data, m.ids[i].len) == 0,
                      "identity %d changed", i);
        FZ_ASSERT(json_equal(b.header, m.header) && json_equal(b.parent, m.parent) &&
                      json_equal(b.metadata, m.metadata) && json_equal(b.content, m.content),
                  "a part changed in the round trip");
        jmsg_clear(&b);
        jmsg_frames_free(&out);
        jmsg_clear(&m);
    }
    /* the text helpers on the raw input */
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    json_t *t = jmsg_text(s, len);
    FZ_ASSERT(t && json_is_string(t), "jmsg_text gave no string");
    json_decref(t);
    size_t cut = jmsg_utf8_cut(s, len);
    FZ_ASSERT(cut <= len && cut + 3 >= len, "cut %zu of %zu", cut, len);
    size_t chars = jmsg_utf8_chars(s, len);
    FZ_ASSERT(chars <= len && jmsg_utf8_offset(s, len, chars) == len, "characters and offsets disagree");
    return 0;
}
