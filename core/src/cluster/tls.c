/* cluster/tls.c — TLS 1.3 for every cluster connection (OpenSSL libssl).
 *
 * libuv owns the sockets; OpenSSL only sees memory: a small BIO of our own
 * hands it the ciphertext net.c has read (without copying it first) and
 * appends what it writes to the connection's outgoing ciphertext, which
 * net.c gives to uv_write (the pumps are in net.c).
 *
 * Two ways to authenticate the channel, chosen per process (all processes of
 * a cluster must choose the same):
 *   - the cluster token (the default): a TLS 1.3 external PSK derived from the
 *     token with HKDF-SHA256, in psk_dhe_ke mode only, so every connection
 *     also runs an (EC)DHE exchange: forward secrecy, and a peer that does not
 *     know the token cannot finish the handshake (its PSK binder fails: the
 *     server refuses it and counts it as a failed authentication). No
 *     certificates to make, hand out or renew.
 *   - the user's certificates (--tls-cert, --tls-key, --tls-ca): both ends
 *     present a certificate signed by the cluster's CA and verify the other's
 *     (no host name check: the CA defines who belongs to the cluster, and
 *     workers are often reached by address).
 * --insecure-no-tls turns TLS off (frames in clear, as before).
 *
 * The challenge-response handshake of proto.h is kept inside TLS, in every
 * mode. With the PSK it proves the token a second time, which costs one
 * round trip per connection (connections are made once per peer); in return
 * the same frames carry, in all three modes, the protocol version and role
 * checks, the refusals with their reasons (REJECT) and the token proof that
 * certificate mode still needs (a certificate says who a process is, the
 * token says it may use this cluster). A wrong token is refused by the PSK
 * binder before those frames; net.c turns that TLS failure into the same
 * messages the challenge-response gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cluster_internal.h"

/* the PSK's identity (sent in clear in the ClientHello: it names the scheme,
 * never the token) and the HKDF labels it is derived with */
#define PSK_IDENTITY "wb-cluster-psk-1"
#define PSK_SALT "wb cluster TLS 1.3 external PSK"
#define PSK_INFO "wb-psk-v1"
/* TLS_AES_128_GCM_SHA256: the PSK's cipher suite (its hash, SHA-256, is what
 * matters: the server may pick ChaCha20-Poly1305, which has the same hash) */
static const unsigned char AES128GCM[2] = {0x13, 0x01};

/* ---------------------------------------------------------------- the BIO */

static int bio_write(BIO *b, const char *p, int n)
{
    wb_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (wb_buf_add(&c->cout, p, (size_t)n)) return -1;
    return n;
}

static int bio_read(BIO *b, char *p, int n)
{
    wb_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t avail = c->cin_len - c->cin_off;
    if (!avail) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t k = (size_t)n < avail ? (size_t)n : avail;
    memcpy(p, c->cin + c->cin_off, k);
    c->cin_off += k;
    return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    wb_conn *c = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return c ? (long)(c->cin_len - c->cin_off) : 0;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;
static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wb conn");
    if (!m) return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    bio_method = m;
}

/* ---------------------------------------------------------------- the PSK */

