/* error.c — negative codes from one list, a per-thread message. */
#include <stdio.h>
#include <string.h>

#include "wb/wb.h"

static _Thread_local char errbuf[1024];
static _Thread_local int errcode;

const char *wb_strerror(int code)
{
    switch (code) {
    case WB_OK:
        return "success";
#define X(name, c, text) \
    case c:              \
        return text;
        WB_ERRNO_MAP(X)
#undef X
    default:
        return "unknown error";
    }
}

const char *wb_errname(int code)
{
    switch (code) {
    case WB_OK:
        return "WB_OK";
#define X(name, c, text) \
    case c:              \
        return "WB_" #name;
        WB_ERRNO_MAP(X)
#undef X
    default:
        return "WB_E?";
    }
}

int wb_vseterr(int code, const char *fmt, va_list ap)
{
    char tmp[sizeof errbuf];
    vsnprintf(tmp, sizeof tmp, fmt, ap); /* fmt may refer to errbuf itself */
    memcpy(errbuf, tmp, sizeof errbuf);
    errcode = code;
    return code;
}

int wb_seterr(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wb_vseterr(code, fmt, ap);
    va_end(ap);
    return code;
}

int wb_preferr(int code, const char *fmt, ...)
{
    char pre[512], tmp[sizeof errbuf + 600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    snprintf(tmp, sizeof tmp, "%s: %s", pre, errbuf[0] ? errbuf : wb_strerror(code));
    memcpy(errbuf, tmp, sizeof errbuf);
    errbuf[sizeof errbuf - 1] = 0;
    errcode = code;
    return code;
}

const char *wb_errmsg(void)
{
    if (!errbuf[0] && errcode) return wb_strerror(errcode);
    return errbuf;
}

void wb_clearerr(void)
{
    errbuf[0] = 0;
    errcode = 0;
}
