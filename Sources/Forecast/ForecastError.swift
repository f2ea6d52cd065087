/// Why a model could not be fitted or used, in words for an operator.
public enum ForecastError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooShort(String)
    case nonStationary(String)
    case notFinite(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .tooShort(let why), .nonStationary(let why), .notFinite(let why), .invalidInput(let why): why
        }
    }
}
