/* cluster/auth.c — the cluster token and the challenge-response handshake's
 * cryptography (OpenSSL libcrypto: HMAC-SHA256, RAND_bytes, CRYPTO_memcmp;
 * nothing hand-written). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "proto.h"

int wb_auth_nonce(uint8_t out[WB_PROTO_NONCE])
{
    if (RAND_bytes(out, WB_PROTO_NONCE) != 1)
        return wb_seterr(WB_EINTERNAL, "could not draw random bytes (OpenSSL RAND_bytes failed)");
    return 0;
}

int wb_token_generate(char out[65])
{
    uint8_t b[32];
    if (RAND_bytes(b, sizeof b) != 1)
        return wb_seterr(WB_EINTERNAL, "could not draw random bytes (OpenSSL RAND_bytes failed)");
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[64] = 0;
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

void wb_auth_mac(const char *token, const char *label, const uint8_t a[WB_PROTO_NONCE],
                 const uint8_t b[WB_PROTO_NONCE], uint8_t role, uint8_t out[WB_PROTO_MAC])
{
    unsigned char msg[32 + 2 * WB_PROTO_NONCE + 1];
    size_t ll = strlen(label);
    if (ll > 32) ll = 32;
    memcpy(msg, label, ll);
    memcpy(msg + ll, a, WB_PROTO_NONCE);
    memcpy(msg + ll + WB_PROTO_NONCE, b, WB_PROTO_NONCE);
    msg[ll + 2 * WB_PROTO_NONCE] = role;
    unsigned int len = WB_PROTO_MAC;
    if (!HMAC(EVP_sha256(), token, (int)strlen(token), msg, ll + 2 * WB_PROTO_NONCE + 1, out, &len))
        memset(out, 0, WB_PROTO_MAC); /* never matches a real MAC of a nonce pair */
}

int wb_auth_equal(const uint8_t a[WB_PROTO_MAC], const uint8_t b[WB_PROTO_MAC])
{
    return CRYPTO_memcmp(a, b, WB_PROTO_MAC) == 0;
}

const char *wb_token_default_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("WB_TOKEN_FILE");
    if (env && *env) return env;
    const char *home = getenv("HOME");
    snprintf(path, sizeof path, "%s/.wb/cluster_token", home && *home ? home : "/tmp");
    return path;
}

int wb_token_read(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wb_seterr(errno == ENOENT ? WB_ENOTFOUND : WB_EIO, "token file %s: %s", path, strerror(errno));
    char buf[WB_TOKEN_MAX + 64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    struct stat st;
    int have_st = fstat(fd, &st) == 0;
    close(fd);
    if (n < 0) return wb_seterr(WB_EIO, "token file %s: %s", path, strerror(errno));
    buf[n] = 0;
    char *s = buf, *e = buf + n;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
    size_t len = (size_t)(e - s);
    if (len < 16 || len > WB_TOKEN_MAX)
        return wb_seterr(WB_EFORMAT, "token file %s: a token of %zu characters (16 to %d expected)", path, len,
                         WB_TOKEN_MAX);
    for (char *p = s; p < e; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return wb_seterr(WB_EFORMAT, "token file %s: the token has a non-printable or space character at %d", path,
                             (int)(p - s) + 1);
    if (len + 1 > cap) return wb_seterr(WB_ELIMIT, "token file %s: the token is too long", path);
    if (have_st && (st.st_mode & 077))
        wb_log(WB_LOG_WARN, "token file %s can be read by other users (mode %03o); use chmod 600", path,
               (unsigned)(st.st_mode & 0777));
    memcpy(out, s, len);
    out[len] = 0;
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

int wb_token_write(const char *path, const char *token)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        struct stat st;
        if (stat(dir, &st) != 0 && mkdir(dir, 0700) != 0 && errno != EEXIST)
            return wb_seterr(WB_EIO, "token file %s: cannot make folder %s: %s", path, dir, strerror(errno));
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return wb_seterr(WB_EIO, "token file %s: %s", tmp, strerror(errno));
    fchmod(fd, 0600);
    size_t len = strlen(token);
    int ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return wb_seterr(WB_EIO, "token file %s: %s", path, strerror(e));
    }
    return 0;
}
