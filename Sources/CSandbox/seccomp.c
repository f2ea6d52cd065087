// The task's default seccomp filter: Docker's default profile as the baseline, as a classic BPF program.
//
// Denied calls fail with EPERM rather than killing the task, so a program that probes for a feature
// (unshare, io_uring, keyctl) takes its fallback. The program is a balanced binary search over the syscall
// numbers that need a decision, built once per process (corral_seccomp_prepare: by the spawner before it
// serves, and by an agent that clones in-process) into a static buffer, never per launch. A search and not
// a list because attaching a filter makes the kernel run it once for every syscall number to fill its
// verdict cache (Linux 5.11+): with a list of 60 checks that emulation was ~0.3 ms of every launch; with
// the search it is a few instructions per number. The cache then lets allowed calls that do not depend on
// their arguments skip the program altogether; only clone, unshare and personality look at an argument.
#include "internal.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
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

/// Every namespace flag: creating any of them needs CAP_SYS_ADMIN except a user namespace, which would
/// hand the task a full capability set inside it (the usual door to kernel bugs in nf_tables and friends).
#define NAMESPACE_FLAGS                                                                                     \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | \
     CLONE_NEWTIME)

/// What happens to a syscall that has a rule (all others are allowed).
enum verdict { EPERM_ALWAYS, EPERM_IF_NAMESPACE, PERSONALITY_CHECK, ENOSYS_ALWAYS, VERDICTS };

static const struct {
    uint32_t nr;
    enum verdict verdict;
} rules[] = {
    // clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes glibc use clone.
    {__NR_clone3, ENOSYS_ALWAYS},
    {__NR_clone, EPERM_IF_NAMESPACE},
    {__NR_unshare, EPERM_IF_NAMESPACE},
    {__NR_setns, EPERM_ALWAYS},
    // personality: only the values Docker allows (PER_LINUX, PER_LINUX32, UNAME26 and the query).
    {__NR_personality, PERSONALITY_CHECK},
    // Mounts, old and new API.
    {__NR_mount, EPERM_ALWAYS}, {__NR_umount2, EPERM_ALWAYS}, {__NR_pivot_root, EPERM_ALWAYS},
    {__NR_move_mount, EPERM_ALWAYS}, {__NR_open_tree, EPERM_ALWAYS}, {__NR_fsopen, EPERM_ALWAYS},
    {__NR_fsconfig, EPERM_ALWAYS}, {__NR_fsmount, EPERM_ALWAYS}, {__NR_fspick, EPERM_ALWAYS},
    {__NR_mount_setattr, EPERM_ALWAYS},
    // Kernel keyrings, BPF, perf, userfaultfd, io_uring: large attack surface, no use to a batch task.
    {__NR_keyctl, EPERM_ALWAYS}, {__NR_add_key, EPERM_ALWAYS}, {__NR_request_key, EPERM_ALWAYS},
    {__NR_bpf, EPERM_ALWAYS}, {__NR_perf_event_open, EPERM_ALWAYS}, {__NR_userfaultfd, EPERM_ALWAYS},
    {__NR_io_uring_setup, EPERM_ALWAYS}, {__NR_io_uring_enter, EPERM_ALWAYS}, {__NR_io_uring_register, EPERM_ALWAYS},
    // The machine's own state: modules, kexec, reboot, swap, accounting, the kernel log, quotas, clocks.
    {__NR_kexec_load, EPERM_ALWAYS}, {__NR_kexec_file_load, EPERM_ALWAYS}, {__NR_init_module, EPERM_ALWAYS},
    {__NR_finit_module, EPERM_ALWAYS}, {__NR_delete_module, EPERM_ALWAYS}, {__NR_reboot, EPERM_ALWAYS},
    {__NR_swapon, EPERM_ALWAYS}, {__NR_swapoff, EPERM_ALWAYS}, {__NR_acct, EPERM_ALWAYS},
    {__NR_syslog, EPERM_ALWAYS}, {__NR_quotactl, EPERM_ALWAYS}, {__NR_quotactl_fd, EPERM_ALWAYS},
    {__NR_settimeofday, EPERM_ALWAYS}, {__NR_clock_settime, EPERM_ALWAYS}, {__NR_clock_adjtime, EPERM_ALWAYS},
    {__NR_vhangup, EPERM_ALWAYS}, {__NR_fanotify_init, EPERM_ALWAYS},
    // File handles bypass path permissions; lookup_dcookie is a profiling leftover.
    {__NR_open_by_handle_at, EPERM_ALWAYS}, {__NR_name_to_handle_at, EPERM_ALWAYS},
    {__NR_lookup_dcookie, EPERM_ALWAYS},
#if defined(__x86_64__)
    {__NR_ioperm, EPERM_ALWAYS}, {__NR_iopl, EPERM_ALWAYS}, {__NR_uselib, EPERM_ALWAYS},
    {__NR_ustat, EPERM_ALWAYS}, {__NR_sysfs, EPERM_ALWAYS}, {__NR__sysctl, EPERM_ALWAYS},
#endif
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))
#define LEAF 4  // a subtree of at most this many rules is a list

