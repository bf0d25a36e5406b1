/* fuzz_proto_frame.c — the frame decoder, over a byte stream as a connection
 * reads it: frames one after another (8-byte header: u32 length, u16 type,
 * u16 flags), the first under the limit before the handshake
 * (WB_PROTO_MAX_PREAUTH), the others under WB_PROTO_MAX_FRAME, each payload
 * handed to its message decoder (fuzz_proto.h).
 *
 * Properties: a refused header carries a message naming the problem (type,
 * flags or size and the limit); a header that is accepted has a known type,
 * flags 0 and a length within the limit; each payload decodes as
 * fuzz_proto.h requires; the stream ends at the first refused frame (the
 * peer is dropped) or at a partial one. */
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    size_t pos = 0;
    int frames = 0;
    while (size - pos >= WB_PROTO_HDR) {
        uint32_t max = frames == 0 ? WB_PROTO_MAX_PREAUTH : WB_PROTO_MAX_FRAME;
        wb_frame_hdr h;
        int rc = wb_frame_decode(data + pos, max, &h);
        fz_check_err(rc, "frame");
        if (rc) {
            FZ_ASSERT(rc == WB_EPROTO || rc == WB_ELIMIT, "frame refused with %s", wb_errname(rc));
            FZ_ASSERT(strncmp(wb_errmsg(), "frame: ", 7) == 0, "message: %s", wb_errmsg());
            if (rc == WB_ELIMIT) FZ_ASSERT(h.len > max, "a frame of %u bytes refused (limit %u)", h.len, max);
            return 0;
        }
        FZ_ASSERT(wb_msg_name(h.type) && h.flags == 0 && h.len <= max, "accepted type %u flags %u length %u",
                  h.type, h.flags, h.len);
        if (size - pos - WB_PROTO_HDR < h.len) return 0; /* a partial frame: the reader waits */
        fz_accepted = 0;
        fz_message(h.type, data + pos + WB_PROTO_HDR, h.len);
        if (!fz_accepted) return 0;
        pos += WB_PROTO_HDR + h.len;
        frames++;
    }
    fz_accepted = frames > 0 && pos == size;
    return 0;
}
