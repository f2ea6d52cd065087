import Foundation

/// The data sets the forecasting and replay benchmarks read, kept in the package beside this file
/// (`Sources/Benchmarks/Datasets`): the auto-ARIMA panel (`auto.json`, `auto/`), the M3 monthly panel
/// (`m3/`) and the data-centre traces (`traces/`). Found relative to the package the binary was built
/// from, whatever the working directory; a flag names another directory.
public enum Datasets {
    /// The directory that holds `entry` (a file or directory of the data sets): beside this source file,
    /// or found by walking up from the running binary (`.build/<triple>/<config>/corral`) to the package.
    /// Missing, the error names where it looked and the flag that names another directory.
    public static func directory(holding entry: String, flag: String) throws -> String {
        var candidates = [URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Datasets"]
        if let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var url = URL(fileURLWithPath: binary)
            while url.path != "/" {
                url.deleteLastPathComponent()
                if FileManager.default.fileExists(atPath: url.path + "/Package.swift") {
                    candidates.append(url.path + "/Sources/Benchmarks/Datasets")
                    break
                }
            }
        }
        for base in candidates where FileManager.default.fileExists(atPath: base + "/" + entry) { return base }
        throw BenchmarkError(
            "\(candidates.map { $0 + "/" + entry }.joined(separator: " and ")) not found: pass \(flag) DIR")
    }
}
