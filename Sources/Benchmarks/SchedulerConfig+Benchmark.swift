import CorralClient
import CorralProtocol
import SchedulerService

extension SchedulerConfig {
    /// What the cluster benchmarks run with: fresh tokens and one tenant, `bench`, without a quota.
    static func benchmark(heartbeatIntervalSeconds: Double) -> SchedulerConfig {
        var config = SchedulerConfig(
            adminToken: randomToken(), agentToken: randomToken(), tenants: ["bench": .init(token: randomToken())])
        config.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        return config
    }

    var benchToken: String { tenants["bench"]?.token ?? adminToken }
}
