/* suggest.c — "did you mean": the candidate closest to a mistyped name, by
 * edit distance (Damerau-Levenshtein: insertions, deletions, substitutions
 * and swaps of two neighbours each count one), for messages about unknown
 * estimators, parameters, functions and help topics. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wb/wb.h"

#define MAXLEN 64

int wb_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXLEN || m > MAXLEN) return (int)(n > m ? n : m);
    int d[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

/* how far a name may be from a candidate: one edit for short names, two up
 * to 8 characters, three beyond */
static int allowed(size_t len) { return len <= 3 ? 1 : len <= 8 ? 2 : 3; }

const char *wb_closest(const char *name, const char *const *cands, int n)
{
    if (!name || !*name) return NULL;
    const char *best = NULL;
    int bestd = 1 << 30;
    size_t len = strlen(name);
    for (int i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], name) == 0) continue;
        int d = wb_edit_distance(name, cands[i]);
        /* the same letters in another case is one edit */
        if (d > 1 && strlen(cands[i]) == len && strcasecmp(cands[i], name) == 0) d = 1;
        if (d <= allowed(len) && d < bestd) {
            best = cands[i];
            bestd = d;
        }
    }
    return best;
}
