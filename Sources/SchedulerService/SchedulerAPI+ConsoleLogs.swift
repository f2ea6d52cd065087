import AsyncHTTPClient
import CorralProtocol
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

extension SchedulerAPI {
    /// At most this much of a log is sent when a browser starts following it: the tail, not the whole.
    static let logTailBytes: UInt64 = 64 << 10
    /// The most one read of a followed log may bring (the agent's own read limit).
    static let logReadBytes = 1 << 20

    /// `GET /ui/logs/{allocation}/{stdout|stderr}`: a task's log as server-sent events (`log` with the
    /// text, `end` when the allocation stops and nothing more came, `problem` when it cannot be read),
    /// read from its agent twice a second through the same relay (and the same checks) as the API's
    /// `/v1/allocations/{id}/logs/{stream}`.
    func addConsoleLogRoute(_ router: Router<SchedulerRequestContext>) {
        router.get("/ui/logs/:id/:stream") { _, context in
            let (id, stream, node, address) = try await logTarget(context)
            let session = context.session
            let viewer = "\(try viewer(try context.caller()))"
            return Self.eventStream(sessions: sessions, viewer: viewer) { writer in
                var offset: UInt64 = 0
                var first = true
                let started = ContinuousClock.now
                while ContinuousClock.now - started < .seconds(3600) {
                    if let session, sessions.session(session) == nil { return }
                    let chunk: (bytes: ByteBuffer, next: UInt64, running: Bool)
                    do {
                        chunk = try await logChunk(id, stream: stream, node: node, address: address, offset: offset)
                    } catch let error as APIError {
                        try await writer.write(Self.event("problem", ["message": error.message]))
                        return
                    }
                    if first, chunk.next > offset + Self.logTailBytes {
                        // Start from the tail of a long log.
                        offset = chunk.next - Self.logTailBytes
                        first = false
                        continue
                    }
                    first = false
                    if chunk.bytes.readableBytes > 0 {
                        try await writer.write(Self.event("log", ["text": String(buffer: chunk.bytes)]))
                    } else if !chunk.running {
                        try await writer.write(Self.event("end", ["reason": "the task is no longer running"]))
                        return
                    }
                    offset = chunk.next
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }
    }

    /// One read of a log from its agent: the bytes from `offset`, the offset to ask for next, and whether
    /// the allocation still runs. An agent sends at most 1 MiB a read; one that sends more is refused, so
    /// that no agent can make each open console stream hold the relay's 64 MiB.
    func logChunk(_ id: AllocationID, stream: String, node: NodeID, address: String, offset: UInt64) async throws -> (
        bytes: ByteBuffer, next: UInt64, running: Bool
    ) {
        let (response, body) = try await fetch(
            from: address, node: node, path: LogRelay.path(id, stream: stream, offset: offset),
            limit: Self.logReadBytes)
        let next =
            response.headers.first(name: LogRelay.offsetHeader).flatMap { UInt64($0) }
            ?? offset + UInt64(body.readableBytes)
        let running = response.headers.first(name: LogRelay.runningHeader) == "true"
        return (body, next, running)
    }
}
