// The task's default seccomp filter: Docker's default profile as the baseline, as a classic BPF program.
//
// The program is a constant, built by the compiler, so nothing is assembled per launch (and nothing needs
// malloc after clone). Denied calls fail with EPERM rather than killing the task, so a program that probes
// for a feature (unshare, io_uring, keyctl) takes its fallback. Since Linux 5.11 the kernel caches the
// verdict of every syscall whose outcome does not depend on its arguments, so allowed calls do not run the
// program at all; only clone, unshare and personality look at an argument.
#include "internal.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define CORRAL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CORRAL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "CSandbox's seccomp filter knows x86_64 and aarch64"
#endif

#define NR_OFFSET ((uint32_t)offsetof(struct seccomp_data, nr))
#define ARCH_OFFSET ((uint32_t)offsetof(struct seccomp_data, arch))
#define ARG0_LOW ((uint32_t)offsetof(struct seccomp_data, args[0]))  // little-endian: the low 32 bits

#define RET_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
/// Two instructions: this syscall fails with EPERM; anything else falls through.
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RET_ERRNO(EPERM)
/// Five instructions: this syscall fails with EPERM when its first argument has any of `flags`.
#define DENY_FLAGS(nr, flags)                                        \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),                 \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW),                \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (flags), 0, 1), RET_ERRNO(EPERM), RET_ALLOW

/// Every namespace flag: creating any of them needs CAP_SYS_ADMIN except a user namespace, which would
/// hand the task a full capability set inside it (the usual door to kernel bugs in nf_tables and friends).
#define NAMESPACE_FLAGS                                                                                     \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | \
     CLONE_NEWTIME)

static const struct sock_filter filter[] = {
    // Foreign architectures (i386 through int 0x80) and the x32 ABI are refused outright.
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CORRAL_AUDIT_ARCH, 1, 0),
    RET_ERRNO(EPERM),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET),
#if defined(__x86_64__)
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),  // __X32_SYSCALL_BIT
    RET_ERRNO(EPERM),
#endif
    // clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes glibc use clone.
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
    RET_ERRNO(ENOSYS),
    // personality: only the values Docker allows (PER_LINUX, PER_LINUX32, UNAME26 and the query).
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 8),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0, 5, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8, 4, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20000, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20008, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0),
    RET_ERRNO(EPERM),
    RET_ALLOW,
    DENY_FLAGS(__NR_clone, NAMESPACE_FLAGS),
    DENY_FLAGS(__NR_unshare, NAMESPACE_FLAGS),
    DENY(__NR_setns),
    // Mounts, old and new API.
    DENY(__NR_mount), DENY(__NR_umount2), DENY(__NR_pivot_root), DENY(__NR_move_mount), DENY(__NR_open_tree),
    DENY(__NR_fsopen), DENY(__NR_fsconfig), DENY(__NR_fsmount), DENY(__NR_fspick), DENY(__NR_mount_setattr),
    // Kernel keyrings, BPF, perf, userfaultfd, io_uring: large attack surface, no use to a batch task.
    DENY(__NR_keyctl), DENY(__NR_add_key), DENY(__NR_request_key), DENY(__NR_bpf), DENY(__NR_perf_event_open),
    DENY(__NR_userfaultfd), DENY(__NR_io_uring_setup), DENY(__NR_io_uring_enter), DENY(__NR_io_uring_register),
    // The machine's own state: modules, kexec, reboot, swap, accounting, the kernel log, quotas, clocks.
    DENY(__NR_kexec_load), DENY(__NR_kexec_file_load), DENY(__NR_init_module), DENY(__NR_finit_module),
    DENY(__NR_delete_module), DENY(__NR_reboot), DENY(__NR_swapon), DENY(__NR_swapoff), DENY(__NR_acct),
    DENY(__NR_syslog), DENY(__NR_quotactl), DENY(__NR_quotactl_fd), DENY(__NR_settimeofday),
    DENY(__NR_clock_settime), DENY(__NR_clock_adjtime), DENY(__NR_vhangup), DENY(__NR_fanotify_init),
    // File handles bypass path permissions; lookup_dcookie is a profiling leftover.
    DENY(__NR_open_by_handle_at), DENY(__NR_name_to_handle_at), DENY(__NR_lookup_dcookie),
#if defined(__x86_64__)
    DENY(__NR_ioperm), DENY(__NR_iopl), DENY(__NR_uselib), DENY(__NR_ustat), DENY(__NR_sysfs), DENY(__NR__sysctl),
#endif
    RET_ALLOW,
};

int corral_seccomp_install(void) {
    struct sock_fprog prog = {.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
                              .filter = (struct sock_filter *)filter};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}
