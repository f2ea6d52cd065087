/// Prometheus' text exposition format (0.0.4), written by hand for series whose label sets follow the
/// cluster (nodes come and go, tenants change): each scrape writes what is there now, so nothing stale
/// stays registered.
public struct MetricsText {
    public init() {}

    public private(set) var text = ""

    /// Starts a family: its help and type lines.
    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        text += name + Self.labels(Array(labels)) + " " + Self.number(value) + "\n"
    }

    public mutating func sample(_ name: String, _ value: Double) { text += name + " " + Self.number(value) + "\n" }

    public mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, "gauge", help)
        sample(name, value)
    }

    /// A histogram's buckets, sum and count; `labels` go before `le`.
    public mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: LatencyHistogram) {
        for (bound, count) in zip(histogram.bounds.map(Self.number) + ["+Inf"], histogram.cumulative) {
            text += "\(name)_bucket" + Self.labels(labels + [("le", bound)]) + " \(count)\n"
        }
        text += "\(name)_sum" + Self.labels(labels) + " " + Self.number(histogram.sum) + "\n"
        text += "\(name)_count" + Self.labels(labels) + " \(histogram.count)\n"
    }

    public static func labels(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and line feed.
    public static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
