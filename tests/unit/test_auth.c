/* test_auth.c — the handshake's MAC and its comparison: known answers
 * computed independently (Python's hmac module:
 *   hmac.new(token, label + a + b + bytes([role]), hashlib.sha256).hexdigest()
 * with a = bytes(range(32)), b = bytes(range(100, 132))), and a comparison
 * that looks at every byte: a MAC differing from the right one in any single
 * byte, the first or the last, does not match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/proto.h"

static void hex(const char *s, uint8_t out[WB_PROTO_MAC])
{
    assert_int_equal(strlen(s), 2 * WB_PROTO_MAC);
    for (int i = 0; i < WB_PROTO_MAC; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void nonces(uint8_t a[WB_PROTO_NONCE], uint8_t b[WB_PROTO_NONCE])
{
    for (int i = 0; i < WB_PROTO_NONCE; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(100 + i);
    }
}

static void test_known_answers(void **state)
{
    (void)state;
    uint8_t a[WB_PROTO_NONCE], b[WB_PROTO_NONCE], mac[WB_PROTO_MAC], want[WB_PROTO_MAC];
    nonces(a, b);
    wb_auth_mac("known-answer-token-0123456789", "wb-client", a, b, WB_ROLE_WORKER, mac);
    hex("aae60b5108a3c0226de68321f5be0e41798857a8b2a43348f2f23fe6b607414b", want);
    assert_memory_equal(mac, want, WB_PROTO_MAC);
    wb_auth_mac("known-answer-token-0123456789", "wb-server", a, b, WB_ROLE_DRIVER, mac);
    hex("b6884ac21c2b484e5aa8a70b269adcedccb81a80ee79b2c1422ed889a53b640d", want);
    assert_memory_equal(mac, want, WB_PROTO_MAC);
}

static void test_every_byte_compared(void **state)
{
    (void)state;
    uint8_t a[WB_PROTO_NONCE], b[WB_PROTO_NONCE], mac[WB_PROTO_MAC], other[WB_PROTO_MAC];
    nonces(a, b);
    wb_auth_mac("known-answer-token-0123456789", "wb-client", a, b, WB_ROLE_WORKER, mac);
    memcpy(other, mac, WB_PROTO_MAC);
    assert_true(wb_auth_equal(mac, other));
    for (int i = 0; i < WB_PROTO_MAC; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(other, mac, WB_PROTO_MAC);
            other[i] ^= (uint8_t)(1u << bit);
            if (wb_auth_equal(mac, other)) fail_msg("a MAC differing in byte %d, bit %d matched", i, bit);
            if (wb_auth_equal(other, mac)) fail_msg("a MAC differing in byte %d, bit %d matched (swapped)", i, bit);
        }
    }
    memset(other, 0, WB_PROTO_MAC);
    assert_false(wb_auth_equal(mac, other));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_every_byte_compared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
