import CorralClient
import CorralModel
import CorralProtocol
import Placement
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// The configuration file's settings: each problem names its field; valid ones reach the core.
@Suite struct SchedulerConfigTests {
    static func config(horizons: [Double]?) -> SchedulerConfig {
        var config = RouterTests.config
        config.forecastHorizonsSeconds = horizons
        return config
    }

    @Test("forecastHorizonsSeconds: ascending positive seconds reach the scheduler core; others name the field")
    func forecastHorizons() {
        #expect(Self.config(horizons: nil).core.forecastHorizons == [60, 600, 3600])
        #expect(Self.config(horizons: [30, 300]).problems().isEmpty)
        #expect(Self.config(horizons: [30, 300]).core.forecastHorizons == [30, 300])
        for bad: [Double] in [[], [600, 60], [0, 60], [60, 60], Array(repeating: 1, count: 9)] {
            let problems = Self.config(horizons: bad).problems()
            #expect(problems.map(\.field) == ["forecastHorizonsSeconds"], "\(bad): \(problems)")
        }
    }

    @Test("forecastFeasibility: absent means requests alone; its defaults and bad values name the field")
    func forecastFeasibility() {
        var config = RouterTests.config
        #expect(config.core.feasibility == nil)
        config.forecastFeasibility = .init()
        #expect(config.problems().isEmpty)
        #expect(config.core.feasibility == Feasibility(ceiling: 0.9) && config.core.feasibilityInterval == 80)
        config.forecastFeasibility = .init(interval: 95, ceiling: 0.8)
        #expect(config.core.feasibility?.ceiling == 0.8 && config.core.feasibilityInterval == 95)
        config.forecastFeasibility = .init(interval: 50, ceiling: 1)
        #expect(config.problems().isEmpty, "50: the mean")
        config.forecastFeasibility = .init(interval: 90, ceiling: 1.5)
        #expect(
            config.problems().map(\.field) == ["forecastFeasibility.interval", "forecastFeasibility.ceiling"],
            "\(config.problems())")
    }

    @Test("reclamation: absent means by requests; its defaults and bad values name the field")
    func reclamation() {
        var config = RouterTests.config
        #expect(config.core.reclamation == nil)
        config.reclamation = .init()
        #expect(config.problems().isEmpty)
        let core = config.core
        #expect(core.reclamation == Feasibility(ceiling: 0.9) && core.reclamationInterval == 80)
        #expect(core.reclamationCooldown == 60)
        config.reclamation = .init(interval: 50, ceiling: 0.95, cooldownSeconds: 0)
        #expect(config.problems().isEmpty && config.core.reclamationCooldown == 0)
        config.reclamation = .init(interval: 70, ceiling: 0, cooldownSeconds: -1)
        config.forecastFeasibility = .init(cooldownSeconds: 10)
        #expect(
            config.problems().map(\.field) == [
                "reclamation.interval", "reclamation.ceiling", "forecastFeasibility.cooldownSeconds",
                "reclamation.cooldownSeconds",
            ], "\(config.problems())")
    }

    @Test("alerts: valid rules reach the core; a bad field or a name used twice is named with its index")
    func alertRules() {
        var config = RouterTests.config
        let good = AlertRule(name: "down", kind: .nodeDown, webhook: "https://hooks.example/corral")
        config.alerts = [good]
        #expect(config.problems().isEmpty)
        #expect(config.core.alerts == [good])
        config.alerts = [good, good, AlertRule(name: "q", kind: .tenantQuota, webhook: "file:///etc/passwd")]
        #expect(config.problems().map(\.field) == ["alerts[1].name", "alerts[2].webhook"])
    }

    /// A tenant token equal to the admin token made that tenant an admin (issue 20, item 8).
    @Test func aTokenSharedByTwoRolesIsRefusedAtLoad() {
        var config = RouterTests.config
        let tenant = config.tenants.keys.sorted()[0]
        config.tenants[tenant]?.token = config.adminToken
        #expect(config.problems().map(\.field) == ["tenants.\(tenant).token"])
        config = RouterTests.config
        config.agentToken = config.adminToken
        #expect(config.problems().map(\.field) == ["agentToken"])
        config = RouterTests.config
        config.tenants["copycat"] = .init(token: config.tenants[tenant]!.token)
        #expect(config.problems().map(\.field).contains("tenants.\(max(tenant, "copycat")).token"))
    }

    @Test func everyRoleIsFoundByItsTokenAndNoPrefixOrExtensionOfOneIsAnybody() {
        let config = RouterTests.config
        #expect(config.principal(token: config.adminToken) == .admin)
        #expect(config.principal(token: config.agentToken) == .agent)
        for (name, tenant) in config.tenants { #expect(config.principal(token: tenant.token) == .tenant(name)) }
        for token in [
            String(config.adminToken.dropLast()), config.adminToken + "x", "", String(repeating: "a", count: 64),
        ] {
            #expect(config.principal(token: token) == nil, "\(token)")
        }
    }
}
