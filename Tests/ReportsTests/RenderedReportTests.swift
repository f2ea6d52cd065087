import CorralModel
import Foundation
import Reports
import TestSupport
import Testing

/// The report's formats as their readers see them: the JSON against its committed JSON Schema, and
/// the HTML drawn by a real headless browser.
@Suite(.timeLimit(.minutes(4)))
struct RenderedReportTests {
    static let browser: [Requirement] = [
        .binary("chromium", package: "chromium"), .binary("chromedriver", package: "chromium-driver"),
        .pythonModule("selenium", package: "selenium"), .pythonModule("PIL", package: "pillow"),
    ]

    @Test(.enabled(if: Preconditions.met(.pythonModule("jsonschema", package: "jsonschema"))))
    func jsonMatchesItsSchemaAndRoundTrips() async throws {
        let missing = Preconditions.missing(.pythonModule("jsonschema", package: "jsonschema"))
        try #require(missing.isEmpty, "\(missing)")
        let report = try await syntheticReport.value
        let directory = TemporaryDirectory("corral-report")
        let json = try report.json()
        directory.write("report.json", json)
        let decoded = try JSONDecoder().decode(CapacityReport.self, from: Data(json.utf8))
        #expect(decoded == report)
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=str)
            for e in errors[:5]: print("/".join(map(str, e.absolute_path)), e.message)
            sys.exit(1 if errors else 0)
            """
        let result = try runCommand(
            Requirement.which("python3") ?? "/usr/bin/python3",
            ["-c", check, repositoryRoot() + "/docs/capacity-report.schema.json", directory.path + "/report.json"])
        #expect(result.status == 0, "schema violations: \(result.stdout)\(result.stderr)")
    }

    @Test(.enabled(if: Preconditions.met(RenderedReportTests.browser)))
    func htmlRendersItsChartsInHeadlessChromium() async throws {
        let missing = Preconditions.missing(Self.browser)
        try #require(missing.isEmpty, "\(missing)")
        let report = try await syntheticReport.value
        let html = report.html()
        #expect(!html.contains("<script"), "the report must not run or fetch scripts")
        let external = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!external.contains("http:") && !external.contains("https:"), "the report must fetch nothing")
        let directory = TemporaryDirectory("corral-report")
        directory.write("report.html", html)
        let result = try runCommand(
            Requirement.which("python3") ?? "/usr/bin/python3",
            [
                repositoryRoot() + "/Tests/ReportsTests/Scripts/render-report.py", directory.path + "/report.html",
                "--png", directory.path + "/report.png",
            ])
        try #require(result.status == 0, "render-report.py failed: \(result.stderr)")
        let rendered = try JSONDecoder().decode(Rendered.self, from: Data(result.stdout.utf8))
        #expect(rendered.console.isEmpty, "console messages: \(rendered.console)")
        // Cluster and node: CPU, memory, I/O each; the tenant's two quota'd resources.
        #expect(rendered.charts.count == 8, "\(rendered.charts.map(\.title))")
        for chart in rendered.charts {
            let line = (chart.colours["used"] ?? 0) + (chart.colours["held"] ?? 0)
            #expect(line > 100, "\(chart.title): history line not drawn (\(chart.colours))")
            let bands = (chart.colours["band80"] ?? 0) + (chart.colours["band95"] ?? 0)
            #expect(bands > 100, "\(chart.title): no forecast bands (\(chart.colours))")
            #expect((chart.colours["forecast"] ?? 0) > 50, "\(chart.title): no forecast line (\(chart.colours))")
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/report.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
    }

    struct Rendered: Decodable {
        struct Chart: Decodable {
            var title: String
            var colours: [String: Int]
        }
        var console: [[String: JSONScalar]]
        var charts: [Chart]
    }

    /// A console entry's field: text or number.
    enum JSONScalar: Decodable, CustomStringConvertible {
        case text(String), number(Double)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }
        var description: String {
            switch self {
            case .text(let text): text
            case .number(let number): "\(number)"
            }
        }
    }
}
