/* install.c — `wb kernel install [--user | --prefix P] [--name NAME]`: the
 * kernelspec Jupyter looks for (KERNELS/NAME/kernel.json and the logos),
 * so that Jupyter Notebook, JupyterLab, `jupyter console` and nbconvert list
 * and start "wb (Lua)" with this wb:
 *   --user      the user's Jupyter data folder: $JUPYTER_DATA_DIR, else
 *               $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter (default)
 *   --prefix P  P/share/jupyter (a virtual environment's or a system prefix)
 * The logos (share/kernel/) are in the binary; the PNGs were drawn from
 * logo-svg.svg by headless Chromium. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "kernel.h"

struct wb_kernel_file {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct wb_kernel_file wb_kernel_files[];

/* mkdir -p */
static int make_dirs(const char *path, char *err, size_t cap)
{
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                snprintf(err, cap, "cannot make the folder %s: %s", p, strerror(errno));
                return -1;
            }
            *s = c;
            if (!c) break;
        }
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, char *err, size_t cap)
{
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        snprintf(err, cap, "cannot write %s: %s", p, strerror(errno));
        return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wb kernel install [--user | --prefix P] [--name NAME]\n"
               "  --user      into the user's Jupyter data folder ($JUPYTER_DATA_DIR, $XDG_DATA_HOME/jupyter or\n"
               "              ~/.local/share/jupyter; the default)\n"
               "  --prefix P  into P/share/jupyter (found by Jupyter run from that prefix, or with JUPYTER_PATH)\n"
               "  --name N    the kernel's name (default wb)\n");
}

int kinstall_main(int argc, char **argv)
{
    const char *prefix = NULL, *name = "wb";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0) {
            prefix = NULL;
        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc && argv[i + 1][0]) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
            if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name)) {
                fprintf(stderr, "wb kernel install: --name must be letters, digits, '.', '_' or '-', got '%s'\n", name);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "wb kernel install: unknown argument '%s'%s\n", argv[i],
                    strcmp(argv[i], "--prefix") == 0 ? " (--prefix needs a folder)" : "");
            usage(stderr);
            return 2;
        }
    }
    char data[PATH_MAX];
    if (prefix) {
        snprintf(data, sizeof data, "%s/share/jupyter", prefix);
    } else if (getenv("JUPYTER_DATA_DIR") && *getenv("JUPYTER_DATA_DIR")) {
        snprintf(data, sizeof data, "%s", getenv("JUPYTER_DATA_DIR"));
    } else if (getenv("XDG_DATA_HOME") && *getenv("XDG_DATA_HOME")) {
        snprintf(data, sizeof data, "%s/jupyter", getenv("XDG_DATA_HOME"));
    } else if (getenv("HOME") && *getenv("HOME")) {
        snprintf(data, sizeof data, "%s/.local/share/jupyter", getenv("HOME"));
    } else {
        fprintf(stderr, "wb kernel install: HOME is not set: say where with --prefix P\n");
        return 2;
    }
    char dir[PATH_MAX + 200], exe[PATH_MAX], err[2 * PATH_MAX + 200];
    snprintf(dir, sizeof dir, "%s/kernels/%s", data, name);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "wb kernel install: cannot find this program's path: %s\n", strerror(errno));
        return 1;
    }
    exe[n] = 0;
    json_t *spec = json_pack("{s:[s, s, s, s], s:s, s:s, s:s, s:{s:b}}", "argv", exe, "kernel", "-f",
                             "{connection_file}", "display_name", "wb (Lua)", "language", "lua", "interrupt_mode",
                             "signal", "metadata", "debugger", 0);
    char *text = spec ? json_dumps(spec, JSON_INDENT(1)) : NULL;
    json_decref(spec);
    if (!text) {
        fprintf(stderr, "wb kernel install: out of memory\n");
        return 1;
    }
    int rc = make_dirs(dir, err, sizeof err) || write_file(dir, "kernel.json", text, strlen(text), err, sizeof err);
    free(text);
    for (const struct wb_kernel_file *f = wb_kernel_files; !rc && f->name; f++)
        rc = write_file(dir, f->name, f->data, f->len, err, sizeof err);
    if (rc) {
        fprintf(stderr, "wb kernel install: %s\n", err);
        return 1;
    }
    printf("wb kernel install: \"wb (Lua)\" installed in %s\n", dir);
    return 0;
}
