/// An image as jobs name it: `NAME:TAG` for an imported image (`corral image import`), or a bare `NAME`
/// for one built from a recipe in Images/. Each part is 1-128 characters of A-Z a-z 0-9 . _ -.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// nil: a recipe image (no tag).
    public var tag: String?

    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard Names.isValid(parts[0], maxLength: 128) else { return nil }
        if parts.count == 2, !Names.isValid(parts[1], maxLength: 128) { return nil }
        name = parts[0]
        tag = parts.count == 2 ? parts[1] : nil
    }

    public init(name: String, tag: String?) {
        self.name = name
        self.tag = tag
    }

    public var description: String { tag.map { "\(name):\($0)" } ?? name }

    /// The node label an agent advertises for an image it holds, and that placement requires of a job's.
    public var label: String { "corral.image.\(description)" }

    public static let rule = "must be NAME or NAME:TAG, each 1-128 characters of A-Z a-z 0-9 . _ -"
}
