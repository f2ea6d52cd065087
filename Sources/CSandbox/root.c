// The task's root, set up by the sandbox's PID 1 in its new mount namespace: the image or a root assembled
// from host directories, /work, /tmp, /dev, /proc, /sys with the masked paths, then pivot_root into it.
// Runs in a clone3 child of a multi-threaded process: async-signal-safe code only (see internal.h).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEFAULT_MOUNT_FLAGS (MS_NOSUID | MS_NODEV)
#define fail corral_setup_fail
#define format_u64 corral_format_u64

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

/// mkdir -p of `where` inside an image, never through a symbolic link. An image is hostile input, and PID 1
/// still sees the host's tree here: an absolute link at a mount point (`/data -> /etc`) would have it create
/// directories, and mount, on the host. Each component is opened with O_NOFOLLOW relative to the one before;
/// a link or a non-directory fails the launch (ELOOP, ENOTDIR). Nothing else writes to an image's tree (tasks
/// get it read-only; other PID 1s only add mount points), so the mounts that follow may use the path.
/// With `file`, the last component is an empty regular file instead (a mount point for one file).
static void make_mount_point_in_image(const corral_child_fds *fds, int step, const char *root, const char *where,
                                      int file) {
    int dir = open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) fail(fds, step, errno, root);
    char name[256];
    for (const char *p = where; *p;) {
        while (*p == '/') p++;
        size_t n = 0;
        while (p[n] && p[n] != '/') n++;
        if (n == 0) break;
        if (n >= sizeof(name)) fail(fds, step, ENAMETOOLONG, where);
        memcpy(name, p, n);
        name[n] = 0;
        p += n;
        while (*p == '/') p++;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) fail(fds, step, EINVAL, where);
        int next;
        if (file && !*p) {
            // Looked at before anything opens it: a device node or FIFO shipped in an image is never opened
            // by root here. Absent, it is created (O_EXCL | O_NOFOLLOW: a link is never followed).
            struct stat st;
            if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISREG(st.st_mode)) fail(fds, step, S_ISLNK(st.st_mode) ? ELOOP : EINVAL, where);
            } else if (errno == ENOENT) {
                int made = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (made < 0 && errno != EEXIST) fail(fds, step, errno, where);
                if (made >= 0) close(made);
            } else {
                fail(fds, step, errno, where);
            }
            next = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        } else {
            next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0 && errno == ENOENT && (mkdirat(dir, name, 0755) == 0 || errno == EEXIST))
                next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            struct stat st;
            int err = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ? ELOOP : errno;
            fail(fds, step, err, where);
        }
        close(dir);
        dir = next;
    }
    close(dir);
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

/// The volumes: each host directory bound at its target (made on an assembled root; an image got its
/// mount points before it was locked down), nosuid and nodev, and read-only when asked.
static void bind_volumes(const corral_spawn_config *cfg, const corral_child_fds *fds, const char *root) {
    char path[4096];
    for (const char *const *m = cfg->mounts; m && m[0] && m[1] && m[2]; m += 3) {
        if (corral_join(path, sizeof(path), root, m[1]) != 0) fail(fds, CORRAL_STEP_BIND_VOLUME, ENAMETOOLONG, m[1]);
        int read_only = strcmp(m[2], "rw") != 0;  // "ro", or "file": one file, always read-only
        // A file's mount point exists already: in an image it was made above, an assembled root has it from
        // the host directory bound there.
        if (cfg->root_dir && !cfg->rootfs && strcmp(m[2], "file") != 0)
            make_dirs(fds, CORRAL_STEP_BIND_VOLUME, root, m[1], 0755);
        if (mount(m[0], path, NULL, MS_BIND | MS_REC, NULL) != 0) fail(fds, CORRAL_STEP_BIND_VOLUME, errno, m[0]);
        struct mount_attr attr;
        memset(&attr, 0, sizeof(attr));
        attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
        if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
            unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
            if (errno != ENOSYS || mount(NULL, path, NULL, flags, NULL) != 0) fail(fds, CORRAL_STEP_BIND_VOLUME, errno, m[1]);
        }
    }
}

/// Mount namespace: private propagation, the task's own root (an image, or one assembled from host
/// directories), its work dir, private /tmp and /dev/shm, fresh /proc and read-only /sys with the masked
/// paths, then pivot_root into it, read-only. With neither an image nor a root_dir (the C tests only) the
/// task keeps the host's root with a private /tmp and /proc.
/// The work dir is bound first: its source may live under the host's /tmp, which the tmpfs then hides.
void corral_setup_mounts(const corral_spawn_config *cfg, const corral_child_fds *fds) {
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
            make_mount_point_in_image(fds, CORRAL_STEP_BIND_ROOTFS, root, points[i], 0);
        make_mount_point_in_image(
            fds, CORRAL_STEP_BIND_WORKDIR, root, cfg->work_target ? cfg->work_target : "/work", 0);
        for (const char *const *m = cfg->mounts; m && m[0] && m[1] && m[2]; m += 3)
            make_mount_point_in_image(fds, CORRAL_STEP_BIND_VOLUME, root, m[1], strcmp(m[2], "file") == 0);
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
    bind_volumes(cfg, fds, root);
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

