/// Where a job's tasks go: wherever placement scores best (`any`), or one on every ready node that
/// matches the job's constraints at submission (`each-node`: the broadcast of a job to every shard).
public enum PlacementMode: String, Sendable, Codable, CaseIterable {
    case any
    case eachNode = "each-node"
}

extension FieldReader {
    static let placementFields: Set<String> = ["mode"]

    mutating func placement(_ value: JSONValue?) -> PlacementMode {
        guard let value, value != .null, let fields = object(value, "placement", known: Self.placementFields) else {
            return .any
        }
        return choice(fields["mode"], "placement.mode", default: PlacementMode.any)
    }
}