static int derive_psk(const char *token, unsigned char out[WB_TLS_PSK_LEN])
{
    EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t len = WB_TLS_PSK_LEN;
    int ok = k && EVP_PKEY_derive_init(k) > 0 && EVP_PKEY_CTX_set_hkdf_md(k, EVP_sha256()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt(k, (const unsigned char *)PSK_SALT, (int)strlen(PSK_SALT)) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key(k, (const unsigned char *)token, (int)strlen(token)) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info(k, (const unsigned char *)PSK_INFO, (int)strlen(PSK_INFO)) > 0 &&
             EVP_PKEY_derive(k, out, &len) > 0 && len == WB_TLS_PSK_LEN;
    EVP_PKEY_CTX_free(k);
    return ok ? 0 : wb_seterr(WB_EINTERNAL, "TLS: cannot derive the key from the cluster token (OpenSSL HKDF failed)");
}

static SSL_SESSION *psk_session(SSL *ssl)
{
    wb_conn *c = SSL_get_app_data(ssl);
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, AES128GCM);
    SSL_SESSION *s = cipher ? SSL_SESSION_new() : NULL;
    if (!s) return NULL;
    if (!SSL_SESSION_set1_master_key(s, c->net->psk, WB_TLS_PSK_LEN) || !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

/* server: the session for the identity a client offers (none for another
 * identity: the handshake then fails, there being no certificate) */
static int psk_find(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
    *sess = NULL;
    if (idlen == strlen(PSK_IDENTITY) && memcmp(id, PSK_IDENTITY, idlen) == 0) *sess = psk_session(ssl);
    return 1;
}

/* client: the PSK to offer (md is set after a HelloRetryRequest: the
 * session's hash must match the suite the server chose) */
static int psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess)
{
    *sess = NULL;
    SSL_SESSION *s = psk_session(ssl);
    if (!s) return 0;
    if (md && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
        SSL_SESSION_free(s);
        return 1;
    }
    *id = (const unsigned char *)PSK_IDENTITY;
    *idlen = strlen(PSK_IDENTITY);
    *sess = s;
    return 1;
}

/* in PSK mode a server that offers a certificate instead is not trusted:
 * it could not use the token */
static int refuse_certs(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 0;
}

/* -------------------------------------------------------------- contexts */

/* the first OpenSSL error as text (and the queue cleared) */
static const char *ossl_err(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (!e) snprintf(buf, cap, "unknown error");
    else {
        const char *r = ERR_reason_error_string(e);
        snprintf(buf, cap, "%s", r ? r : "unknown error");
    }
    ERR_clear_error();
    return buf;
}

static SSL_CTX *new_ctx(int server, const wb_tls_opts *o, int psk)
{
    char eb[256];
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        wb_seterr(WB_EINTERNAL, "TLS: cannot make a context: %s", ossl_err(eb, sizeof eb));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    /* AES-128-GCM first (the fastest where the CPU has AES instructions) */
    SSL_CTX_set_ciphersuites(ctx, psk ? "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
                                      : "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    /* no resumption: connections are long-lived and made once per peer */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (server) SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (psk) {
        if (server) SSL_CTX_set_psk_find_session_callback(ctx, psk_find);
        else {
            SSL_CTX_set_psk_use_session_callback(ctx, psk_use);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, refuse_certs);
        }
        return ctx;
    }
    const char *what = o->cert, *bad = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) bad = "--tls-cert";
    else if ((what = o->key), SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1) bad = "--tls-key";
    else if (SSL_CTX_check_private_key(ctx) != 1) bad = "--tls-key (it does not match the certificate)";
    else if ((what = o->ca), SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) bad = "--tls-ca";
    if (bad) {
        wb_seterr(WB_EINVAL, "TLS: %s %s: %s", bad, what, ossl_err(eb, sizeof eb));
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* both ends present a certificate of the cluster's CA */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
    return ctx;
}

void wb_tls_opts_init(wb_tls_opts *o) { memset(o, 0, sizeof *o); }

int wb_tls_check_opts(const wb_tls_opts *o)
{
    int n = (o->cert && *o->cert) + (o->key && *o->key) + (o->ca && *o->ca);
    if (n && o->off)
        return wb_seterr(WB_EINVAL, "TLS: certificates (tls_cert, tls_key, tls_ca) and insecure_no_tls exclude each other");
    if (n && n != 3)
        return wb_seterr(WB_EINVAL, "TLS: tls_cert, tls_key and tls_ca go together (a certificate, its key and the CA "
                                    "that signs the cluster's certificates); without them the cluster token keys TLS");
    return 0;
}

int wb_tls_setup(wb_net *net, const wb_tls_opts *o)
{
    wb_tls_free(net);
    if (o && wb_tls_check_opts(o)) return WB_EINVAL;
    if (o && o->off) {
        net->tls = WB_TLS_OFF;
        return 0;
    }
    int psk = !(o && o->cert && *o->cert);
    pthread_once(&bio_once, bio_method_init);
    if (!bio_method) return wb_seterr(WB_EINTERNAL, "TLS: cannot make a BIO method");
    if (psk && derive_psk(net->token, net->psk)) return WB_EINTERNAL;
    net->tls_srv = new_ctx(1, o, psk);
    net->tls_cli = net->tls_srv ? new_ctx(0, o, psk) : NULL;
    if (!net->tls_cli) {
        wb_tls_free(net);
        return WB_EINVAL;
    }
    net->tls = psk ? WB_TLS_PSK : WB_TLS_CERT;
    return 0;
}

void wb_tls_free(wb_net *net)
{
    SSL_CTX_free(net->tls_srv);
    SSL_CTX_free(net->tls_cli);
    net->tls_srv = net->tls_cli = NULL;
    OPENSSL_cleanse(net->psk, sizeof net->psk);
    net->tls = WB_TLS_OFF;
}

