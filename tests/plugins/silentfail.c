/* silentfail.c — init returns a positive number and says nothing. */
#include <wb/plugin.h>

WB_PLUGIN("silentfail", "0.1")
{
    (void)host;
    return 1;
}
