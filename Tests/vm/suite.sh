#!/bin/sh
# The enforcement suite, run inside the guest with the real corral binary. Each check prints
#   CORRAL-RESULT <mode> <check> PASS|FAIL <what was measured, and by how much it missed>
# Usage: suite.sh v2|v1
mode=$1
failed=0
result() {  # result CHECK PASS|FAIL DETAIL
    echo "CORRAL-RESULT $mode $1 $2 $3"
    [ "$2" = PASS ] || failed=1
}
json() {  # json KEY JSON -> the value (number, true/false, null)
    echo "$2" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}
within() {  # within MEASURED EXPECTED FRACTION -> exit 0 when |m/e - 1| <= fraction
    awk -v m="$1" -v e="$2" -v f="$3" 'BEGIN { d = m / e - 1; if (d < 0) d = -d; exit !(d <= f) }'
}
await_line() {  # await_line FILE TEXT SECONDS -> exit 0 once FILE holds TEXT
    n=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        n=$((n + 1)); [ $n -gt $(($3 * 10)) ] && return 1; sleep 0.1
    done
}
cg() {  # cg ID CONTROLLER FILE -> the path of a task's cgroup file in this mode
    if [ "$mode" = v2 ]; then echo "/sys/fs/cgroup/corral.slice/$1/$3"; else echo "/sys/fs/cgroup/$2/corral.slice/$1/$3"; fi
}

# --- the task is in its cgroup before its first instruction, and its cgroup namespace shows it as /
corral exec --id vm-cg -- sh -c 'cat /proc/self/cgroup; echo READY; sleep 3' >/tmp/vm-cg.out 2>&1 &
bg=$!
members=""
if await_line /tmp/vm-cg.out READY 60; then
    if [ "$mode" = v2 ]; then members="v2:$(wc -l < /sys/fs/cgroup/corral.slice/vm-cg/cgroup.procs)"
    else for c in memory pids cpu blkio devices; do members="$members $c:$(wc -l < /sys/fs/cgroup/$c/corral.slice/vm-cg/tasks)"; done; fi
fi
wait $bg
out=$(cat /tmp/vm-cg.out)
short=$(echo "$members" | tr ' ' '\n' | awk -F: 'NF == 2 && $2 < 2')
[ -n "$members" ] && [ -z "$short" ] && result cgroup_membership PASS "PID 1 and the task in every cgroup:$members" \
    || result cgroup_membership FAIL "members '$members' (want >= 2 each): $(echo $out)"
notroot=$(echo "$out" | grep -E '^[0-9]+:' | grep -v ':/$')
if [ "$mode" = v2 ]; then own='^0::/$'; else own=':memory:/$'; fi
echo "$out" | grep -qE "$own" && [ -z "$notroot" ] && result cgroup_namespace PASS "$(echo $out | head -c 200)" \
    || result cgroup_namespace FAIL "/proc/self/cgroup: $(echo $out)"

