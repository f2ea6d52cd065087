// The sandbox's PID 1: mounts (root.c), hostname, loopback, cgroup namespace, then the task (PID 2), then the reaper.
// Runs in a clone3 child of a multi-threaded process: async-signal-safe code only (see internal.h).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noreturn)) void corral_setup_fail(const corral_child_fds *fds, int step, int err, const char *path) {
    corral_report(fds->error_w, step, err, path);
    _exit(125);
}
#define fail corral_setup_fail

/// Formats v in decimal after prefix into out; returns the length.
size_t corral_format_u64(char *out, size_t n, const char *prefix, uint64_t v) {
    size_t i = 0;
    for (const char *p = prefix; *p && i + 1 < n; p++) out[i++] = *p;
    char digits[24];
    int d = 0;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && d < 24);
    while (d > 0 && i + 1 < n) out[i++] = digits[--d];
    out[i] = 0;
    return i;
}

static void bring_up_loopback(const corral_child_fds *fds) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(fds, CORRAL_STEP_LOOPBACK, errno, "lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    ifr.ifr_flags = IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail(fds, CORRAL_STEP_LOOPBACK, errno, "lo");
    close(s);
}

static void ignore_signal(int sig) { (void)sig; }

static void write_status(int fd, int status) {
    if (fd < 0) return;
    char line[32];
    size_t n = WIFEXITED(status) ? corral_format_u64(line, sizeof(line), "exit ", (uint64_t)WEXITSTATUS(status))
                                 : corral_format_u64(line, sizeof(line), "signal ", (uint64_t)WTERMSIG(status));
    line[n++] = '\n';
    ssize_t w;
    do {
        w = write(fd, line, n);
    } while (w < 0 && errno == EINTR);
}

void corral_pid1_main(const corral_spawn_config *cfg, corral_child_fds fds) {
    int keep[] = {fds.in, fds.out, fds.err, fds.status, fds.error_w, fds.release_r, fds.cpu_quota};
    corral_close_all_except(keep, (int)(sizeof(keep) / sizeof(keep[0])));

    // Signals: everything blocked and taken with sigwaitinfo. The forwarded ones also get a handler,
    // because the kernel drops signals with default disposition sent to a namespace's init.
    static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = ignore_signal;
    sigset_t waited;
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
        sigaction(forwarded[i], &sa, NULL);
        sigaddset(&waited, forwarded[i]);
    }
    umask(0);

    // Into the v1 hierarchies first, so every later allocation is charged to the task's cgroups.
    for (const char *const *file = cfg->join_files; file && *file; file++) {
        int fd = open(*file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) fail(&fds, CORRAL_STEP_JOIN_CGROUP, errno, *file);
        close(fd);
    }

    if (cfg->isolate) {
        // Out of the caller's session: a terminal's ^C reaches the agent, which forwards it once.
        if (setsid() < 0) fail(&fds, CORRAL_STEP_SETSID, errno, NULL);
        if (cfg->new_network) bring_up_loopback(&fds);
        corral_setup_mounts(cfg, &fds);
        if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
            fail(&fds, CORRAL_STEP_HOSTNAME, errno, cfg->hostname);
    }

    if (fds.release_r >= 0) {
        // The parent is writing our pid into the v1 cgroups; the task must not start before that.
        char go = 0;
        ssize_t n;
        do {
            n = read(fds.release_r, &go, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(125);  // the parent gave up; it already knows why
        close(fds.release_r);
        fds.release_r = -1;
    }

    // Now that PID 1 is in every cgroup of the task, its cgroup becomes the task's `/`: the task learns
    // nothing of the host's hierarchy from /proc/self/cgroup or mountinfo.
    if (cfg->isolate && unshare(CLONE_NEWCGROUP) != 0) fail(&fds, CORRAL_STEP_CGROUP_NS, errno, NULL);

    pid_t task = corral_start_task(cfg, &fds);  // returns after the task's exec (or its failure)
    if (task < 0) _exit(125);
    // The CPU quota goes on now, before the error pipe's last write end closes: the agent learns of the
    // exec once every limit is in force, and Corral's setup did not spend a small quota (csandbox.h). After
    // the write the period's quota is fresh, so nothing here waits for a throttled period. Failing, we
    // leave, and the pid namespace's end takes the task with us.
    if (fds.cpu_quota >= 0 && cfg->cpu_quota) {
        size_t len = strlen(cfg->cpu_quota);
        if (write(fds.cpu_quota, cfg->cpu_quota, len) != (ssize_t)len)
            fail(&fds, CORRAL_STEP_CPU_QUOTA, errno, cfg->cpu_quota_path);
    }
    close(fds.error_w);

    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&waited, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(task, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != task) continue;  // an orphan re-parented to us: reaped, nothing more
            if (fds.cpu_quota >= 0 && cfg->cpu_quota_lift) {
                ssize_t ignored = write(fds.cpu_quota, cfg->cpu_quota_lift, strlen(cfg->cpu_quota_lift));
                (void)ignored;  // at worst the teardown runs under the task's quota
            }
            write_status(fds.status, status);
            // Leaving tears the pid namespace down: the kernel kills whatever the task left behind.
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
    }
}
