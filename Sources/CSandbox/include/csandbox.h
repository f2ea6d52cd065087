// CSandbox: the only C in Corral.
//
// It owns the syscalls that Swift cannot make safely between clone and exec: clone3 into a cgroup with
// new namespaces, the mount/hostname setup of the sandbox's PID 1, the PID-1 reaper loop, and the
// privilege drop + exec of the task (PID 2). Everything else (cgroup files, waiting on pidfds, stats)
// is Swift. Every exported symbol is prefixed `corral_`.
#ifndef CORRAL_CSANDBOX_H
#define CORRAL_CSANDBOX_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>  // getxattr, for Swift (systemd delegation marks)

/// The setup step that failed, carried back with errno and a path through the error pipe.
typedef enum corral_step {
    CORRAL_STEP_NONE = 0,
    CORRAL_STEP_CLONE,
    CORRAL_STEP_WAIT_PARENT,
    CORRAL_STEP_JOIN_CGROUP,
    CORRAL_STEP_SETSID,
    CORRAL_STEP_MOUNT_PRIVATE,
    CORRAL_STEP_BIND_ROOTFS,
    CORRAL_STEP_ASSEMBLE_ROOT,
    CORRAL_STEP_BIND_WORKDIR,
    CORRAL_STEP_BIND_VOLUME,
    CORRAL_STEP_MOUNT_TMP,
    CORRAL_STEP_MOUNT_PROC,
    CORRAL_STEP_MOUNT_DEV,
    CORRAL_STEP_MOUNT_SYS,
    CORRAL_STEP_MASK_PATHS,
    CORRAL_STEP_PIVOT_ROOT,
    CORRAL_STEP_READONLY_ROOT,
    CORRAL_STEP_HOSTNAME,
    CORRAL_STEP_LOOPBACK,
    CORRAL_STEP_CGROUP_NS,
    CORRAL_STEP_FORK_TASK,
    CORRAL_STEP_OOM_SCORE,
    CORRAL_STEP_RLIMIT,
    CORRAL_STEP_DROP_BOUNDING,
    CORRAL_STEP_SETGROUPS,
    CORRAL_STEP_SETGID,
    CORRAL_STEP_SETUID,
    CORRAL_STEP_CAPSET,
    CORRAL_STEP_NO_NEW_PRIVS,
    CORRAL_STEP_SECCOMP,
    CORRAL_STEP_STDIO,
    CORRAL_STEP_CHDIR,
    CORRAL_STEP_CPU_QUOTA,
    CORRAL_STEP_EXEC,
    CORRAL_STEP_ENTER,
} corral_step;

typedef struct corral_rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
} corral_rlimit;

typedef struct corral_spawn_config {
    const char *const *argv;  ///< NULL-terminated; argv[0] is a path or a name looked up in search_path
    const char *const *envp;  ///< NULL-terminated
    const char *search_path;  ///< colon-separated PATH used when argv[0] has no '/', NULL = default
    const char *cwd;          ///< directory inside the sandbox the task starts in, NULL = "/"
    int cgroup_fd;            ///< cgroup2 directory for CLONE_INTO_CGROUP, or -1
    /// v1 `tasks` files PID 1 writes "0" to before anything else (NULL-terminated, or NULL). A thread
    /// moving itself skips the kernel's cgroup_threadgroup_rwsem, whose writers wait for an RCU grace
    /// period: measured here 60 us for four hierarchies against 230 us (and spikes of ms) when the parent
    /// writes the pid into cgroup.procs.
    const char *const *join_files;
    int hold;                 ///< 1: PID 1 waits for corral_release() before it forks the task
    int isolate;              ///< 1: new mount, pid, uts and ipc namespaces and the mount setup below
    int new_network;          ///< 1: new network namespace with only loopback, brought up
    const char *hostname;     ///< set in the new uts namespace, NULL = keep
    const char *rootfs;       ///< image rootfs to pivot_root into (bound read-only, nosuid, nodev)
    /// Without an image: an empty host directory on which PID 1 mounts a small tmpfs and assembles the task's
    /// root from root_binds (host directories bound read-only, nosuid, nodev) and root_links (pairs: path,
    /// symlink target, as merged-/usr hosts have /bin -> usr/bin). NULL with rootfs NULL: the host's root
    /// (only for the C tests).
    const char *root_dir;
    const char *const *root_binds;  ///< NULL-terminated absolute paths
    const char *const *root_links;  ///< NULL-terminated, flattened pairs
    int seccomp;              ///< 1: the task runs under Corral's default seccomp filter (seccomp.c)
    const char *work_source;  ///< host directory bound at work_target, NULL = none
    const char *work_target;  ///< absolute path inside the sandbox, e.g. "/work"
    /// More host directories bound into the task (volumes): NULL-terminated, flattened triples of source,
    /// absolute target, and "ro" or "rw", or "file" for one regular file bound read-only (its mount point
    /// must exist in an assembled root; an image gets an empty file). Every one is nosuid and nodev; "ro"
    /// and "file" ones read-only. NULL = none.
    const char *const *mounts;
    uint64_t tmp_size;        ///< size of the private /tmp and /dev/shm tmpfs in bytes, 0 = kernel default
    uint32_t uid;
    uint32_t gid;
    const uint32_t *groups;   ///< supplementary groups
    int ngroups;
    const corral_rlimit *rlimits;
    int nrlimits;
    int stdin_fd, stdout_fd, stderr_fd;  ///< the task's stdio (must be valid descriptors)
    int status_fd;            ///< PID 1 writes "exit N\n" or "signal N\n" here when the task ends, or -1
    /// The cgroup's CPU quota file (cpu.max, or v1 cpu.cfs_quota_us) open for writing, or -1, and the value
    /// PID 1 writes to it once the task has exec'd, before it lets the caller know (cpu_quota_path names
    /// the file in errors). Until then the sandbox's setup runs without a quota: with a small one (10m is
    /// 1 ms per 100 ms period) the setup's own ~1-2 ms of CPU would exhaust the period and stall the
    /// task's start by up to 100 ms. The task runs unthrottled only between its exec and that write.
    int cpu_quota_fd;
    const char *cpu_quota;
    const char *cpu_quota_path;
    /// Written to cpu_quota_fd once the task has ended (NULL = nothing): PID 1's own end (the namespaces'
    /// teardown, killing what the task left behind) is Corral's work too and must not wait for a period.
    const char *cpu_quota_lift;
    /// Sent to the task when the process that started it dies (PR_SET_PDEATHSIG), 0 = none. Only for
    /// corral_enter, whose starter is an intermediate outside the task's pid namespace.
    int parent_death_signal;
} corral_spawn_config;

