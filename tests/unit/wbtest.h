/* wbtest.h — shared by the core's cmocka unit tests. */
#ifndef WB_TEST_H
#define WB_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb/wb.h"

/* assert that rc is `code` and the thread's message equals `msg` */
#define assert_err(rc, code, msg)                                                      \
    do {                                                                               \
        int rc_ = (rc);                                                                \
        if (rc_ != (code) || strcmp(wb_errmsg(), (msg)) != 0)                          \
            fail_msg("expected %s \"%s\", got %s \"%s\"", wb_errname(code), (msg),     \
                     wb_errname(rc_), wb_errmsg());                                    \
    } while (0)

/* assert that rc is `code` and the message contains `part` */
#define assert_err_has(rc, code, part)                                                 \
    do {                                                                               \
        int rc_ = (rc);                                                                \
        if (rc_ != (code) || !strstr(wb_errmsg(), (part)))                             \
            fail_msg("expected %s with \"%s\", got %s \"%s\"", wb_errname(code), (part), \
                     wb_errname(rc_), wb_errmsg());                                    \
    } while (0)

#define assert_ok(rc)                                                                  \
    do {                                                                               \
        int rc_ = (rc);                                                                \
        if (rc_ != 0) fail_msg("expected success, got %s \"%s\"", wb_errname(rc_), wb_errmsg()); \
    } while (0)

/* a fresh private folder under TMPDIR, removed by wbt_rmdir */
static inline char *wbt_mkdtemp(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/wbtest.XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(1);
    }
    return wb_strdup(d);
}

static inline void wbt_rmdir(char *dir)
{
    if (!dir) return;
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

/* a deterministic source of test data (not the library's generator) */
static inline uint64_t wbt_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline double wbt_unif(uint64_t *s) { return (double)(wbt_next(s) >> 11) * 0x1.0p-53; }

#endif
