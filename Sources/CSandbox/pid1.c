// The sandbox's PID 1: mount namespace, hostname, loopback, then the task (PID 2), then the reaper loop.
// Runs in a clone3 child of a multi-threaded process: async-signal-safe code only (see internal.h).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_MOUNT_FLAGS (MS_NOSUID | MS_NODEV)

__attribute__((noreturn)) static void fail(const corral_child_fds *fds, int step, int err, const char *path) {
    corral_report(fds->error_w, step, err, path);
    _exit(125);
}

/// Formats v in decimal after prefix into out; returns the length.
static size_t format_u64(char *out, size_t n, const char *prefix, uint64_t v) {
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

static void mount_at(const corral_child_fds *fds, int step, const char *root, const char *where,
                     const char *source, const char *type, unsigned long flags, const char *data) {
    char path[4096];
    if (corral_join(path, sizeof(path), root, where) != 0) fail(fds, step, ENAMETOOLONG, where);
    if (mount(source, path, type, flags, data) != 0) fail(fds, step, errno, path);
}

/// mkdir -p of `where` under root; existing directories are fine (an image may have them).
static void make_dirs(const corral_child_fds *fds, int step, const char *root, const char *where, mode_t mode) {
    char path[4096];
    if (corral_join(path, sizeof(path), root, where) != 0) fail(fds, step, ENAMETOOLONG, where);
    size_t skip = strlen(root) + 1;
    for (size_t i = skip; ; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        char saved = path[i];
        path[i] = 0;
        if (mkdir(path, mode) != 0 && errno != EEXIST) fail(fds, step, errno, path);
        path[i] = saved;
        if (!saved) break;
    }
}

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define AT_RECURSIVE 0x8000
struct mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/// Makes the mount at path and every mount below it read-only, nosuid and nodev (mount_setattr, 5.12+;
/// older kernels: the top mount only, by a bind remount).
static int lock_down_tree(const char *path) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0) return 0;
    if (errno != ENOSYS) return -1;
    return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

/// The task's root without an image: a tmpfs with the configured host directories bound read-only and
/// the host's top-level symlinks (/bin -> usr/bin) repeated. Nothing else of the host is in it.
static void assemble_root(const corral_spawn_config *cfg, const corral_child_fds *fds) {
    const char *root = cfg->root_dir;
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=256k,nr_inodes=256") != 0)
        fail(fds, CORRAL_STEP_ASSEMBLE_ROOT, errno, root);
    char path[4096];
    for (const char *const *bind = cfg->root_binds; bind && *bind; bind++) {
        make_dirs(fds, CORRAL_STEP_ASSEMBLE_ROOT, root, *bind, 0755);
        if (corral_join(path, sizeof(path), root, *bind) != 0) fail(fds, CORRAL_STEP_ASSEMBLE_ROOT, ENAMETOOLONG, *bind);
        if (mount(*bind, path, NULL, MS_BIND | MS_REC, NULL) != 0 || lock_down_tree(path) != 0)
            fail(fds, CORRAL_STEP_ASSEMBLE_ROOT, errno, *bind);
    }
    for (const char *const *link = cfg->root_links; link && link[0] && link[1]; link += 2) {
        if (corral_join(path, sizeof(path), root, link[0]) != 0) fail(fds, CORRAL_STEP_ASSEMBLE_ROOT, ENAMETOOLONG, link[0]);
        if (symlink(link[1], path) != 0) fail(fds, CORRAL_STEP_ASSEMBLE_ROOT, errno, path);
    }
}

