import CorralModel
import CorralProtocol
import Crypto
import Foundation
import Hummingbird
import Prometheus
import Scheduler
import Store

/// The agents' side of the API: registration with the bootstrap token or a node's credential, heartbeats
/// and the long-poll, each for the caller's own node only (and with mTLS, its certificate's).
extension SchedulerAPI {
    func addAgentRoutes(_ router: Router<SchedulerRequestContext>) {
        router.post("/v1/agents/register") { request, context in
            let who = try context.caller()
            guard who.isAgent else {
                throw APIError.forbidden("only agents register nodes, not \(who)")
            }
            var registration: Registration = try await decode(request)
            try await requireCertificate(of: registration.node, context)
            // Agents older than the `address` field advertise it in `info`: checked the same way.
            registration.address = registration.address ?? registration.info?["address"]
            let problems = registration.problems()
            guard problems.isEmpty else { throw APIError.badRequest("the registration is invalid", problems: problems) }
            // The bootstrap token claims a node id no one holds and gets the node's credential; a holder
            // re-registers only its own node.
            var credential: String?
            let claim: Scheduler.Claim
            if case .node(let holder) = who {
                guard holder == registration.node else {
                    throw APIError.forbidden("this credential is node \(holder)'s, not node \(registration.node)'s")
                }
                claim = .holder(holder)
            } else {
                let secret = Secrets.random()
                credential = secret
                claim = .bootstrap(credentialDigest: TokenDigest.hex(of: secret))
            }
            var orders = try await scheduler.register(
                NodeRecord(
                    id: registration.node, capacity: registration.capacity, labels: registration.labels ?? [:],
                    weight: registration.weight ?? 1, address: registration.address, info: registration.info ?? [:]),
                claim: claim)
            orders.credential = credential
            orders.relayToken = relayToken(for: registration.node)
            return try json(orders)
        }
        router.post("/v1/agents/:node/heartbeat") { request, context in
            let node = try nodeID(context)
            try await requireNode(node, context)
            let beat: Heartbeat = try await decode(request)
            let problems = beat.problems()
            guard problems.isEmpty else { throw APIError.badRequest("the heartbeat is invalid", problems: problems) }
            heartbeats.increment()
            return try json(
                await scheduler.heartbeat(
                    node: node, reports: beat.reports, usage: beat.usage, diskFull: beat.diskFull == true))
        }
        router.put("/v1/agents/:node/checkpoints/:allocation") { request, context in
            let node = try nodeID(context)
            try await requireNode(node, context)
            let allocation = try allocationID(context)
            do {
                let limit = try await scheduler.checkpointLimit(allocation, node: node)
                let body = try await Self.body(of: request, upTo: Int(limit))
                try await scheduler.storeCheckpoint(Array(body.readableBytesView), allocation: allocation, node: node)
            } catch let refusal as Scheduler.CheckpointRefusal {
                throw Self.apiError(refusal, allocation)
            } catch let error as CheckpointStore.Failure {
                throw APIError(status: 507, code: "checkpoints_full", message: error.description)
            }
            return Response(status: .noContent)
        }
        router.get("/v1/agents/:node/checkpoints/:allocation") { _, context in
            let node = try nodeID(context)
            try await requireNode(node, context)
            let allocation = try allocationID(context)
            let archive: [UInt8]?
            do { archive = try await scheduler.checkpoint(for: allocation, node: node) } catch let refusal
                as Scheduler.CheckpointRefusal
            {
                throw Self.apiError(refusal, allocation)
            }
            guard let archive else {
                throw APIError(status: 404, code: "no_checkpoint", message: "task \(allocation.task) has no checkpoint")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: archive)))
        }
        router.get("/v1/agents/:node/allocations") { request, context in
            let node = try nodeID(context)
            try await requireNode(node, context)
            let raw = request.uri.queryParameters.get("wait")
            guard let wait = raw.map({ Double($0) }) ?? 20, (0...60).contains(wait) else {
                throw APIError.badRequest(
                    "wait: must be 0...60 seconds",
                    problems: [ValueError(field: "wait", message: "must be 0...60 seconds")])
            }
            return try json(await scheduler.poll(node: node, timeout: .milliseconds(Int64(wait * 1000))))
        }
    }

    func allocationID(_ context: SchedulerRequestContext) throws -> AllocationID {
        let text = try context.parameters.require("allocation")
        guard let id = AllocationID(text) else { throw APIError.notFound("allocation \(text)") }
        return id
    }

    static func apiError(_ refusal: Scheduler.CheckpointRefusal, _ allocation: AllocationID) -> APIError {
        switch refusal {
        case .unknown:
            APIError(
                status: 404, code: "unknown_allocation",
                message: "allocation \(allocation) is not one this node runs, or this scheduler keeps no checkpoints")
        case .tooLarge(let limit):
            APIError(
                status: 413, code: "too_large",
                message: "the checkpoint is over its job's checkpointLimit of \(limit) bytes")
        case .disabled:
            APIError(
                status: 409, code: "checkpoints_off",
                message: "the job of \(allocation) keeps no checkpoints (checkpointLimit 0)")
        }
    }

    /// The agent of `node`: its credential, and with mTLS its client certificate.
    func requireNode(_ node: NodeID, _ context: SchedulerRequestContext) async throws {
        try context.requireNode(node)
        try await requireCertificate(of: node, context)
    }

    /// With mTLS, a client certificate signed by the client CA whose name is `node`: 403 otherwise.
    func requireCertificate(of node: NodeID, _ context: SchedulerRequestContext) async throws {
        guard mutualTLS else { return }
        let names = await context.clientCertificateNames()
        guard names.contains(node.rawValue) else {
            throw APIError.forbidden(
                names.isEmpty
                    ? "node \(node) must present its client certificate (mTLS)"
                    : "the client certificate is \(names.joined(separator: ", "))'s, not node \(node)'s")
        }
    }

    /// What the scheduler presents to `node`'s agent for its logs (see `relayKey`).
    func relayToken(for node: NodeID) -> String {
        Secrets.hex(HMAC<SHA256>.authenticationCode(for: Array("corral-relay:\(node)".utf8), using: relayKey))
    }

    /// The node named in the path: 404 for a name no node can have.
    func nodeID(_ context: SchedulerRequestContext) throws -> NodeID {
        let text = try context.parameters.require("node")
        guard let node = NodeID(text) else { throw SchedulerError.unknownNode(text) }
        return node
    }
}