typedef struct corral_spawn_handle {
    pid_t pid;       ///< host pid of the sandbox's PID 1
    int pidfd;       ///< pidfd of PID 1 (close-on-exec)
    int release_fd;  ///< write end of the hold pipe, or -1 (see corral_release)
    int error_fd;    ///< read end of the close-on-exec error pipe (see corral_await_exec)
} corral_spawn_handle;

typedef struct corral_setup_error {
    int32_t err;   ///< errno
    int32_t step;  ///< corral_step
    char path[240];
} corral_setup_error;

/// Starts the sandbox's PID 1. Returns 0 and fills `out`, or a negative errno (nothing is left running).
/// With `cfg->hold`, PID 1 prepares the namespaces and then waits until corral_release() before it forks
/// the task, so the caller can put it in v1 cgroups first and no task code runs unconfined.
int corral_spawn(const corral_spawn_config *cfg, corral_spawn_handle *out);

/// Starts the spawner (see spawner.c): `exe` (this program's own binary) re-executed as a small helper
/// that clones sandboxes with CLONE_PARENT, so launch cost does not grow with the caller's memory.
/// Returns the caller's end of the socket (close it to stop the spawner; then reap *pid_out), or -errno.
int corral_spawner_start(const char *exe, pid_t *pid_out);

/// The spawner's argv[1]: what tells a running process apart as a spawner (`/proc/PID/cmdline`).
#define CORRAL_SPAWNER_ARG "__corral_spawner"

/// corral_spawn performed by the spawner on `sock`: same contract, PID 1 is still the caller's child.
/// -EPIPE (or -ECONNRESET) means the spawner is gone; -E2BIG that the request does not fit a message.
int corral_spawn_via(int sock, const corral_spawn_config *cfg, corral_spawn_handle *out);

/// Runs cfg's command inside the running sandbox whose PID 1 `target_pidfd` names: cfg->join_files are
/// the task's cgroup procs/tasks files (written "0" to join them), then its namespaces, then the task's
/// privilege drop (uid, gid, groups, rlimits, seccomp, cwd, stdio) and exec. cfg->parent_death_signal
/// must be set (SIGKILL). Fills `out` with an intermediate process that exits with the command's status
/// (128 + N when killed by signal N) and kills the command on SIGTERM; corral_await_exec reports the exec.
/// Returns 0 or a negative errno.
int corral_enter(const corral_spawn_config *cfg, int target_pidfd, corral_spawn_handle *out);

/// Lets a held PID 1 go on (go = 1) or makes it exit without running the task (go = 0).
/// Closes release_fd. Returns 0 or a negative errno.
int corral_release(corral_spawn_handle *h, int go);

