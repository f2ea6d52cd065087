import CorralModel
import Foundation

/// How reports write times, quantities and resources in words.
public enum ReportText {
    public static func date(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }

    static func clock(_ time: Double, step: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = step >= 3600 ? "d MMM HH:mm" : step >= 60 ? "HH:mm" : "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }

    /// "7d", "36h", "10m", "45s".
    public static func duration(_ seconds: Double) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3600), ("m", 60)]
        where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return seconds >= 3600 ? String(format: "%.1fh", seconds / 3600) : "\(Int(seconds.rounded()))s"
    }

    public static func cores(_ value: Double) -> String {
        let value = abs(value) < 0.005 ? 0 : value
        let text = value >= 10 ? String(format: "%.0f", value) : String(format: "%.2g", value)
        return text + (value == 1 ? " core" : " cores")
    }

    public static func bytes(_ value: Double) -> String { ByteSize.format(UInt64(max(0, value).rounded())) }

    public static func percent(_ fraction: Double?) -> String {
        guard let fraction else { return "–" }
        return String(format: "%.0f%%", fraction * 100)
    }

    static func shape(_ cpu: Double, _ memory: Double) -> String { "\(cores(cpu)), \(bytes(memory))" }

    static func resource(_ kind: CapacityReport.Resource.Kind) -> String {
        switch kind {
        case .cpu: "CPU"
        case .memory: "memory"
        case .io: "I/O"
        }
    }

    static func tenantValue(_ kind: CapacityReport.TenantResource.Kind, _ value: Double) -> String {
        switch kind {
        case .cpu: cores(value)
        case .memory: bytes(value)
        case .tasks: "\(Int(value.rounded())) tasks"
        }
    }

    static func tenantResource(_ kind: CapacityReport.TenantResource.Kind) -> String {
        switch kind {
        case .cpu: "CPU"
        case .memory: "memory"
        case .tasks: "running-task"
        }
    }
}

extension ReportText {
    /// Text made safe inside HTML elements and quoted attributes.
    public static func html(_ text: String) -> String { SVGChart.escape(text) }
}