static struct sock_filter program[256];
static unsigned short program_length;
static uint32_t sorted_nr[NRULES];
static enum verdict sorted_verdict[NRULES];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int prepared;

static size_t tree_size(size_t lo, size_t hi) {
    if (hi - lo <= LEAF) return (hi - lo) + 1;
    size_t mid = lo + (hi - lo) / 2;
    return 1 + tree_size(lo, mid) + tree_size(mid, hi);
}

static void put(struct sock_filter insn) {
    if (program_length < sizeof(program) / sizeof(program[0])) program[program_length] = insn;
    program_length++;
}

/// Emits the search over sorted rules [lo, hi) (the accumulator holds the syscall number): JGE splits down
/// to lists of at most LEAF rules, each one JEQ that jumps to its verdict's block (blocks[verdict]), and a
/// jump to `allow` (the RET ALLOW block) after each list.
static void emit_tree(size_t lo, size_t hi, const size_t *blocks, size_t allow) {
    if (hi - lo <= LEAF) {
        for (size_t i = lo; i < hi; i++) {
            // Straight to the verdict's block; build() checks the whole program fits a conditional jump.
            size_t distance = blocks[sorted_verdict[i]] - program_length - 1;
            put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sorted_nr[i], (uint8_t)distance, 0));
        }
        put((struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(allow - program_length - 1)));
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    size_t left = tree_size(lo, mid);
    // Conditional jumps reach 255 instructions: build() refuses a program longer than that.
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, sorted_nr[mid], (uint8_t)left, 0));
    emit_tree(lo, mid, blocks, allow);
    emit_tree(mid, hi, blocks, allow);
}

static void build(void) {
    for (size_t i = 0; i < NRULES; i++) {  // insertion sort by number
        size_t j = i;
        while (j > 0 && sorted_nr[j - 1] > rules[i].nr) {
            sorted_nr[j] = sorted_nr[j - 1];
            sorted_verdict[j] = sorted_verdict[j - 1];
            j--;
        }
        sorted_nr[j] = rules[i].nr;
        sorted_verdict[j] = rules[i].verdict;
    }
    for (size_t i = 1; i < NRULES; i++) {
        if (sorted_nr[i] == sorted_nr[i - 1]) return;  // a rule twice: refuse to build a wrong program
    }
    program_length = 0;
    // Foreign architectures (i386 through int 0x80) and the x32 ABI are refused outright.
    put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CORRAL_AUDIT_ARCH, 1, 0));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET));
#if defined(__x86_64__)
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));  // __X32_SYSCALL_BIT
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
#endif
    // The blocks follow the tree: allow, EPERM, ENOSYS, the namespace check, the personality check.
    size_t start = program_length + tree_size(0, NRULES);
    size_t allow = start, blocks[VERDICTS];
    blocks[EPERM_ALWAYS] = start + 1;
    blocks[ENOSYS_ALWAYS] = start + 2;
    blocks[EPERM_IF_NAMESPACE] = start + 3;
    blocks[PERSONALITY_CHECK] = start + 7;
    emit_tree(0, NRULES, blocks, allow);
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
    // clone/unshare: EPERM when the flags ask for a namespace (jump back is not allowed: own returns).
    put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0, 5, 0));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8, 4, 0));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20000, 3, 0));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20008, 2, 0));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    // A block's position was computed from the tree's size: check the layout before using it.
    prepared = program_length <= 255 && allow + 15 == program_length;
}

int corral_seccomp_prepare(void) {
    pthread_once(&once, build);
    return prepared ? 0 : -EINVAL;
}

int corral_seccomp_install(void) {
    if (!prepared) {  // never built in this process: refuse rather than run the task unfiltered
        errno = ENOEXEC;
        return -1;
    }
    struct sock_fprog prog = {.len = program_length, .filter = program};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}
