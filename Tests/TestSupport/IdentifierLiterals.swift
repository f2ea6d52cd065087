import CorralProtocol

// Tests spell identifiers as literals ("j1", "n1", "j1.0.1"); a literal that is not a valid id stops the
// test at once. Only tests get these conformances: production code parses, and handles a nil.

extension JobID: ExpressibleByStringInterpolation, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
{
    public init(stringLiteral value: String) { self = JobID(value)! }
}

extension NodeID: ExpressibleByStringInterpolation, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
{
    public init(stringLiteral value: String) { self = NodeID(value)! }
}

extension AllocationID: ExpressibleByStringInterpolation, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
{
    public init(stringLiteral value: String) { self = AllocationID(value)! }
}
