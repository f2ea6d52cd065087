// The spawner's start-up: dropping what the loader brought in for Swift (see spawner.c).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/// Whether a mapped file is one the spawner's own code needs: this binary (CSandbox), libc, the loader.
static int needed_mapping(const char *path, const char *exe) {
    if (strcmp(path, exe) == 0) return 1;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so", 7) == 0;
}

/// Unmaps every shared library but libc and the loader. The loader mapped all of the binary's libraries
/// (the Swift runtime, Foundation, ICU, SQLite...) before this constructor ran; clone3 copies each of their
/// mappings and dirty pages into every PID 1, and PID 1's exit tears the copy down again: ~20 libraries,
/// ~80 mappings, 1.4 MiB of relocated pages. The spawner runs only CSandbox's C code, which calls libc
/// alone, with every symbol bound at load (LD_BIND_NOW) and never through exit handlers (it leaves by
/// _exit). Best effort: what cannot be read or unmapped stays mapped.
static void shed_libraries(void) {
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) return;
    exe[len] = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t cap = 256 * 1024, used = 0;
    char *maps = malloc(cap);
    if (!maps) {
        close(fd);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, maps + used, cap - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
        if (used == cap - 1) break;  // more mappings than fit: shed what was read
    }
    close(fd);
    maps[used] = 0;
    // Collected first and unmapped after: the text being parsed must not change under us.
    enum { MAX_RANGES = 1024 };
    static uintptr_t ranges[MAX_RANGES][2];
    int count = 0;
    for (char *line = maps; *line && count < MAX_RANGES;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        char *path = strchr(line, '/');
        if (path && !needed_mapping(path, exe)) {
            char *dash;
            uintptr_t start = (uintptr_t)strtoull(line, &dash, 16);
            uintptr_t stop = *dash == '-' ? (uintptr_t)strtoull(dash + 1, NULL, 16) : 0;
            if (stop > start) {
                ranges[count][0] = start;
                ranges[count][1] = stop;
                count++;
            }
        }
        if (!end) break;
        line = end + 1;
    }
    free(maps);
    for (int i = 0; i < count; i++) munmap((void *)ranges[i][0], ranges[i][1] - ranges[i][0]);
}

/// Default dispositions: handlers the libraries' constructors installed point into code now unmapped,
/// and PID 1 inherits the table.
static void reset_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction old;
        if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
            sigaction(sig, &sa, NULL);
    }
}

void corral_spawner_shed(void) {
    reset_signal_handlers();
    shed_libraries();
}
