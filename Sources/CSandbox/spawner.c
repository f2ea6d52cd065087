// The spawner: a small helper process that clones sandboxes for the agent.
//
// clone3 without CLONE_VM copies the caller's address space (mappings, page tables), and PID 1 later
// pays copy-on-write faults and the teardown of that copy. Measured on our machines: 360 us for the
// clone3 alone from the Swift process, 130-165 us from a freshly exec'd one; the whole launch drops
// from ~2.1 ms to ~1.5 ms. So the agent execs its own binary once with argv[1] = "__corral_spawner"; a
// constructor takes over before the Swift runtime starts and serves spawn requests on a SOCK_SEQPACKET
// socket, after unmapping the libraries the loader brought in for Swift (spawner_shed.c: 113 mappings
// and 17.8 MiB resident become 37 and 4.5 MiB, ~10% off the whole launch). PID 1 is cloned with
// CLONE_PARENT: it is still the agent's child (waitid on its pidfd works, and it outlives the spawner).
//
// Wire format: one message per request; the config flattened into a buffer (below) and the stdio,
// status and cgroup descriptors as SCM_RIGHTS. The reply: rc, pid, and pidfd/error/release as SCM_RIGHTS.
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAWNER_FD 3
#define MAX_MESSAGE (256 * 1024)
#define MAX_STRINGS 8192
#define IN_FDS 6  // stdin, stdout, stderr, status, cgroup, CPU quota (each may be absent: index -1)
#define SINGLES 10  // the NUL-terminated strings after the five lists
#define LISTS 6

extern char **environ;

typedef struct wire_header {
    uint32_t size;        // bytes of the whole message
    int32_t hold, isolate, new_network, seccomp;
    uint32_t uid, gid;
    int32_t ngroups, nrlimits;
    uint64_t tmp_size;
    int32_t nargv, nenv, njoin, nbinds, nlinks, nmounts;
    int32_t fd_index[IN_FDS];  // position of each descriptor in SCM_RIGHTS, or -1
    // then: groups (uint32 x ngroups), rlimits (corral_rlimit x nrlimits), then NUL-terminated strings:
    // argv..., envp..., join_files..., root_binds..., root_links..., mounts..., search_path, cwd, hostname, rootfs,
    // work_source, work_target, cpu_quota, cpu_quota_path, cpu_quota_lift, root_dir ("" stands for NULL
    // among the last ten)
} wire_header;

typedef struct wire_reply {
    int32_t rc;
    int32_t pid;
    int32_t has_release;
} wire_reply;

// ---- message plumbing ----

static ssize_t send_with_fds(int sock, const void *data, size_t len, const int *fds, int nfds) {
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t recv_with_fds(int sock, void *data, size_t len, int *fds, int *nfds) {
    struct iovec iov = {.iov_base = data, .iov_len = len};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *nfds = 0;
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)count);
        *nfds += count;
    }
    return n;
}

static int append(char *buf, size_t *at, const char *s) {
    size_t len = strlen(s) + 1;
    if (*at + len > MAX_MESSAGE) return -1;
    memcpy(buf + *at, s, len);
    *at += len;
    return 0;
}

// ---- the agent's side ----

int corral_spawner_start(const char *exe, pid_t *pid_out) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -errno;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Only the socket and /dev/null: the spawner must not keep the agent's pipes (a task's output, a
    // terminal, `| cat`) open, and it has nothing to print.
    posix_spawn_file_actions_adddup2(&actions, sv[1], SPAWNER_FD);  // dup2 clears close-on-exec
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, SPAWNER_FD + 1);
    char *argv[] = {(char *)exe, CORRAL_SPAWNER_ARG, NULL};
    // Every symbol bound at load: the spawner unmaps the libraries it does not use (spawner_shed.c), after
    // which a lazy PLT lookup would walk their unmapped symbol tables.
    char *envp[] = {"LD_BIND_NOW=1", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return -rc;
    }
    *pid_out = pid;
    return sv[0];
}

