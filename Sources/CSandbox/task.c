// The task (PID 2): rlimits, drop to the requested user with no capabilities, stdio, exec.
// Started by PID 1 with vfork semantics (CLONE_VM | CLONE_VFORK) on a stack of its own: no page tables
// are copied and PID 1 sleeps until the exec, so the two never run on the shared memory at once.
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASK_STACK_SIZE (256 * 1024)
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct task_args {
    const corral_spawn_config *cfg;
    const corral_child_fds *fds;
} task_args;

__attribute__((noreturn)) static void fail(const task_args *a, int step, int err, const char *path) {
    corral_report(a->fds->error_w, step, err, path);
    _exit(step == CORRAL_STEP_EXEC ? (err == ENOENT ? 127 : 126) : 125);
}

/// The agent may protect itself from the OOM killer (OOMScoreAdjust=-900); its tasks must not inherit
/// that. Raising the score needs no privilege, so this can go first.
static void reset_oom_score(const task_args *a) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) fail(a, CORRAL_STEP_OOM_SCORE, errno, "/proc/self/oom_score_adj");
    close(fd);
}

int corral_bounding_set_empty = 0;

int corral_drop_bounding_set(void) {
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        return errno == EINVAL ? 0 : -1;
    }
    return 0;
}

static void drop_privileges(const task_args *a) {
    const corral_spawn_config *cfg = a->cfg;
    for (int i = 0; i < cfg->nrlimits; i++) {
        struct rlimit rl = {.rlim_cur = cfg->rlimits[i].soft, .rlim_max = cfg->rlimits[i].hard};
        if (syscall(SYS_setrlimit, cfg->rlimits[i].resource, &rl) != 0) fail(a, CORRAL_STEP_RLIMIT, errno, NULL);
    }
    // The bounding set needs CAP_SETPCAP, so it goes before setuid. A task cloned by the spawner
    // inherited an empty one.
    if (!corral_bounding_set_empty && corral_drop_bounding_set() != 0) fail(a, CORRAL_STEP_DROP_BOUNDING, errno, NULL);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    // Raw syscalls, not glibc's wrappers: glibc still believes it runs in the multi-threaded agent and
    // would broadcast the change to threads that do not exist here, taking a lock another agent thread
    // may have held at clone time (a deadlock the integration tests hit). This process has one thread.
    if (syscall(SYS_setgroups, (size_t)cfg->ngroups, (const gid_t *)cfg->groups) != 0) fail(a, CORRAL_STEP_SETGROUPS, errno, NULL);
    if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) != 0) fail(a, CORRAL_STEP_SETGID, errno, NULL);
    if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) != 0) fail(a, CORRAL_STEP_SETUID, errno, NULL);
    // A non-zero uid has already lost its capabilities; clear them explicitly for a task run as root.
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0) fail(a, CORRAL_STEP_CAPSET, errno, NULL);
    // After the credential change, which clears it. A parent outside our pid namespace reads as 0 here;
    // anything else means it is already gone.
    if (cfg->parent_death_signal) {
        if (prctl(PR_SET_PDEATHSIG, cfg->parent_death_signal, 0, 0, 0) != 0) fail(a, CORRAL_STEP_ENTER, errno, NULL);
        if (getppid() != 0) _exit(125);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(a, CORRAL_STEP_NO_NEW_PRIVS, errno, NULL);
    if (cfg->seccomp && corral_seccomp_install() != 0) fail(a, CORRAL_STEP_SECCOMP, errno, NULL);
}

static void setup_stdio(const task_args *a) {
    // Move the sources above 2 first so that any permutation (stdout <-> stderr) survives the dup2s.
    int in = fcntl(a->fds->in, F_DUPFD, 3);
    int out = fcntl(a->fds->out, F_DUPFD, 3);
    int err = fcntl(a->fds->err, F_DUPFD, 3);
    if (in < 0 || out < 0 || err < 0) fail(a, CORRAL_STEP_STDIO, errno, NULL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) fail(a, CORRAL_STEP_STDIO, errno, NULL);
    // Everything else closes at exec, the error pipe included: EOF there tells the agent exec worked.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(a, CORRAL_STEP_STDIO, errno, NULL);
}

static void reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++) sigaction(sig, &sa, NULL);  // fails harmlessly for KILL/STOP
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/// execvp without malloc: PATH is walked with a stack buffer. EACCES wins over ENOENT, as in execvp.
__attribute__((noreturn)) static void exec_task(const task_args *a) {
    const corral_spawn_config *cfg = a->cfg;
    const char *file = cfg->argv[0];
    char *const *argv = (char *const *)cfg->argv;
    char *const *envp = (char *const *)cfg->envp;
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        fail(a, CORRAL_STEP_EXEC, errno, file);
    }
    const char *search = cfg->search_path ? cfg->search_path : DEFAULT_SEARCH_PATH;
    int best = ENOENT;
    char path[4096];
    size_t flen = strlen(file);
    for (const char *p = search; ; ) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen + flen + 2 <= sizeof(path)) {
            size_t i = 0;
            if (dlen == 0) path[i++] = '.';
            memcpy(path + i, p, dlen);
            i += dlen;
            path[i++] = '/';
            memcpy(path + i, file, flen + 1);
            execve(path, argv, envp);
            if (errno == EACCES) best = EACCES;
            else if (errno != ENOENT && errno != ENOTDIR && best == ENOENT) best = errno;
        }
        if (!end) break;
        p = end + 1;
    }
    fail(a, CORRAL_STEP_EXEC, best, file);
}

static int task_main(void *arg) {
    const task_args *a = arg;
    reset_oom_score(a);
    drop_privileges(a);
    setup_stdio(a);
    // Group read-write, nothing for others: every task has a uid of its own, so "others" are only other
    // tasks, and the group is either the task's own or, in a shared volume (setgid), its tenant's.
    umask(007);
    const char *cwd = a->cfg->cwd ? a->cfg->cwd : "/";
    if (chdir(cwd) != 0) fail(a, CORRAL_STEP_CHDIR, errno, cwd);
    reset_signals();
    exec_task(a);
}

pid_t corral_start_task(const corral_spawn_config *cfg, const corral_child_fds *fds) {
    void *stack = mmap(NULL, TASK_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        corral_report(fds->error_w, CORRAL_STEP_FORK_TASK, errno, NULL);
        return -1;
    }
    task_args a = {.cfg = cfg, .fds = fds};
    pid_t pid = clone(task_main, (char *)stack + TASK_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int saved = errno;
    munmap(stack, TASK_STACK_SIZE);  // the task has exec'd or exited: the stack is ours again
    if (pid < 0) {
        corral_report(fds->error_w, CORRAL_STEP_FORK_TASK, saved, NULL);
        errno = saved;
        return -1;
    }
    return pid;
}
