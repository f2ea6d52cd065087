// Kernel interfaces for Swift that its Glibc module does not import (epoll, inotify, fallocate, SEEK_DATA,
// statfs, pidfd, pipe2), and
// the plain posix_spawn baseline of the benchmarks. Called from ordinary threads, not after clone.
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

_Static_assert(CORRAL_EPOLLIN == EPOLLIN && CORRAL_EPOLLPRI == EPOLLPRI, "epoll constants");
_Static_assert(CORRAL_EPOLLONESHOT == (int)EPOLLONESHOT && CORRAL_O_PATH == O_PATH, "epoll/open constants");

int corral_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

long corral_fs_type(const char *path) {
    struct statfs fs;
    return statfs(path, &fs) == 0 ? (long)fs.f_type : 0;
}

int corral_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int corral_epoll_add(int epfd, int fd, uint32_t events, uint64_t cookie) {
    struct epoll_event ev = {.events = events, .data.u64 = cookie};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int corral_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno; }

int corral_epoll_wait(int epfd, uint64_t *cookies, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) cookies[i] = events[i].data.u64;
    return n;
}

int corral_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int corral_pidfd_signal(int pidfd, int sig) {
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int corral_pidfd_reap(int pidfd, int *code, int *status) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    for (;;) {
        if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) == 0) break;
        if (errno != EINTR) return -errno;
    }
    if (info.si_pid == 0) return 0;
    *code = info.si_code;
    *status = info.si_status;
    return 1;
}

int corral_plain_run(const char *const *argv, int quiet) {
    pid_t pid;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (quiet) {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    int rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -rc;
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    return status;
}


int corral_inotify_init(void) {
    int fd = inotify_init1(IN_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int corral_inotify_watch_modify(int inotify_fd, const char *path) {
    int wd = inotify_add_watch(inotify_fd, path, IN_MODIFY | IN_DONT_FOLLOW);
    return wd < 0 ? -errno : wd;
}

int corral_inotify_unwatch(int inotify_fd, int wd) { return inotify_rm_watch(inotify_fd, wd) == 0 ? 0 : -errno; }

int corral_inotify_read(int inotify_fd, int *wds, int max) {
    char buffer[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    do {
        n = read(inotify_fd, buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    int count = 0;
    for (char *p = buffer; p < buffer + n && count < max;) {
        const struct inotify_event *event = (const struct inotify_event *)p;
        if (event->mask & IN_MODIFY) wds[count++] = event->wd;
        p += sizeof(struct inotify_event) + event->len;
    }
    return count;
}

int corral_punch_hole(int fd, long long offset, long long length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -errno;
}

long long corral_seek_data(int fd, long long offset) {
    off_t at = lseek(fd, offset, SEEK_DATA);
    if (at >= 0) return at;
    if (errno != ENXIO) return -errno;
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -errno;
}

double corral_thread_cpu_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