int corral_spawn_via(int sock, const corral_spawn_config *cfg, corral_spawn_handle *out) {
    char *buf = malloc(MAX_MESSAGE);
    if (!buf) return -ENOMEM;
    wire_header h;
    memset(&h, 0, sizeof(h));
    h.hold = cfg->hold;
    h.isolate = cfg->isolate;
    h.new_network = cfg->new_network;
    h.seccomp = cfg->seccomp;
    h.uid = cfg->uid;
    h.gid = cfg->gid;
    h.ngroups = cfg->ngroups;
    h.nrlimits = cfg->nrlimits;
    h.tmp_size = cfg->tmp_size;
    int fds[IN_FDS];
    int nfds = 0;
    const int given[IN_FDS] = {cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd, cfg->status_fd, cfg->cgroup_fd,
                               cfg->cpu_quota_fd};
    for (int i = 0; i < IN_FDS; i++) {
        h.fd_index[i] = given[i] >= 0 ? nfds : -1;
        if (given[i] >= 0) fds[nfds++] = given[i];
    }
    size_t at = sizeof(h);
    size_t groups = sizeof(uint32_t) * (size_t)cfg->ngroups, limits = sizeof(corral_rlimit) * (size_t)cfg->nrlimits;
    if (at + groups + limits > MAX_MESSAGE) goto too_big;
    if (groups) memcpy(buf + at, cfg->groups, groups);
    at += groups;
    if (limits) memcpy(buf + at, cfg->rlimits, limits);
    at += limits;
    for (const char *const *a = cfg->argv; a && *a; a++, h.nargv++) if (append(buf, &at, *a)) goto too_big;
    for (const char *const *e = cfg->envp; e && *e; e++, h.nenv++) if (append(buf, &at, *e)) goto too_big;
    for (const char *const *j = cfg->join_files; j && *j; j++, h.njoin++) if (append(buf, &at, *j)) goto too_big;
    for (const char *const *b = cfg->root_binds; b && *b; b++, h.nbinds++) if (append(buf, &at, *b)) goto too_big;
    for (const char *const *l = cfg->root_links; l && *l; l++, h.nlinks++) if (append(buf, &at, *l)) goto too_big;
    for (const char *const *m = cfg->mounts; m && *m; m++, h.nmounts++) if (append(buf, &at, *m)) goto too_big;
    const char *tail[SINGLES] = {cfg->search_path, cfg->cwd,         cfg->hostname,  cfg->rootfs,
                                 cfg->work_source, cfg->work_target, cfg->cpu_quota, cfg->cpu_quota_path,
                                 cfg->cpu_quota_lift, cfg->root_dir};
    for (int i = 0; i < SINGLES; i++) if (append(buf, &at, tail[i] ? tail[i] : "")) goto too_big;
    h.size = (uint32_t)at;
    memcpy(buf, &h, sizeof(h));

    ssize_t sent = send_with_fds(sock, buf, at, fds, nfds);
    free(buf);
    if (sent < 0) return -errno;
    wire_reply reply;
    int back[3];
    int nback = 0;
    ssize_t got = recv_with_fds(sock, &reply, sizeof(reply), back, &nback);
    if (got < 0) return -errno;
    if (got != (ssize_t)sizeof(reply)) {
        for (int i = 0; i < nback; i++) close(back[i]);
        return -EPIPE;  // the spawner is gone
    }
    if (reply.rc != 0) {
        for (int i = 0; i < nback; i++) close(back[i]);
        return reply.rc;
    }
    if (nback != 2 + (reply.has_release ? 1 : 0)) {
        for (int i = 0; i < nback; i++) close(back[i]);
        return -EPROTO;
    }
    out->pid = reply.pid;
    out->pidfd = back[0];
    out->error_fd = back[1];
    out->release_fd = reply.has_release ? back[2] : -1;
    return 0;
too_big:
    free(buf);
    return -E2BIG;
}

// ---- the spawner's side ----

