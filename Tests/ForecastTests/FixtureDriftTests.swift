import Foundation
import TestSupport
import Testing

/// The committed parity fixtures are what R's forecast package says today: both generator scripts run
/// again into a temporary directory with Debian's r-cran-forecast, and every file they write must match
/// the committed one (numbers to 1e-6 relative, everything else exactly), so a fixture cannot drift
/// from R or be edited by hand.
@Suite(
    .serialized, .enabled(if: Preconditions.met(.binary("Rscript", package: "r-cran-forecast"))),
    .timeLimit(.minutes(3)))
struct FixtureDriftTests {
    static let requirements: [Requirement] = [.binary("Rscript", package: "r-cran-forecast")]

    /// (generator script, committed directory, files it writes relative to that directory)
    static let generators: [(script: String, directory: String, files: [String])] = [
        (
            "Tests/ForecastTests/Fixtures/make-fixtures.R", ParityTests.directory,
            ["fixed-order.json"]
                + [
                    "lh", "LakeHuron", "Nile", "WWWusage", "USAccDeaths", "AirPassengersLog", "AirPassengers120",
                ].map { "\($0).csv" }
        ),
        (
            "Sources/Benchmarks/Datasets/make-auto-fixtures.R", datasetsDirectory,
            ["auto.json", "auto/taylor2000.csv.stress"] + AutoParityTests.references.map { "auto/\($0.name).csv" }
        ),
    ]

    @Test("regenerating the parity fixtures with R gives the committed files", arguments: [0, 1])
    func committedFixturesAreRs(generator: Int) throws {
        let missing = Preconditions.missing(Self.requirements)
        try #require(missing.isEmpty, "\(missing)")
        let (script, committed, files) = Self.generators[generator]
        try #require(files.count > 2, "the fixtures to compare are listed")
        let fresh = TemporaryDirectory("corral-r-fixtures")
        let run = try runCommand(try #require(Requirement.which("Rscript")), [script, fresh.path])
        try #require(run.status == 0, "Rscript \(script) failed: \(run.stderr)")
        for file in files {
            let ours = try #require(
                FileManager.default.contents(atPath: committed + "/" + file), "committed \(file) is missing")
            let rs = try #require(
                FileManager.default.contents(atPath: fresh.path + "/" + file), "R did not write \(file)")
            var problems: [String] = []
            if file.hasSuffix(".json") {
                Self.compare(
                    try JSONSerialization.jsonObject(with: ours), try JSONSerialization.jsonObject(with: rs), at: file,
                    into: &problems)
            } else {
                Self.compareColumns(
                    String(decoding: ours, as: UTF8.self), String(decoding: rs, as: UTF8.self), at: file,
                    into: &problems)
            }
            #expect(problems.isEmpty, "\(file) drifted from R: \(problems.prefix(10))")
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        a == b || (a.isNaN && b.isNaN) || abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + 1e-12
    }

    /// A CSV of one header line and one number per line.
    static func compareColumns(_ ours: String, _ rs: String, at file: String, into problems: inout [String]) {
        let a = ours.split(separator: "\n")
        let b = rs.split(separator: "\n")
        guard a.count == b.count, a.first == b.first else {
            problems.append(
                "\(file): \(a.count) lines headed \(a.first ?? "") vs R's \(b.count) headed \(b.first ?? "")")
            return
        }
        for (line, (x, y)) in zip(a, b).enumerated().dropFirst() {
            guard let u = Double(x), let v = Double(y), close(u, v) else {
                if x != y { problems.append("\(file):\(line + 1): \(x) vs R's \(y)") }
                continue
            }
        }
    }

    static func compare(_ ours: Any, _ rs: Any, at path: String, into problems: inout [String]) {
        switch (ours, rs) {
        case (let a as [String: Any], let b as [String: Any]):
            if Set(a.keys) != Set(b.keys) {
                problems.append("\(path): keys \(a.keys.sorted()) vs R's \(b.keys.sorted())")
            }
            for (key, value) in a {
                if let other = b[key] { compare(value, other, at: "\(path).\(key)", into: &problems) }
            }
        case (let a as [Any], let b as [Any]):
            guard a.count == b.count else {
                problems.append("\(path): \(a.count) elements vs R's \(b.count)")
                return
            }
            for (index, (x, y)) in zip(a, b).enumerated() { compare(x, y, at: "\(path)[\(index)]", into: &problems) }
        case (let a as String, let b as String):
            if a != b { problems.append("\(path): \(a) vs R's \(b)") }
        case (let a as NSNumber, let b as NSNumber):
            if !close(a.doubleValue, b.doubleValue) { problems.append("\(path): \(a) vs R's \(b)") }
        case (is NSNull, is NSNull):
            break
        default:
            problems.append("\(path): \(ours) vs R's \(rs)")
        }
    }
}
