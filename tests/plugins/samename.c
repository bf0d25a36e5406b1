/* samename.c — a second plugin calling itself "good": refused. */
#include <wb/plugin.h>

WB_PLUGIN("good", "9.9")
{
    (void)host;
    return 0;
}