static int serve_one(int sock, char *buf) {
    int fds[8];
    int nfds = 0;
    ssize_t n = recv_with_fds(sock, buf, MAX_MESSAGE, fds, &nfds);
    if (n <= 0) return -1;  // the agent closed its end: leave
    wire_reply reply = {.rc = -EPROTO, .pid = 0, .has_release = 0};
    wire_header h;
    corral_spawn_handle handle = {.pid = 0, .pidfd = -1, .release_fd = -1, .error_fd = -1};
    const char **strings = NULL;
    if ((size_t)n < sizeof(h)) goto answer;
    memcpy(&h, buf, sizeof(h));
    size_t at = sizeof(h) + sizeof(uint32_t) * (size_t)h.ngroups + sizeof(corral_rlimit) * (size_t)h.nrlimits;
    int counts[LISTS] = {h.nargv, h.nenv, h.njoin, h.nbinds, h.nlinks, h.nmounts};
    int total = SINGLES, starts[LISTS];
    for (int part = 0; part < LISTS; part++) {
        if (counts[part] < 0 || counts[part] > MAX_STRINGS) goto answer;
        starts[part] = total - SINGLES + part;  // each list is followed by its NULL
        total += counts[part];
    }
    if (h.size != (uint32_t)n || at > (size_t)n || h.nargv < 1 || total > MAX_STRINGS || buf[n - 1] != 0) goto answer;
    strings = calloc((size_t)total + LISTS, sizeof(char *));
    if (!strings) goto answer;
    // each list followed by a NULL (argv, envp, join, binds, links, mounts), then the singles
    int slot = 0;
    for (int part = 0; part < LISTS; part++) {
        for (int i = 0; i < counts[part]; i++) {
            if (at >= (size_t)n) goto answer;
            strings[slot++] = buf + at;
            at += strlen(buf + at) + 1;
        }
        strings[slot++] = NULL;
    }
    const char *single[SINGLES];
    for (int i = 0; i < SINGLES; i++) {
        if (at >= (size_t)n) goto answer;
        single[i] = buf[at] ? buf + at : NULL;
        at += strlen(buf + at) + 1;
    }
    int fd[IN_FDS];
    for (int i = 0; i < IN_FDS; i++) fd[i] = (h.fd_index[i] >= 0 && h.fd_index[i] < nfds) ? fds[h.fd_index[i]] : -1;
    corral_spawn_config cfg = {
        .argv = strings + starts[0], .envp = strings + starts[1],
        .join_files = h.njoin ? strings + starts[2] : NULL,
        .root_binds = h.nbinds ? strings + starts[3] : NULL, .root_links = h.nlinks ? strings + starts[4] : NULL,
        .mounts = h.nmounts ? strings + starts[5] : NULL,
        .root_dir = single[9], .seccomp = h.seccomp,
        .search_path = single[0], .cwd = single[1], .hostname = single[2], .rootfs = single[3],
        .work_source = single[4], .work_target = single[5], .cpu_quota = single[6], .cpu_quota_path = single[7],
        .cpu_quota_lift = single[8],
        .cpu_quota_fd = fd[5],
        .cgroup_fd = fd[4], .hold = h.hold, .isolate = h.isolate, .new_network = h.new_network,
        .tmp_size = h.tmp_size, .uid = h.uid, .gid = h.gid,
        .groups = (const uint32_t *)(buf + sizeof(h)), .ngroups = h.ngroups,
        .rlimits = (const corral_rlimit *)(buf + sizeof(h) + sizeof(uint32_t) * (size_t)h.ngroups), .nrlimits = h.nrlimits,
        .stdin_fd = fd[0], .stdout_fd = fd[1], .stderr_fd = fd[2], .status_fd = fd[3],
    };
    reply.rc = corral_spawn_flags(&cfg, &handle, CLONE_PARENT);
answer:
    free(strings);
    for (int i = 0; i < nfds; i++) close(fds[i]);  // PID 1 holds its own copies now
    int back[3] = {handle.pidfd, handle.error_fd, handle.release_fd};
    int nback = 0;
    if (reply.rc == 0) {
        reply.pid = handle.pid;
        reply.has_release = handle.release_fd >= 0;
        nback = reply.has_release ? 3 : 2;
    }
    send_with_fds(sock, &reply, sizeof(reply), back, nback);
    for (int i = 0; i < nback; i++) close(back[i]);
    return 0;
}

__attribute__((noreturn)) static void spawner_main(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // no orphaned spawner when the agent dies
    if (getppid() == 1) _exit(0);      // the agent died before we got here
    corral_spawner_shed();
    // The spawner never execs: an empty bounding set costs it nothing, and its clones inherit it.
    corral_bounding_set_empty = corral_drop_bounding_set() == 0;
    corral_seccomp_prepare();  // built once here, installed by every task this spawner clones
    signal(SIGPIPE, SIG_IGN);
    char *buf = malloc(MAX_MESSAGE);
    if (!buf) _exit(1);
    while (serve_one(SPAWNER_FD, buf) == 0) {
    }
    _exit(0);
}

// Runs before main() (and so before the Swift runtime) in every binary that links CSandbox.
__attribute__((constructor)) static void corral_spawner_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc == 2 && strcmp(argv[1], CORRAL_SPAWNER_ARG) == 0) spawner_main();
}