/// Blocks until the task has exec'd (returns 0) or a setup step failed (returns 1 and fills err).
/// Closes error_fd. A negative errno if the pipe itself failed.
int corral_await_exec(corral_spawn_handle *h, corral_setup_error *err);

/// Name of a corral_step for messages ("pivot_root", "exec", ...).
const char *corral_step_name(int step);

/// pidfd_open(2); returns the fd or a negative errno.
int corral_pidfd_open(pid_t pid);

/// pidfd_send_signal(2); returns 0 or a negative errno.
int corral_pidfd_signal(int pidfd, int sig);

/// waitid(P_PIDFD, ..., WEXITED | WNOHANG). Returns 1 and fills code/status when the child has ended,
/// 0 while it runs, or a negative errno. code is CLD_EXITED/CLD_KILLED/CLD_DUMPED.
int corral_pidfd_reap(int pidfd, int *code, int *status);

/// Kernel constants Swift's Glibc module does not import.
enum {
    CORRAL_EPOLLIN = 0x001,
    CORRAL_EPOLLPRI = 0x002,
    CORRAL_EPOLLONESHOT = 1u << 30,
    CORRAL_O_PATH = 010000000,
};

/// epoll(7) for the descriptor waiter, with a 64-bit cookie per registration (epoll_event is a packed
/// union Swift cannot import). Each returns what the syscall returns, or a negative errno.
int corral_epoll_create(void);
int corral_epoll_add(int epfd, int fd, uint32_t events, uint64_t cookie);
int corral_epoll_del(int epfd, int fd);
/// Fills cookies[0..n) for ready registrations; blocks up to timeout_ms (-1 forever).
int corral_epoll_wait(int epfd, uint64_t *cookies, int max, int timeout_ms);

/// Log bounds: an inotify instance (close-on-exec) and a watch for modifications of `path`; -errno on failure.
int corral_inotify_init(void);
int corral_inotify_watch_modify(int inotify_fd, const char *path);
int corral_inotify_unwatch(int inotify_fd, int wd);
/// Blocks for inotify events; fills up to `max` watch descriptors of IN_MODIFY events, returns how many
/// (0 when only other events came), or -errno.
int corral_inotify_read(int inotify_fd, int *wds, int max);
/// Frees the blocks of [offset, offset+length) of a file, keeping its size (FALLOC_FL_PUNCH_HOLE); -errno.
int corral_punch_hole(int fd, long long offset, long long length);
/// The offset of the first byte of data at or after `offset` (SEEK_DATA): past the punched-out start of a
/// log; the file's size when there is none; -errno on failure.
long long corral_seek_data(int fd, long long offset);

/// CPU time the calling thread has used, in seconds (CLOCK_THREAD_CPUTIME_ID).
double corral_thread_cpu_seconds(void);

/// pipe2(fds, O_CLOEXEC); 0 or a negative errno.
int corral_pipe_cloexec(int fds[2]);

/// statfs(2) f_type of a path, or 0 when it cannot be read.
long corral_fs_type(const char *path);

/// The plain baseline for benchmarks (and the runner of other runtimes): posix_spawn(argv[0]) with no
/// namespaces, stdout/stderr to /dev/null when quiet, wait for it. Returns the wait status or a negative errno.
int corral_plain_run(const char *const *argv, int quiet);

/// Returns 1 if clone3(CLONE_INTO_CGROUP) works with this cgroup2 directory fd (a child that exits at
/// once is cloned into it and reaped), 0 if the kernel refuses it, negative errno on other failures.
int corral_probe_clone_into_cgroup(int cgroup_fd);

/// Builds the task's seccomp filter (seccomp.c) once in this process; the spawner does it before it serves.
/// 0, or -EINVAL if the program could not be laid out (then every launch with seccomp fails).
int corral_seccomp_prepare(void);

/// Loads the device allowlist program (devices.c) once; returns its fd or a negative errno. `log` (may be
/// NULL) receives the verifier's log when the kernel refuses it.
int corral_device_program_load(char *log, uint32_t log_size);

/// Attaches the program to a cgroup2 directory (an O_PATH or O_DIRECTORY fd); 0 or a negative errno.
int corral_device_program_attach(int program_fd, int cgroup_fd);

/// Forks a child into the cgroup (cgroup2 directory fd, or the v1 `tasks_file` when not NULL) that opens
/// /dev/null and /dev/kmsg. Returns 0 when /dev/null opened and /dev/kmsg was refused with EPERM, a
/// positive code otherwise (1: /dev/null refused, 2: /dev/kmsg opened, 10: could not join), or -errno.
int corral_probe_device_allowlist(int cgroup_fd, const char *tasks_file);

#endif
