// Shared between the parent side (spawn.c), the sandbox's PID 1 (pid1.c) and the task (task.c).
//
// Everything that runs in a child after clone must be async-signal-safe: the child is a copy of one
// thread of a multi-threaded Swift process, so a lock another thread held at clone time (malloc, stdio,
// NSS) stays locked forever in the child. Hence: no malloc, no printf, no getpwnam; only syscalls and
// the small helpers below, which work on stack buffers. glibc's set*id and setgroups are not plain
// syscalls in a process glibc believes multi-threaded (they signal every thread under a lock): use
// syscall(SYS_...) for credentials.
#ifndef CORRAL_INTERNAL_H
#define CORRAL_INTERNAL_H

#include "csandbox.h"

#include <stddef.h>

/// Descriptors PID 1 and the task need, renumbered by PID 1 after it closed everything else.
typedef struct corral_child_fds {
    int in, out, err;  // the task's stdio sources
    int status;        // PID 1 writes the task's end here
    int error_w;       // close-on-exec error pipe (write end)
    int release_r;     // hold pipe (read end) or -1
    int cpu_quota;     // the cgroup's CPU quota file, written after the task's exec and at its end, or -1
} corral_child_fds;

/// corral_spawn with extra clone flags (the spawner adds CLONE_PARENT).
int corral_spawn_flags(const corral_spawn_config *cfg, corral_spawn_handle *out, uint64_t extra_flags);

/// Writes one setup error to the error pipe (best effort; the pipe is the only channel).
void corral_report(int error_fd, int step, int err, const char *path);

/// Reports a failed setup step of PID 1 on the error pipe and exits 125.
__attribute__((noreturn)) void corral_setup_fail(const corral_child_fds *fds, int step, int err, const char *path);

/// Formats v in decimal after prefix into out (size n); returns the length.
size_t corral_format_u64(char *out, size_t n, const char *prefix, uint64_t v);

/// PID 1's mount namespace: the task's own root, its mounts and masked paths, pivot_root (root.c).
void corral_setup_mounts(const corral_spawn_config *cfg, const corral_child_fds *fds);

/// Entry point of the sandbox's PID 1; never returns.
__attribute__((noreturn)) void corral_pid1_main(const corral_spawn_config *cfg, corral_child_fds fds);

/// Starts the task (PID 2) with vfork semantics: returns once it has exec'd or failed. Returns its pid
/// or -1 with errno set (the error was reported on fds.error_w by the task itself when it got that far).
pid_t corral_start_task(const corral_spawn_config *cfg, const corral_child_fds *fds);

/// Concatenates a and b into out (size n); returns 0 or -1 (ENAMETOOLONG) if it does not fit.
int corral_join(char *out, size_t n, const char *a, const char *b);

/// Closes every descriptor not listed in keep[0..n) (n small). Uses close_range on the gaps.
void corral_close_all_except(int *keep, int n);

/// The spawner, before it serves: default signal handlers, and every library but libc and the loader
/// unmapped (spawner_shed.c).
void corral_spawner_shed(void);

/// Installs the task's default seccomp filter (seccomp.c) on the calling thread; no_new_privs must be set.
/// Returns 0, or -1 with errno set.
int corral_seccomp_install(void);

/// Empties this process's capability bounding set (CAP_SETPCAP needed; EINVAL marks the last
/// capability). Returns 0, or -1 with errno set. Its effective and permitted sets are untouched.
int corral_drop_bounding_set(void);

/// Set by the spawner once it has emptied its own bounding set: the PID 1s and tasks it clones inherit
/// the empty set, so a task skips the 41 PR_CAPBSET_DROP calls of its own drop (~35 us here).
extern int corral_bounding_set_empty;

#endif
