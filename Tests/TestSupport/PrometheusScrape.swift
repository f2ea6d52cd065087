import Foundation

/// A `/metrics` page read strictly: every sample must follow its family's `# TYPE` line, no series may
/// appear twice, every value must be a number. Series are keyed `name{a="x",b="y"}` with labels sorted.
public struct PrometheusScrape: Sendable {
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var values: [String: Double] = [:]
    /// Each family's type (`counter`, `gauge`, `histogram`).
    public private(set) var types: [String: String] = [:]

    public init(_ text: String) throws {
        var family: String?
        for (number, raw) in text.split(separator: "\n").enumerated() {
            let line = String(raw)
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Malformed(description: "line \(number + 1): \(line)") }
                family = String(parts[2])
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            let (name, labels, value) = try Self.sample(line, number + 1)
            guard let family, name == family || [family + "_bucket", family + "_sum", family + "_count"].contains(name)
            else {
                throw Malformed(description: "line \(number + 1): \(name) outside its family (\(family ?? "none"))")
            }
            let key = Self.key(name, labels)
            guard values[key] == nil else { throw Malformed(description: "line \(number + 1): \(key) twice") }
            values[key] = value
        }
    }

    public static func key(_ name: String, _ labels: [String: String] = [:]) -> String {
        labels.isEmpty
            ? name
            : name + "{"
                + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
                .joined(separator: ",") + "}"
    }

    public subscript(_ name: String, _ labels: [String: String] = [:]) -> Double? { values[Self.key(name, labels)] }

    /// Every series of a family (its name, or its histogram parts).
    public func series(named name: String) -> [String: Double] {
        values.filter { $0.key == name || $0.key.hasPrefix(name + "{") }
    }

    /// Metric names present (histograms by family name).
    public var families: Set<String> { Set(types.keys) }

    static func sample(_ line: String, _ number: Int) throws -> (String, [String: String], Double) {
        var labels: [String: String] = [:]
        let name: String
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = String(line[..<brace])
            guard let close = line.lastIndex(of: "}") else { throw Malformed(description: "line \(number): \(line)") }
            var body = line[line.index(after: brace)..<close]
            while !body.isEmpty {
                guard let equals = body.firstIndex(of: "="), body[body.index(after: equals)] == "\"" else {
                    throw Malformed(description: "line \(number): labels in \(line)")
                }
                let key = String(body[..<equals])
                var index = body.index(equals, offsetBy: 2)
                var value = ""
                while index < body.endIndex, body[index] != "\"" {
                    if body[index] == "\\" {
                        index = body.index(after: index)
                        value.append(body[index] == "n" ? "\n" : body[index])
                    } else {
                        value.append(body[index])
                    }
                    index = body.index(after: index)
                }
                labels[key] = value
                body = body[body.index(after: index)...]
                if body.hasPrefix(",") { body = body.dropFirst() }
            }
            rest = line[line.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { throw Malformed(description: "line \(number): \(line)") }
            name = String(line[..<space])
            rest = line[space...]
        }
        let text = rest.trimmingCharacters(in: .whitespaces)
        let value: Double? = text == "+Inf" ? .infinity : text == "-Inf" ? -.infinity : Double(text)
        guard let value else { throw Malformed(description: "line \(number): value \(text)") }
        return (name, labels, value)
    }
}
