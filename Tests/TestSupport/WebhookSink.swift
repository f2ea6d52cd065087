import Foundation

/// A webhook receiver on 127.0.0.1 (a python3 process): every POST body is kept as one line of a file.
/// The first `failFirst` requests are answered 500, so that a sender's retries are exercised.
public final class WebhookSink: @unchecked Sendable {
    public let url: String
    let process: Process
    let file: String

    static let script = """
        import http.server, sys
        path, fail = sys.argv[1], int(sys.argv[2])
        class H(http.server.BaseHTTPRequestHandler):
            seen = 0
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                H.seen += 1
                if H.seen <= fail:
                    self.send_response(500); self.end_headers(); return
                with open(path, 'ab') as f:
                    f.write(body.replace(b'\\n', b' ') + b'\\n')
                self.send_response(200); self.end_headers()
            def log_message(self, *args): pass
        server = http.server.HTTPServer(('127.0.0.1', 0), H)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    public init(directory: String, failFirst: Int = 0) throws {
        file = directory + "/webhook.jsonl"
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, file, String(failFirst)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "webhook sink: \(line)"])
        }
        url = "http://127.0.0.1:\(port)/hook"
    }

    /// Every body received so far, as JSON objects.
    public func received() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Ends the python3 process this sink started (by its PID).
    public func stop() {
        // By its PID, whatever Foundation believes of it; then a bounded wait for the exit to be seen.
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }

    deinit { stop() }
}
