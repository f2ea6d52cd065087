// The device allowlist of a cgroup2 directory: a BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup2 has no
// devices controller). The kernel runs it on every open/mknod of a device node by a process in the cgroup,
// on pure v2 and hybrid hosts alike (the program attaches to the cgroup2 directory). It allows exactly the
// devices of the sandbox's minimal /dev: null, zero, full, random, urandom, tty, ptmx and the pts
// terminals; anything else an image might ship (a disk, /dev/mem, /dev/kmsg) fails with EPERM.
// Called from ordinary threads (not after clone); the probe forks (from a single-purpose command only).
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define AND_K(dst, imm) INSN(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define JNE_K(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define MOV_K(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/// r2 = device type, r4 = major, r5 = minor; one allowed (major, minor) pair is four instructions.
#define ALLOW(major, minor) JNE_K(4, major, 3), JNE_K(5, minor, 2), MOV_K(0, 1), EXIT

static const struct bpf_insn program[] = {
    // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
    LDX_W(2, 1, 0),
    AND_K(2, 0xffff),
    LDX_W(4, 1, 4),
    LDX_W(5, 1, 8),
    JNE_K(2, BPF_DEVCG_DEV_CHAR, 31),  // block devices: never (to the final deny)
    ALLOW(1, 3),                       // null
    ALLOW(1, 5),                       // zero
    ALLOW(1, 7),                       // full
    ALLOW(1, 8),                       // random
    ALLOW(1, 9),                       // urandom
    ALLOW(5, 0),                       // tty
    ALLOW(5, 2),                       // ptmx
    JNE_K(4, 136, 2),                  // pts/N, any minor
    MOV_K(0, 1),
    EXIT,
    MOV_K(0, 0),
    EXIT,
};

_Static_assert(sizeof(program) / sizeof(program[0]) == 4 + 1 + 7 * 4 + 3 + 2, "jump offsets above assume this length");

static long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

int corral_device_program_load(char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)program;
    attr.insn_cnt = (uint32_t)(sizeof(program) / sizeof(program[0]));
    attr.license = (uint64_t)(uintptr_t) "GPL";
    if (log && log_size) {
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    memcpy(attr.prog_name, "corral_devices", sizeof("corral_devices"));
    long fd = bpf(BPF_PROG_LOAD, &attr);
    return fd < 0 ? -errno : (int)fd;
}

int corral_device_program_attach(int program_fd, int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return bpf(BPF_PROG_ATTACH, &attr) == 0 ? 0 : -errno;
}

int corral_probe_device_allowlist(int cgroup_fd, const char *tasks_file) {
    // A child in the cgroup (cloned into it, or joining the v1 tasks file) opens an allowed and a denied
    // device; the parent learns from its exit code: 0 = allowed one opened and denied one refused.
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        if (tasks_file) {
            int fd = open(tasks_file, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0", 1) != 1) _exit(10);
            close(fd);
        } else {
            char procs[64] = "cgroup.procs";
            int fd = openat(cgroup_fd, procs, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0", 1) != 1) _exit(10);
            close(fd);
        }
        int allowed = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int denied = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int denied_errno = errno;
        _exit((allowed >= 0 ? 0 : 1) | (denied < 0 && denied_errno == EPERM ? 0 : 2));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}
