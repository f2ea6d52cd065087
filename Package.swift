// swift-tools-version: 6.1
import PackageDescription

/// Strict settings for our own Swift targets (see STYLE.md: Hummingbird's habits).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "corral",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "corral", targets: ["corral"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The only C: clone3 spawner, PID-1 reaper, exec. Everything else is Swift.
        .target(name: "CSandbox", cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-Wall", "-Werror"])]),
        // Files, descriptors, epoll, statfs: the kernel layer under Cgroups, Sandbox and the agent.
        .target(name: "SystemSupport", dependencies: ["CSandbox"], swiftSettings: strict),
        // Domain values: job specs, resources, task states, quotas, units.
        .target(name: "CorralModel", swiftSettings: strict),
        // Every type that crosses a process boundary (CLI, agent, scheduler); typed identifiers.
        .target(name: "CorralProtocol", dependencies: ["CorralModel"], swiftSettings: strict),
        .target(name: "Cgroups", dependencies: ["CSandbox", "SystemSupport"], swiftSettings: strict),
        .target(
            name: "Sandbox",
            dependencies: [
                "CSandbox", "Cgroups", "CorralModel", "SystemSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Pure placement: a cluster view in structure-of-arrays form and the cost of DESIGN.md. No I/O.
        .target(name: "Placement", dependencies: ["CorralModel"], swiftSettings: strict),
        // Native ARIMA: state-space likelihood, CSS-ML estimation, forecasts with intervals. No I/O.
        .target(
            name: "Forecast", dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict),
        // StateStore (etcd-shaped: revisions, compare-and-swap transactions, watch) and its SQLite backend.
        .target(
            name: "Store",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict),
        // The scheduler's core: admission, queue, task and node state machines, retries, quotas, placement loop.
        .target(
            name: "Scheduler",
            dependencies: [
                "CorralModel", "CorralProtocol", "Forecast", "Placement", "Store",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Capacity-planning and quota reports from the usage history: JSON, Markdown, HTML with inline SVG.
        .target(
            name: "Reports", dependencies: ["CorralModel", "CorralProtocol", "Forecast", "Placement", "Store"],
            swiftSettings: strict),
        // TLS: `corral tls init`'s certificate authority (swift-certificates), and servers' and clients' settings.
        // The web console's pages, drawn from the API's views.
        .target(
            name: "Console", dependencies: ["CorralModel", "CorralProtocol", "Reports"], swiftSettings: strict),
        .target(
            name: "CorralTLS",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        // The typed HTTP client of the scheduler's API (AsyncHTTPClient), for the CLI and the agent.
        .target(
            name: "CorralClient",
            dependencies: [
                "CorralModel", "CorralProtocol", "CorralTLS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The scheduler as a service: routes, authentication, configuration, metrics, composition root.
        .target(
            name: "SchedulerService",
            dependencies: [
                "Console", "CorralModel", "CorralProtocol", "Placement", "Reports", "Scheduler", "Store",
                "SystemSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "CorralTLS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The node daemon: registration, heartbeats, long-poll, supervision through Sandbox, re-adoption.
        .target(
            name: "Agent",
            dependencies: [
                "CorralClient", "CorralProtocol", "CorralModel", "CorralTLS", "Sandbox", "Cgroups", "SystemSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // `corral demo` and the end-to-end tests: a scheduler and agents as processes on this machine.
        .target(
            name: "Demo",
            dependencies: [
                "CorralClient", "CorralProtocol", "CorralTLS", "SchedulerService", "Reports", "Scheduler", "Sandbox",
                "Cgroups", "CorralModel", "SystemSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Benchmarks",
            dependencies: [
                "CorralClient", "CorralProtocol", "SchedulerService", "Demo", "Forecast", "Scheduler", "Store",
                "Sandbox", "Cgroups", "CSandbox", "Placement", "CorralModel", "SystemSupport",
            ],
            exclude: ["Datasets"],
            swiftSettings: strict),
        .executableTarget(
            name: "corral",
            dependencies: [
                "Agent", "Benchmarks", "Cgroups", "CorralClient", "CorralModel", "CorralProtocol", "CorralTLS", "Demo",
                "Forecast",
                "Reports", "Sandbox", "SchedulerService", "SystemSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Preconditions (root, binaries) and temp directories shared by the test targets.
        .target(
            name: "TestSupport", dependencies: ["CorralProtocol"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "CorralModelTests", dependencies: ["CorralModel"], swiftSettings: strict),
        .testTarget(
            name: "CorralProtocolTests", dependencies: ["CorralProtocol", "CorralModel", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "PlacementTests", dependencies: ["Placement", "CorralModel"], swiftSettings: strict),
        // Parity with R's forecast package on real series (fixtures from Tests/ForecastTests/Fixtures/make-fixtures.R).
        .testTarget(
            name: "ForecastTests", dependencies: ["Forecast", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict),
        // Report numbers from synthetic histories, the JSON Schema, and the HTML in headless chromium.
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "CorralProtocol", "Store", "Placement", "CorralModel", "TestSupport"],
            exclude: ["Scripts"],
            swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "SchedulerTests",
            dependencies: [
                "Scheduler", "CorralProtocol", "Forecast", "Placement", "Store", "CorralModel", "TestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SchedulerServiceTests",
            dependencies: [
                "SchedulerService", "CorralClient", "CorralProtocol", "Scheduler", "Store", "CorralModel", "Placement",
                "TestSupport", "Console",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "CorralProtocol", "Sandbox", "Cgroups", "CorralModel", "SystemSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "CgroupsTests", dependencies: ["Cgroups", "SystemSupport", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CSandboxTests", dependencies: ["CSandbox", "TestSupport"], swiftSettings: strict),
        // Boots a pure-v2 and a pure-v1 kernel under qemu and runs the enforcement suite inside (Tests/vm).
        .testTarget(name: "VMTests", dependencies: ["TestSupport"], swiftSettings: strict),
        // Scheduler and agents as processes: demo, agent re-adoption, scheduler restart, node loss.
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "Demo", "CorralClient", "CorralProtocol", "CorralTLS", "SchedulerService", "Reports", "Scheduler",
                "CorralModel", "Store", "TestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Scripts"],
            swiftSettings: strict),
        // Runs the built `corral` binary as an operator would (build it first: `swift build`).
        .testTarget(name: "CLITests", dependencies: ["TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "Cgroups", "CorralModel", "CSandbox", "SystemSupport", "TestSupport"],
            swiftSettings: strict),
    ]
)