/// A minimal /dev: the usual character devices, the /proc/self/fd links, a private devpts and /dev/shm.
/// Only these devices are allowed by the task's cgroup as well (see Cgroup+Devices).
static void populate_dev(const corral_spawn_config *cfg, const corral_child_fds *fds, const char *root) {
    if (!cfg->rootfs) make_dirs(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev", 0755);
    mount_at(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k");
    static const struct {
        const char *name;
        unsigned int major, minor;
    } nodes[] = {{"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                 {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    char path[4096];
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        if (corral_join(path, sizeof(path), root, nodes[i].name) != 0) fail(fds, CORRAL_STEP_MOUNT_DEV, ENAMETOOLONG, nodes[i].name);
        if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) != 0)
            fail(fds, CORRAL_STEP_MOUNT_DEV, errno, path);
    }
    static const struct {
        const char *target, *link;
    } links[] = {{"/proc/self/fd", "/dev/fd"},
                 {"/proc/self/fd/0", "/dev/stdin"},
                 {"/proc/self/fd/1", "/dev/stdout"},
                 {"/proc/self/fd/2", "/dev/stderr"},
                 {"pts/ptmx", "/dev/ptmx"}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        if (corral_join(path, sizeof(path), root, links[i].link) != 0) fail(fds, CORRAL_STEP_MOUNT_DEV, ENAMETOOLONG, links[i].link);
        if (symlink(links[i].target, path) != 0) fail(fds, CORRAL_STEP_MOUNT_DEV, errno, path);
    }
    make_dirs(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev/pts", 0755);
    mount_at(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620");
    make_dirs(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev/shm", 01777);
    char shm_opts[64] = "mode=1777";
    if (cfg->tmp_size) format_u64(shm_opts + 9, sizeof(shm_opts) - 9, ",size=", cfg->tmp_size);
    mount_at(fds, CORRAL_STEP_MOUNT_DEV, root, "/dev/shm", "tmpfs", "tmpfs", DEFAULT_MOUNT_FLAGS, shm_opts);
}

/// runc's default masked and read-only paths. A masked file gets /dev/null bound over it, a masked
/// directory an empty read-only tmpfs; paths this kernel does not have are skipped.
static void mask_paths(const corral_child_fds *fds, const char *root) {
    static const char *const masked[] = {
        "/proc/acpi",        "/proc/asound",      "/proc/kcore",       "/proc/keys",  "/proc/latency_stats",
        "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",  "/sys/firmware",
        "/sys/devices/virtual/powercap",
    };
    static const char *const read_only[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    char path[4096], null_path[4096];
    if (corral_join(null_path, sizeof(null_path), root, "/dev/null") != 0) fail(fds, CORRAL_STEP_MASK_PATHS, ENAMETOOLONG, "/dev/null");
    for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
        if (corral_join(path, sizeof(path), root, masked[i]) != 0) fail(fds, CORRAL_STEP_MASK_PATHS, ENAMETOOLONG, masked[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            if (errno == ENOENT) continue;
            fail(fds, CORRAL_STEP_MASK_PATHS, errno, masked[i]);
        }
        int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,nr_inodes=1")
                                     : mount(null_path, path, NULL, MS_BIND, NULL);
        if (rc != 0) fail(fds, CORRAL_STEP_MASK_PATHS, errno, masked[i]);
    }
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
        if (corral_join(path, sizeof(path), root, read_only[i]) != 0) fail(fds, CORRAL_STEP_MASK_PATHS, ENAMETOOLONG, read_only[i]);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
            if (errno == ENOENT) continue;
            fail(fds, CORRAL_STEP_MASK_PATHS, errno, read_only[i]);
        }
        if (lock_down_tree(path) != 0) fail(fds, CORRAL_STEP_MASK_PATHS, errno, read_only[i]);
    }
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

/// Mount namespace: private propagation, the task's own root (an image, or one assembled from host
/// directories), its work dir, private /tmp and /dev/shm, fresh /proc and read-only /sys with the masked
/// paths, then pivot_root into it, read-only. With neither an image nor a root_dir (the C tests only) the
/// task keeps the host's root with a private /tmp and /proc.
/// The work dir is bound first: its source may live under the host's /tmp, which the tmpfs then hides.
static void setup_mounts(const corral_spawn_config *cfg, const corral_child_fds *fds) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail(fds, CORRAL_STEP_MOUNT_PRIVATE, errno, "/");
    const char *root = cfg->rootfs ? cfg->rootfs : cfg->root_dir ? cfg->root_dir : "";
    int own_root = *root != 0;
    if (cfg->rootfs) {
        // Images are shared by every task that names them: the task gets them read-only, and a device node
        // or setuid file shipped in one is inert.
        // The mount points go in first (the image is ours to extend), then the whole tree is locked down.
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) != 0) fail(fds, CORRAL_STEP_BIND_ROOTFS, errno, root);
        static const char *const points[] = {"/tmp", "/proc", "/dev", "/sys"};
        for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
            make_dirs(fds, CORRAL_STEP_BIND_ROOTFS, root, points[i], 0755);
        make_dirs(fds, CORRAL_STEP_BIND_ROOTFS, root, cfg->work_target ? cfg->work_target : "/work", 0755);
        if (lock_down_tree(root) != 0) fail(fds, CORRAL_STEP_READONLY_ROOT, errno, root);
    } else if (own_root) {
        assemble_root(cfg, fds);
    }
    if (cfg->work_source) {
        const char *target = cfg->work_target ? cfg->work_target : "/work";
        char path[4096];
        if (corral_join(path, sizeof(path), root, target) != 0) fail(fds, CORRAL_STEP_BIND_WORKDIR, ENAMETOOLONG, target);
        if (cfg->root_dir && !cfg->rootfs) make_dirs(fds, CORRAL_STEP_BIND_WORKDIR, root, target, 0755);
        if (mount(cfg->work_source, path, NULL, MS_BIND | MS_REC, NULL) != 0)
            fail(fds, CORRAL_STEP_BIND_WORKDIR, errno, cfg->work_source);
    }
    char tmp_opts[64] = "mode=1777";
    if (cfg->tmp_size) format_u64(tmp_opts + 9, sizeof(tmp_opts) - 9, ",size=", cfg->tmp_size);
    if (cfg->root_dir && !cfg->rootfs) make_dirs(fds, CORRAL_STEP_MOUNT_TMP, root, "/tmp", 01777);
    mount_at(fds, CORRAL_STEP_MOUNT_TMP, root, "/tmp", "tmpfs", "tmpfs", DEFAULT_MOUNT_FLAGS, tmp_opts);
    if (cfg->root_dir && !cfg->rootfs) make_dirs(fds, CORRAL_STEP_MOUNT_PROC, root, "/proc", 0555);
    mount_at(fds, CORRAL_STEP_MOUNT_PROC, root, "/proc", "proc", "proc", DEFAULT_MOUNT_FLAGS | MS_NOEXEC, NULL);
    if (!own_root) return;

    populate_dev(cfg, fds, root);
    if (!cfg->rootfs) make_dirs(fds, CORRAL_STEP_MOUNT_SYS, root, "/sys", 0555);
    mount_at(fds, CORRAL_STEP_MOUNT_SYS, root, "/sys", "sysfs", "sysfs", MS_RDONLY | DEFAULT_MOUNT_FLAGS | MS_NOEXEC, NULL);
    mask_paths(fds, root);
    // The assembled root's tmpfs itself (its binds are read-only already); an image was locked down above.
    if (!cfg->rootfs && mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        fail(fds, CORRAL_STEP_READONLY_ROOT, errno, root);
    // pivot_root(".", ".") stacks the old root under the new one; detaching "." then drops the old root.
    if (chdir(root) != 0) fail(fds, CORRAL_STEP_PIVOT_ROOT, errno, root);
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail(fds, CORRAL_STEP_PIVOT_ROOT, errno, root);
    if (umount2(".", MNT_DETACH) != 0) fail(fds, CORRAL_STEP_PIVOT_ROOT, errno, "old root");
    if (chdir("/") != 0) fail(fds, CORRAL_STEP_PIVOT_ROOT, errno, "/");
}

static void ignore_signal(int sig) { (void)sig; }

static void write_status(int fd, int status) {
    if (fd < 0) return;
    char line[32];
    size_t n = WIFEXITED(status) ? format_u64(line, sizeof(line), "exit ", (uint64_t)WEXITSTATUS(status))
                                 : format_u64(line, sizeof(line), "signal ", (uint64_t)WTERMSIG(status));
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
        setup_mounts(cfg, &fds);
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