# --- the default seccomp filter, masked paths, the device allowlist (a real open refused by the kernel)
sec=$(corral exec --id vm-sec -- sh -c 'grep Seccomp: /proc/self/status; unshare -U true 2>/dev/null; echo "unshare $?"
    echo "keys $(wc -c < /proc/keys)"; (echo 1 > /proc/sys/kernel/core_pattern) 2>/dev/null; echo "core_pattern $?"' 2>&1)
echo "$sec" | grep -q 'Seccomp:.*2' && echo "$sec" | grep -q '^unshare [1-9]' && result seccomp PASS "$(echo $sec)" \
    || result seccomp FAIL "$(echo $sec)"
echo "$sec" | grep -q '^keys 0$' && echo "$sec" | grep -q '^core_pattern [1-9]' && result masked_paths PASS "$(echo $sec)" \
    || result masked_paths FAIL "$(echo $sec)"
hostjson=$(corral host --json 2>&1)
[ "$(json deviceAllowlist "$hostjson")" = true ] && result device_allowlist PASS "/dev/null opened, /dev/kmsg refused in a cgroup with the allowlist" \
    || result device_allowlist FAIL "$hostjson"

# --- memory: OOM kill counted by the kernel, reported as OOM, peak reported. The hog volunteers as the
# OOM victim (oom_score_adj 1000, no privilege needed) so the shell survives to read the counters.
corral exec --json --id vm-oom --memory 32Mi -- sh -c \
    "(echo 1000 > /proc/self/oom_score_adj; x=\$(head -c 200000000 /dev/zero | tr '\\0' a)); echo READY; sleep 3" >/tmp/vm-oom.out 2>&1 &
bg=$!
files=""
await_line /tmp/vm-oom.out READY 120 && files=$(cat $(cg vm-oom memory memory.max) $(cg vm-oom memory memory.limit_in_bytes) $(cg vm-oom memory memory.events) $(cg vm-oom memory memory.oom_control) 2>/dev/null)
wait $bg
oom=$(cat /tmp/vm-oom.out)
limit=$(echo "$files" | sed -n '1p')
kills=$(echo "$files" | sed -n 's/^oom_kill \([0-9]*\)/\1/p')
[ "$limit" = 33554432 ] && result memory_limit_file PASS "limit file reads $limit" || result memory_limit_file FAIL "limit file reads '$limit', want 33554432"
[ "${kills:-0}" -ge 1 ] && result oom_kill_counted PASS "oom_kill $kills in the cgroup's file" || result oom_kill_counted FAIL "oom_kill '${kills}' in the cgroup's file: $(echo $files)"
line=$(echo "$oom" | tail -1)
[ "$(json oomKilled "$line")" = true ] && result oom_reported PASS "$line" || result oom_reported FAIL "outcome: $line"
peak=$(json memoryPeakBytes "$line")
[ "${peak:-0}" -gt 16777216 ] && [ "${peak:-0}" -le 34603008 ] && result memory_peak PASS "peak $peak bytes under a 33554432 limit" \
    || result memory_peak FAIL "peak '${peak}' bytes, want 16 MiB < peak <= limit + 1 MiB"

# --- PSI (pure v2: per-cgroup pressure files; v1 has none and must say null)
if [ "$mode" = v2 ]; then
    mem=$(json memoryPressureUsec "$line"); cpu=$(json cpuPressureUsec "$line"); io=$(json ioPressureUsec "$line")
    [ "$cpu" != null ] && [ "$io" != null ] && [ "${mem:-0}" != null ] && [ "${mem:-0}" -gt 0 ] \
        && result psi_reported PASS "memory some ${mem}us, cpu ${cpu}us, io ${io}us" || result psi_reported FAIL "pressure: cpu=$cpu memory=$mem io=$io"
else
    [ "$(json memoryPressureUsec "$line")" = null ] && result psi_absent_is_null PASS "v1 has no per-cgroup PSI" || result psi_absent_is_null FAIL "$line"
fi

# --- CPU at 0.5: usage within 10% of the quota, throttled periods counted
if [ "$mode" = v2 ]; then usage_file=$(cg vm-cpu cpu cpu.stat); else usage_file=$(cg vm-cpu cpuacct cpuacct.usage); fi
corral exec --id vm-cpu --cpu 0.5 --timeout 30s -- sh -c '(while :; do :; done) & echo READY; sleep 9; kill $!' >/tmp/vm-cpu.out 2>&1 &
bg=$!
cpuout=""
if await_line /tmp/vm-cpu.out READY 60; then
    sleep 1
    a=$(cat $usage_file); t0=$(cut -d' ' -f1 /proc/uptime)
    sleep 4
    b=$(cat $usage_file); t1=$(cut -d' ' -f1 /proc/uptime)
    cpuout="$(echo "$a" | tr '\n' ' ')
$(echo "$b" | tr '\n' ' ')
$t0 $t1
$(cat $(cg vm-cpu cpu cpu.stat) $(cg vm-cpu cpu cpu.max) $(cg vm-cpu cpu cpu.cfs_quota_us) 2>/dev/null)"
fi
wait $bg
ratio=$(echo "$cpuout" | awk -v mode="$mode" '
    NR == 1 { for (i = 1; i < NF; i++) if ($i == "usage_usec") a = $(i+1); if (mode == "v1") a = $1 / 1000 }
    NR == 2 { for (i = 1; i < NF; i++) if ($i == "usage_usec") b = $(i+1); if (mode == "v1") b = $1 / 1000 }
    NR == 3 { wall = ($2 - $1) * 1000000 }
    END { if (wall > 0) printf "%.3f", (b - a) / wall }')
throttled=$(echo "$cpuout" | sed -n 's/^nr_throttled \([0-9]*\)/\1/p' | tail -1)
if [ -n "$ratio" ] && within "$ratio" 0.5 0.10; then result cpu_quota PASS "used $ratio cores under a 0.5 quota"
else result cpu_quota FAIL "used '${ratio}' cores under a 0.5 quota (more than 10% off): $(echo $cpuout | head -c 300)"; fi
[ "${throttled:-0}" -gt 0 ] && result cpu_throttled PASS "nr_throttled $throttled" || result cpu_throttled FAIL "nr_throttled '${throttled}'"

# --- pids: a fork bomb stops at pids.max (the counters are read with shell builtins: no fork needed)
# The shell stays alive with builtins only (at pids.max it cannot fork a sleep); the suite ends it.
corral exec --id vm-pids --pids 16 --timeout 60s -- sh -c '
    (i=0; while [ $i -lt 60 ]; do sleep 300 & i=$((i+1)); done) 2>/dev/null
    echo READY; while :; do :; done' >/tmp/vm-pids.out 2>&1 &
bg=$!
pidsout=""
if await_line /tmp/vm-pids.out READY 60; then
    pidsout="current $(cat $(cg vm-pids pids pids.current))
events $(cat $(cg vm-pids pids pids.events))
max $(cat $(cg vm-pids pids pids.max))"
fi
kill $bg; wait $bg
current=$(echo "$pidsout" | sed -n 's/^current \([0-9]*\)/\1/p')
refused=$(echo "$pidsout" | sed -n 's/^events max \([0-9]*\)/\1/p')
if [ "${current:-99}" -le 16 ] && [ "${current:-0}" -ge 12 ] && [ "${refused:-0}" -gt 0 ]; then
    result pids_max PASS "pids.current $current of 16, $refused forks refused"
else result pids_max FAIL "pids.current '$current' (want 12..16), refused '$refused': $(echo $pidsout)"; fi

# --- I/O: a direct-I/O writer to a loop device under a write limit of 1 MiB/s
if insmod /lib/modules/loop.ko 2>/dev/null || [ -e /dev/loop0 ]; then
    dd if=/dev/zero of=/tmp/disk bs=1M count=64 2>/dev/null
    losetup /dev/loop0 /tmp/disk
    dev=$(cat /sys/block/loop0/dev)
    # A file on ext2 on the loop device, allocated beforehand: the task (its own uid, no device access)
    # overwrites it with direct I/O, which the limit throttles in both cgroup versions.
    mke2fs -q /dev/loop0 >/dev/null 2>&1; mkdir -p /mnt/io; mount -t ext2 /dev/loop0 /mnt/io
    mkdir -p /mnt/io/w; chmod 1777 /mnt/io/w
    dd if=/dev/zero of=/mnt/io/w/f bs=1M count=6 2>/dev/null; chmod 666 /mnt/io/w/f; sync
    if [ "$mode" = v2 ]; then ioflag="--io-write-bps"; limitfile=$(cg vm-io io io.max); else ioflag="--io-write-bps"; limitfile=$(cg vm-io blkio blkio.throttle.write_bps_device); fi
    corral exec --json --id vm-io $ioflag /dev/loop0=1Mi --workdir /mnt/io/w --timeout 60s -- sh -c "
        echo READY
        t0=\$(cut -d' ' -f1 /proc/uptime)
        dd if=/dev/zero of=/work/f bs=64k count=96 oflag=direct conv=notrunc 2>/dev/null
        t1=\$(cut -d' ' -f1 /proc/uptime)
        echo wrote 6291456 \$t0 \$t1" >/tmp/vm-io.out 2>&1 &
    bg=$!
    limitline=""
    await_line /tmp/vm-io.out READY 60 && limitline=$(cat $limitfile)
    wait $bg
    ioout="$limitline
$(cat /tmp/vm-io.out)"
    rate=$(echo "$ioout" | awk '/^wrote/ { printf "%.0f", $2 / ($4 - $3) }')
    echo "$ioout" | grep -q "$dev.*1048576" && result io_limit_file PASS "$(echo "$ioout" | head -1)" || result io_limit_file FAIL "limit file: $(echo "$ioout" | head -1)"
    if [ -n "$rate" ] && within "$rate" 1048576 0.15; then result io_write_bps PASS "wrote at $rate B/s under a 1048576 B/s limit"
    else result io_write_bps FAIL "wrote at '${rate}' B/s under a 1048576 B/s limit (more than 15% off): $(echo $ioout | head -c 300)"; fi
    written=$(json ioWriteBytes "$(echo "$ioout" | tail -1)")
    [ "${written:-0}" -ge 6291456 ] && result io_accounted PASS "ioWriteBytes $written" || result io_accounted FAIL "ioWriteBytes '${written}', want >= 6291456"
    umount /mnt/io; losetup -d /dev/loop0
else
    result io_write_bps FAIL "no loop device: loop.ko did not load"
fi

# --- timeout: SIGTERM ignored, cgroup kill (v2 cgroup.kill, v1 freezer) leaves no process
tout=$(corral exec --json --id vm-timeout --timeout 1s --kill-grace 500ms -- sh -c \
    'trap "" TERM; setsid sh -c "sleep 1001 & sleep 1001" & sleep 1001' 2>&1)
left=$(ps | grep -c '[s]leep 1001')
line=$(echo "$tout" | tail -1)
if [ "$(json timedOut "$line")" = true ] && [ "$left" = 0 ]; then result timeout_kill PASS "timed out, $left processes left"
else result timeout_kill FAIL "timedOut=$(json timedOut "$line"), $left sleepers left: $line"; fi

# --- nothing left behind
rest=$(ls /sys/fs/cgroup/corral.slice /sys/fs/cgroup/*/corral.slice 2>/dev/null | grep -c '^vm-')
[ "$rest" = 0 ] && result cleanup PASS "no task cgroups left" || result cleanup FAIL "$rest task cgroups left"
exit $failed
