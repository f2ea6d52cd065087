import CorralClient
import CorralProtocol
import Foundation
import SchedulerService

/// The demo's cluster and workload: three nodes with labels, two tenants with quotas, and jobs that show
/// placement, limits, retries and quotas at work.
enum DemoWorkload {
    static let nodes = [
        LocalCluster.Node(id: "node-1", labels: ["zone": "a"], cpu: 1.5, memory: "1Gi"),
        LocalCluster.Node(id: "node-2", labels: ["zone": "b"], cpu: 1.5, memory: "1Gi"),
        LocalCluster.Node(id: "node-3", labels: ["zone": "b", "disk": "ssd"], cpu: 1, memory: "512Mi"),
    ]

    static func config() -> SchedulerConfig {
        var config = SchedulerConfig(
            adminToken: SchedulerConfig.randomToken(), agentToken: SchedulerConfig.randomToken(),
            tenants: [
                "research": .init(
                    token: SchedulerConfig.randomToken(), quota: .init(cpu: 2, memory: "2Gi", runningTasks: 8)),
                "batch": .init(
                    token: SchedulerConfig.randomToken(), quota: .init(cpu: 2, memory: "1Gi", runningTasks: 8)),
            ])
        config.heartbeatIntervalSeconds = 1
        // A lost node (the triggers act loses one on purpose) is judged down within about 5 s.
        config.minimumNodeTTLSeconds = 5
        return config
    }

    /// One job to submit and what the demo expects of it (checked in the summary).
    struct Job {
        var name: String
        var tenant: String
        var what: String
        var expect: String
        var spec: [String: Any]
    }

    static func jobs(quick: Bool) -> [Job] {
        let busy = quick ? 2 : 5
        let climb = quick ? 20 : 40
        return [
            Job(
                name: "ramp", tenant: "batch",
                what: "a service whose CPU use climbs for \(climb) s: the trend the capacity report forecasts",
                expect: "completed",
                spec: [
                    "resources": ["cpu": 0.5, "memory": "32Mi"], "priority": 70,
                    "command": [
                        "sh", "-c",
                        "start=$(date +%s); end=$((start+\(climb))); while [ $(date +%s) -lt $end ]; do "
                            + "w=$(( ($(date +%s)-start+1)*1500 )); j=0; while [ $j -lt $w ]; do j=$((j+1)); done; "
                            + "sleep 0.1; done",
                    ],
                ]),
            Job(
                name: "crunch", tenant: "research", what: "CPU-bound, 2 tasks of 0.5 core each (cpu.max enforced)",
                expect: "completed",
                spec: [
                    "count": 2, "priority": 60, "resources": ["cpu": 0.5, "memory": "64Mi"],
                    "command": [
                        "sh", "-c", "end=$(($(date +%s)+\(busy))); while [ $(date +%s) -lt $end ]; do :; done",
                    ],
                ]),
            Job(
                name: "report", tenant: "research",
                what: "needs 1.5 cores: waits until crunch leaves room in research's 2-core quota",
                expect: "completed",
                spec: [
                    "resources": ["cpu": 1.5, "memory": "128Mi"], "priority": 40,
                    "command": ["sh", "-c", "echo report written by $HOSTNAME"],
                ]),
            Job(
                name: "memory-hog", tenant: "research", what: "asks for 32Mi, tries to hold 256 MiB: OOM-killed",
                expect: "failed",
                spec: [
                    "resources": ["cpu": 0.2, "memory": "32Mi"], "retry": ["maxAttempts": 1],
                    "command": ["sh", "-c", "head -c 268435456 /dev/zero | tail"],
                ]),
            Job(
                name: "fork-bomb", tenant: "batch", what: "forks without end: stopped at pids.max 32",
                expect: "failed",
                spec: [
                    "resources": ["cpu": 0.2, "memory": "64Mi", "pids": 32], "retry": ["maxAttempts": 1],
                    "timeout": "20s", "command": ["sh", "-c", "while :; do sleep 30 & done"],
                ]),
            Job(
                name: "batch-short", tenant: "batch", what: "\(quick ? 6 : 12) short tasks spread over the nodes",
                expect: "completed",
                spec: [
                    "count": quick ? 6 : 12, "resources": ["cpu": 0.1, "memory": "32Mi"],
                    "command": ["sh", "-c", "echo task $CORRAL_TASK_INDEX on $HOSTNAME; sleep 0.3"],
                ]),
            Job(
                name: "flaky", tenant: "batch", what: "fails its first attempt, retried after a backoff",
                expect: "completed",
                spec: [
                    "resources": ["cpu": 0.1, "memory": "32Mi"],
                    "retry": ["maxAttempts": 3, "initialDelay": "1s"],
                    "command": [
                        "sh", "-c",
                        "if [ $CORRAL_ATTEMPT -lt 2 ]; then echo attempt $CORRAL_ATTEMPT fails >&2; exit 3; fi; echo attempt $CORRAL_ATTEMPT works",
                    ],
                ]),
        ]
    }

    /// A job larger than its tenant's whole quota: refused at submission (422).
    static var overQuota: Job {
        Job(
            name: "too-big", tenant: "research", what: "asks for 3 cores, more than research's whole quota",
            expect: "rejected", spec: ["resources": ["cpu": 3, "memory": "64Mi"], "command": ["true"]])
    }

    static func body(_ job: Job) throws -> Data {
        var spec = job.spec
        spec["name"] = job.name
        spec["tenant"] = job.tenant
        return try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
    }
}
