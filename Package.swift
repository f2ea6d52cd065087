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
    ],
    targets: [
        // The only C: clone3 spawner, PID-1 reaper, exec. Everything else is Swift.
        .target(name: "CSandbox", cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-Wall", "-Werror"])]),
        .target(name: "CorralModel", swiftSettings: strict),
        .target(name: "Cgroups", dependencies: ["CSandbox", "CorralModel"], swiftSettings: strict),
        .target(
            name: "Sandbox",
            dependencies: ["CSandbox", "Cgroups", "CorralModel", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(name: "Benchmarks", dependencies: ["Sandbox", "Cgroups", "CSandbox"], swiftSettings: strict),
        .executableTarget(
            name: "corral",
            dependencies: [
                "Benchmarks", "Sandbox", "Cgroups", "CorralModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Preconditions (root, binaries) and temp directories shared by the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "CorralModelTests", dependencies: ["CorralModel"], swiftSettings: strict),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CSandboxTests", dependencies: ["CSandbox", "TestSupport"], swiftSettings: strict),
        // Boots a pure-v2 and a pure-v1 kernel under qemu and runs the enforcement suite inside (Tests/vm).
        .testTarget(name: "VMTests", dependencies: ["TestSupport"], swiftSettings: strict),
        // Runs the built `corral` binary as an operator would (build it first: `swift build`).
        .testTarget(name: "CLITests", dependencies: ["TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SandboxTests", dependencies: ["Sandbox", "Cgroups", "CorralModel", "CSandbox", "TestSupport"],
            swiftSettings: strict),
    ]
)
