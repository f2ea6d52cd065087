import CorralModel
import CorralProtocol
import Foundation
import Hummingbird
import Scheduler

extension SchedulerAPI {
    /// The longest drain deadline accepted: a year.
    static let maxDrainSeconds = 365.0 * 86_400

    /// `POST /v1/nodes/{node}/drain` and `/undrain` (admin).
    func addDrainRoutes(_ router: Router<SchedulerRequestContext>) {
        router.post("/v1/nodes/:node/drain") { request, context in
            try context.require([.admin])
            let node = try nodeID(context)
            let body = try await Self.body(of: request, upTo: 4096)
            var deadline: Double? = nil
            if body.readableBytes > 0 {
                let drain: DrainRequest = try decodeBody(body)
                deadline = drain.deadlineSeconds
            }
            if let deadline, !(deadline.isFinite && (0...Self.maxDrainSeconds).contains(deadline)) {
                throw APIError.badRequest(
                    "deadlineSeconds: must be within 0...\(Int(Self.maxDrainSeconds))",
                    problems: [.init(field: "deadlineSeconds", message: "a number of seconds within 0...31536000")])
            }
            guard let status = try await scheduler.drain(node: node, deadline: deadline) else {
                throw SchedulerError.unknownNode(node.rawValue)
            }
            return try json(status)
        }
        router.post("/v1/nodes/:node/undrain") { _, context in
            try context.require([.admin])
            let node = try nodeID(context)
            guard let status = try await scheduler.undrain(node: node) else {
                throw SchedulerError.unknownNode(node.rawValue)
            }
            return try json(status)
        }
    }
}
