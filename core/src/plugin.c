/* plugin.c — the plugin loader: dlopen (RTLD_NOW|RTLD_LOCAL) of a plugin's
 * shared object, its descriptor checked (ABI, name, version; a plugin is
 * refused with a message naming the file and the reason), then its
 * wb_plugin_init run with the host table (host.c) while the registry
 * (registry.c) records it as the owner of what it registers; a plugin whose
 * init fails leaves nothing registered. The search path for the default
 * plugins, and the list of the plugins loaded. */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef WB_PLUGIN_REL_DIR /* from the wb binary's folder to the installed plugins */
#define WB_PLUGIN_REL_DIR "../lib/wb/plugins"
#endif

typedef struct plugin {
    char *path, *name, *version;
    void *handle;
} plugin;

static plugin *plugins;
static int nplugins, cap_plugins;
/* loads are serialized by load_lock */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static char exe_dir[4096];

static int valid_version(const char *v)
{
    size_t n = strlen(v);
    return n >= 1 && n <= 128 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

void wb_plugin_set_exe_dir(const char *dir)
{
    snprintf(exe_dir, sizeof exe_dir, "%s", dir ? dir : "");
}

const char *wb_plugin_search_path(void)
{
    static char buf[16384];
    const char *env = getenv("WB_PLUGIN_PATH");
    snprintf(buf, sizeof buf, "%s%s%s/plugins:%s/%s:%s", env ? env : "", env && *env ? ":" : "",
             exe_dir, exe_dir, WB_PLUGIN_REL_DIR, WB_PLUGIN_INSTALL_DIR);
    return buf;
}

int wb_plugin_count(void) { return nplugins; }

int wb_plugin_info_at(int i, const char **name, const char **version, const char **path)
{
    if (i < 0 || i >= nplugins) return WB_ENOTFOUND;
    if (name) *name = plugins[i].name;
    if (version) *version = plugins[i].version;
    if (path) *path = plugins[i].path;
    return 0;
}

static int load_locked(const char *path);

int wb_plugin_load(const char *path)
{
    if (!path || !*path) return wb_seterr(WB_EINVAL, "plugin: no path given");
    if (wb__registry_owner() >= 0)
        return wb_seterr(WB_ESTATE, "plugin %s: cannot load from inside a plugin", path);
    pthread_mutex_lock(&load_lock);
    int rc = load_locked(path);
    pthread_mutex_unlock(&load_lock);
    return rc;
}

static int load_locked(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return wb_seterr(WB_ENOTFOUND, "plugin %s: cannot open: %s", path, e ? e : "unknown error");
    }
    const wb_plugin_desc *info = dlsym(h, "wb_plugin_info");
    int (*init)(const wb_host *) = (int (*)(const wb_host *))dlsym(h, "wb_plugin_init");
    if (!info || !init) {
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: missing symbol '%s' (declare it with WB_PLUGIN(name, version))",
                         path, !info ? "wb_plugin_info" : "wb_plugin_init");
    }
    if (info->abi > WB_PLUGIN_ABI || info->abi == 0) {
        int abi = (int)info->abi;
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: plugin ABI %d, host %d", path, abi, WB_PLUGIN_ABI);
    }
    if (!info->name || !wb__valid_name(info->name)) {
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: bad plugin name", path);
    }
    /* the version travels in the cluster's handshakes: the same characters as names (and '+') */
    if (!info->version || !valid_version(info->version)) {
        char v[160];
        snprintf(v, sizeof v, "%.128s", info->version ? info->version : "(null)");
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: bad version '%s' (1 to 128 characters of A-Z a-z 0-9 _ . + -)", path, v);
    }
    for (int i = 0; i < nplugins; i++)
        if (strcmp(plugins[i].name, info->name) == 0) {
            char name[256];
            snprintf(name, sizeof name, "%s", info->name);
            dlclose(h);
            return wb_seterr(WB_EEXIST, "plugin %s: a plugin named '%s' is already loaded from %s",
                             path, name, plugins[i].path);
        }
    if (nplugins == cap_plugins) {
        int c = cap_plugins ? cap_plugins * 2 : 16;
        plugin *p = realloc(plugins, (size_t)c * sizeof *p);
        if (!p) {
            dlclose(h);
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
        plugins = p;
        cap_plugins = c;
    }
    int owner = nplugins;
    wb__registry_set_owner(owner);
    wb_clearerr();
    int rc = init(wb_host_table());
    wb__registry_set_owner(-1);
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", wb_errmsg()[0] ? wb_errmsg() : "no reason given");
        wb__registry_drop(owner);
        dlclose(h);
        return wb_seterr(rc < 0 ? rc : WB_EINVAL, "plugin %s: init failed: %s", path, msg);
    }
    plugins[nplugins++] = (plugin){wb_strdup(path), wb_strdup(info->name),
                                   wb_strdup(info->version), h};
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every *.so in one folder, in name order; a plugin already loaded by name is skipped */
static int load_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        names[n++] = wb_strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmpstr);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int r = wb_plugin_load(path);
        if (r == 0)
            (*count)++;
        else if (r != WB_EEXIST && !rc)
            rc = r;
        else if (r == WB_EEXIST)
            wb_clearerr();
        free(names[i]);
    }
    free(names);
    return rc;
}

int wb_plugin_load_default(void)
{
    char *path = wb_strdup(wb_plugin_search_path());
    int count = 0, rc = 0;
    char msg[1024] = "";
    for (char *save = NULL, *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        if (!*dir) continue;
        int r = load_dir(dir, &count);
        if (r && !rc) {
            rc = r;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
    }
    free(path);
    if (rc) return wb_seterr(rc, "%s", msg);
    return count;
}
