// Parent side: create the pipes, clone3 the sandbox's PID 1, hand back pid + pidfd.
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


static long corral_clone3(struct clone_args *args) { return syscall(SYS_clone3, args, sizeof(*args)); }

static void close_if_open(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int corral_spawn(const corral_spawn_config *cfg, corral_spawn_handle *out) { return corral_spawn_flags(cfg, out, 0); }

int corral_spawn_flags(const corral_spawn_config *cfg, corral_spawn_handle *out, uint64_t extra_flags) {
    int error_pipe[2] = {-1, -1};
    int release_pipe[2] = {-1, -1};
    // Close-on-exec so that no other spawn (posix_spawn elsewhere in the agent) keeps them open; PID 1
    // inherits them through clone (no exec) and closes the rest itself.
    if (pipe2(error_pipe, O_CLOEXEC) != 0) return -errno;
    if (cfg->hold && pipe2(release_pipe, O_CLOEXEC) != 0) {
        int e = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        return -e;
    }

    uint64_t flags = CLONE_PIDFD | extra_flags;
    if (cfg->isolate) flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (cfg->new_network) flags |= CLONE_NEWNET;
    if (cfg->cgroup_fd >= 0) flags |= CLONE_INTO_CGROUP;

    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    // With CLONE_PARENT clone3 requires exit_signal 0: the child takes the caller's own (SIGCHLD).
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
    args.cgroup = cfg->cgroup_fd >= 0 ? (uint64_t)cfg->cgroup_fd : 0;

    // No CLONE_VM: PID 1 lives as long as the task and must not share the agent's memory (an OOM kill
    // of a process sharing an mm kills every process using it). Copy-on-write makes this cheap.
    long pid = corral_clone3(&args);
    if (pid < 0) {
        int e = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        if (cfg->hold) {
            close(release_pipe[0]);
            close(release_pipe[1]);
        }
        return -e;
    }
    if (pid == 0) {
        corral_child_fds fds = {
            .in = cfg->stdin_fd,
            .out = cfg->stdout_fd,
            .err = cfg->stderr_fd,
            .status = cfg->status_fd,
            .error_w = error_pipe[1],
            .release_r = cfg->hold ? release_pipe[0] : -1,
            .cpu_quota = cfg->cpu_quota_fd,
        };
        corral_pid1_main(cfg, fds);
    }

    close(error_pipe[1]);
    if (cfg->hold) close(release_pipe[0]);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->error_fd = error_pipe[0];
    out->release_fd = cfg->hold ? release_pipe[1] : -1;
    return 0;
}

int corral_release(corral_spawn_handle *h, int go) {
    if (h->release_fd < 0) return 0;
    int rc = 0;
    if (go) {
        char byte = 1;
        ssize_t n;
        do {
            n = write(h->release_fd, &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) rc = -errno;
    }
    close_if_open(&h->release_fd);  // EOF without a byte tells PID 1 to give up
    return rc;
}

int corral_await_exec(corral_spawn_handle *h, corral_setup_error *err) {
    corral_setup_error e;
    size_t got = 0;
    while (got < sizeof(e)) {
        ssize_t n = read(h->error_fd, ((char *)&e) + got, sizeof(e) - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved = errno;
            close_if_open(&h->error_fd);
            return -saved;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    close_if_open(&h->error_fd);
    if (got == 0) return 0;  // every write end closed on exec: the task runs
    memset(err, 0, sizeof(*err));
    if (got == sizeof(e)) {
        *err = e;
        err->path[sizeof(err->path) - 1] = 0;
    } else {
        err->err = EPROTO;
        err->step = CORRAL_STEP_NONE;
    }
    return 1;
}

int corral_probe_clone_into_cgroup(int cgroup_fd) {
    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid = corral_clone3(&args);
    if (pid == 0) _exit(0);
    if (pid < 0) {
        int e = errno;
        return (e == EINVAL || e == ENOSYS || e == E2BIG || e == EOPNOTSUPP || e == EBADF) ? 0 : -e;
    }
    int status;
    while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(pidfd);
    return 1;
}

// ---- helpers shared with the children (async-signal-safe) ----

void corral_report(int error_fd, int step, int err, const char *path) {
    corral_setup_error e;
    memset(&e, 0, sizeof(e));
    e.err = err;
    e.step = step;
    if (path) {
        size_t i = 0;
        for (; path[i] && i < sizeof(e.path) - 1; i++) e.path[i] = path[i];
    }
    ssize_t n;
    do {
        n = write(error_fd, &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
}

int corral_join(char *out, size_t n, const char *a, const char *b) {
    size_t i = 0;
    for (const char *p = a; *p; p++) {
        if (i + 1 >= n) return -1;
        out[i++] = *p;
    }
    for (const char *p = b; *p; p++) {
        if (i + 1 >= n) return -1;
        out[i++] = *p;
    }
    out[i] = 0;
    return 0;
}

void corral_close_all_except(int *keep, int n) {
    // insertion sort: n is at most a handful
    for (int i = 1; i < n; i++) {
        int v = keep[i], j = i - 1;
        while (j >= 0 && keep[j] > v) {
            keep[j + 1] = keep[j];
            j--;
        }
        keep[j + 1] = v;
    }
    unsigned int next = 0;
    for (int i = 0; i < n; i++) {
        if (keep[i] < 0) continue;
        if ((unsigned int)keep[i] > next) syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, next, ~0U, 0);
}

const char *corral_step_name(int step) {
    switch (step) {
        case CORRAL_STEP_CLONE: return "clone3";
        case CORRAL_STEP_WAIT_PARENT: return "wait for cgroup placement";
        case CORRAL_STEP_JOIN_CGROUP: return "join v1 cgroup";
        case CORRAL_STEP_SETSID: return "setsid";
        case CORRAL_STEP_MOUNT_PRIVATE: return "make mounts private";
        case CORRAL_STEP_BIND_ROOTFS: return "bind image rootfs";
        case CORRAL_STEP_ASSEMBLE_ROOT: return "assemble the task's root";
        case CORRAL_STEP_BIND_WORKDIR: return "bind work dir";
        case CORRAL_STEP_MOUNT_TMP: return "mount tmpfs /tmp";
        case CORRAL_STEP_MOUNT_PROC: return "mount /proc";
        case CORRAL_STEP_MOUNT_DEV: return "populate /dev";
        case CORRAL_STEP_MOUNT_SYS: return "mount /sys";
        case CORRAL_STEP_MASK_PATHS: return "mask /proc and /sys paths";
        case CORRAL_STEP_PIVOT_ROOT: return "pivot_root";
        case CORRAL_STEP_READONLY_ROOT: return "remount image read-only";
        case CORRAL_STEP_HOSTNAME: return "sethostname";
        case CORRAL_STEP_LOOPBACK: return "bring up loopback";
        case CORRAL_STEP_BIND_VOLUME: return "bind volume";
        case CORRAL_STEP_CGROUP_NS: return "unshare the cgroup namespace";
        case CORRAL_STEP_FORK_TASK: return "fork task";
        case CORRAL_STEP_OOM_SCORE: return "reset oom_score_adj";
        case CORRAL_STEP_RLIMIT: return "setrlimit";
        case CORRAL_STEP_DROP_BOUNDING: return "drop capability bounding set";
        case CORRAL_STEP_SETGROUPS: return "setgroups";
        case CORRAL_STEP_SETGID: return "setgid";
        case CORRAL_STEP_SETUID: return "setuid";
        case CORRAL_STEP_CAPSET: return "capset";
        case CORRAL_STEP_NO_NEW_PRIVS: return "no_new_privs";
        case CORRAL_STEP_SECCOMP: return "install the seccomp filter";
        case CORRAL_STEP_STDIO: return "set up stdio";
        case CORRAL_STEP_CHDIR: return "chdir";
        case CORRAL_STEP_CPU_QUOTA: return "write CPU quota";
        case CORRAL_STEP_EXEC: return "exec";
        case CORRAL_STEP_ENTER: return "enter the task's namespaces";
        default: return "setup";
    }
}
