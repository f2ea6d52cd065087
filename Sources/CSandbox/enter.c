// A command run inside a running sandbox (an exec health check): the same cgroups, namespaces, user,
// capabilities (none) and seccomp filter as the task, so it can do no more than the task itself.
//
// An intermediate process is cloned from the caller, joins the task's cgroups by writing "0" to their
// procs/tasks files, enters the namespaces of the task's PID 1 through its pidfd (one setns), and
// starts the command with the task's own path (task.c: privilege drop, stdio, exec) as a child in the
// task's pid namespace. It then waits for it and exits with its status (128 + N for signal N). SIGTERM to
// the intermediate kills the command; should the intermediate itself die, the command dies with it
// (PR_SET_PDEATHSIG).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noreturn)) static void enter_main(const corral_spawn_config *cfg, corral_child_fds fds, int target) {
    int keep[] = {fds.in, fds.out, fds.err, fds.error_w, target};
    corral_close_all_except(keep, (int)(sizeof(keep) / sizeof(keep[0])));
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);  // the command's own mask is reset in task.c

    for (const char *const *file = cfg->join_files; file && *file; file++) {
        int fd = open(*file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || write(fd, "0", 1) != 1) corral_setup_fail(&fds, CORRAL_STEP_JOIN_CGROUP, errno, *file);
        close(fd);
    }
    // Out of the caller's session and process group, as the task's PID 1 is: a terminal's ^C or a signal
    // to the agent's group must not reach it.
    if (setsid() < 0) corral_setup_fail(&fds, CORRAL_STEP_SETSID, errno, NULL);
    int namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
    if (setns(target, namespaces) != 0) corral_setup_fail(&fds, CORRAL_STEP_ENTER, errno, NULL);
    close(target);

    pid_t child = corral_start_task(cfg, &fds);  // returns after the command's exec (or its failure)
    close(fds.error_w);
    if (child < 0) _exit(125);
    // SIGTERM (the caller's timeout) kills the command, and we reap it ourselves: a child of a process
    // outside the pid namespace that outlives its parent goes to the host's reaper, and the task's PID 1
    // cannot end until that one gets round to it.
    sigset_t waited;
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    sigaddset(&waited, SIGTERM);
    for (;;) {
        int sig = sigwaitinfo(&waited, NULL);
        if (sig == SIGTERM) kill(child, SIGKILL);
        int status;
        pid_t pid = waitpid(child, &status, WNOHANG);
        if (pid == child) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (pid < 0 && errno != EINTR) _exit(125);
    }
}

int corral_enter(const corral_spawn_config *cfg, int target_pidfd, corral_spawn_handle *out) {
    if (!cfg->parent_death_signal) return -EINVAL;  // the command must not outlive a killed handle
    int error_pipe[2] = {-1, -1};
    if (pipe2(error_pipe, O_CLOEXEC) != 0) return -errno;
    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0) {
        int e = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        return -e;
    }
    if (pid == 0) {
        corral_child_fds fds = {
            .in = cfg->stdin_fd,
            .out = cfg->stdout_fd,
            .err = cfg->stderr_fd,
            .status = -1,
            .error_w = error_pipe[1],
            .release_r = -1,
            .cpu_quota = -1,
        };
        enter_main(cfg, fds, target_pidfd);
    }
    close(error_pipe[1]);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->error_fd = error_pipe[0];
    out->release_fd = -1;
    return 0;
}
