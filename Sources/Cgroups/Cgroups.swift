/// Cgroups: the cgroup driver. Detects the host's mode as systemd does (statfs of /sys/fs/cgroup and of
/// /sys/fs/cgroup/unified: unified, hybrid or legacy), creates a task's cgroup in every hierarchy that
/// matters, writes its limits (v2 files, or v1 quotas, limits and throttles), reads its statistics and
/// usage, kills it (`cgroup.kill`, or the v1 freezer) and removes it. Knows nothing of jobs or tasks;
/// every failure is a `CgroupError` naming the file and errno.