const char *wb_tls_mode_name(int mode)
{
    switch (mode) {
    case WB_TLS_PSK: return "TLS 1.3, keyed by the cluster token";
    case WB_TLS_CERT: return "TLS 1.3, with certificates";
    default: return "NO TLS (clear text)";
    }
}

/* ------------------------------------------------------------ connections */

int wb_tls_conn_new(wb_conn *c)
{
    SSL_CTX *ctx = c->server ? c->net->tls_srv : c->net->tls_cli;
    SSL *ssl = SSL_new(ctx);
    BIO *b = ssl ? BIO_new(bio_method) : NULL;
    if (!b) {
        SSL_free(ssl);
        return wb_seterr(WB_ENOMEM, "out of memory (TLS)");
    }
    BIO_set_data(b, c);
    SSL_set_bio(ssl, b, b); /* one BIO both ways: freed with the SSL */
    SSL_set_app_data(ssl, c);
    if (c->server) SSL_set_accept_state(ssl);
    else SSL_set_connect_state(ssl);
    c->ssl = ssl;
    return 0;
}

void wb_tls_conn_free(wb_conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
}

/* why a TLS call failed, for the log or the caller: *auth is set when it
 * says the token (or certificate) was wrong */
void wb_tls_failure(wb_conn *c, int sslerr, char *out, size_t cap, int *auth)
{
    *auth = 0;
    unsigned long e = ERR_peek_last_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    const char *rs = e ? ERR_reason_error_string(e) : NULL;
    char why[200];
    if (rs) snprintf(why, sizeof why, "%s", rs);
    else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN) snprintf(why, sizeof why, "the connection closed");
    else snprintf(why, sizeof why, "TLS error %d", sslerr);
    const char *role = c->server ? "peer" : wb_role_name(c->want_role);
    int psk = c->net->tls == WB_TLS_PSK;
    if (c->server) {
        if (reason == SSL_R_BINDER_DOES_NOT_VERIFY) {
            *auth = 1;
            snprintf(out, cap, "authentication failed (wrong cluster token)");
        } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
            *auth = 1;
            long v = SSL_get_verify_result(c->ssl);
            snprintf(out, cap, "authentication failed (its certificate: %s)",
                     reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ? "none given" : X509_verify_cert_error_string(v));
        } else {
            snprintf(out, cap, "TLS handshake failed: %s%s", why,
                     psk && (reason == SSL_R_NO_SHARED_CIPHER || reason == SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM)
                         ? " (it offered no cluster key: a peer with certificates, or not a wb peer)"
                         : "");
        }
    } else if (psk && (reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR || reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER)) {
        /* the server could not verify the PSK binder: it has another token
         * (OpenSSL 3.0 sends illegal_parameter for it, later ones decrypt_error) */
        *auth = 1;
        snprintf(out, cap, "the %s at %s refused the connection: authentication failed: wrong cluster token", role,
                 c->peer);
    } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        *auth = 1;
        if (psk)
            snprintf(out, cap,
                     "the %s at %s could not prove it knows the cluster token (it offered a certificate instead: "
                     "is it set up with --tls-cert?)",
                     role, c->peer);
        else
            snprintf(out, cap, "the certificate of the %s at %s is not trusted: %s (tls_ca)", role, c->peer,
                     X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
    } else if (reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
               reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE) {
        *auth = 1;
        snprintf(out, cap, "the %s at %s refused the connection: its TLS handshake refused this side's certificate (%s)",
                 role, c->peer, why);
    } else {
        snprintf(out, cap,
                 "the TLS handshake with the %s at %s failed: %s (both ends must secure the cluster the same way: with "
                 "the cluster token, the default, or with certificates: tls_cert, tls_key, tls_ca)",
                 role, c->peer, why);
    }
    ERR_clear_error();
}

void wb_tls_warn_off(const char *who, int quiet)
{
    if (quiet) {
        fprintf(stderr,
                "wb %s: WARNING: TLS is off (--insecure-no-tls): tasks, objects and results cross the network in "
                "clear\n",
                who);
        return;
    }
    fprintf(stderr,
            "\n"
            "  ********************************************************************\n"
            "  WARNING: TLS is OFF (--insecure-no-tls). Every task, object and\n"
            "  result this %s sends or receives crosses the network in clear:\n"
            "  anyone on the path can read the data (the token still keeps\n"
            "  strangers out). Leave the option out to encrypt.\n"
            "  ********************************************************************\n\n",
            who);
}
