/* fuzz_proto_msg.c — every message decoder of the cluster protocol.
 *
 * Input: one byte choosing the message type (an index into the list of
 * types), then the payload. See fuzz_proto.h for the properties. */
#include "fuzz_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    if (size < 1) return 0;
    int type = fz_types[data[0] % FZ_NTYPES];
    fz_message(type, data + 1, size - 1);
    return 0;
}
