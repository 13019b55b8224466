/// Why a message could not be decoded. The description is meant for a person reading a
/// dead-letter header or a log line.
public enum MessageDecodingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The bytes are not a JSON object.
    case notJSON(String)
    /// The envelope lacks a field or has one of the wrong kind.
    case invalidEnvelope(String)
    /// The `type` is not one this build knows.
    case unknownType(String)
    /// The major version is newer than this build reads.
    case unsupportedVersion(type: MessageType, version: SchemaVersion, newestSupported: SchemaVersion)
    /// The payload does not match its type's schema.
    case invalidPayload(type: MessageType, detail: String)
    /// A valid message, but not of the type this reader expects.
    case unexpectedType(expected: MessageType, found: MessageType)
    /// The message is larger than the reader takes; it was not read.
    case tooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .notJSON(let detail):
            "not a JSON message: \(detail)"
        case .invalidEnvelope(let detail):
            "invalid envelope: \(detail)"
        case .unknownType(let type):
            "unknown message type \(Quoted(type)); known types: \(MessageType.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unsupportedVersion(let type, let version, let newest):
            "\(type.rawValue) version \(version) is newer than this build reads (up to \(newest.major).x); upgrade the consumer"
        case .invalidPayload(let type, let detail):
            "invalid \(type.rawValue) payload: \(detail)"
        case .unexpectedType(let expected, let found):
            "expected a \(expected.rawValue) message, found \(found.rawValue)"
        case .tooLarge(let bytes, let limit):
            "the message is \(bytes) bytes; at most \(limit) are read (--max-message-bytes)"
        }
    }

    /// Turns a `DecodingError` into a message that names the field at fault.
    static func describe(_ error: any Error, in type: MessageType?) -> MessageDecodingError {
        let detail: String
        var isSyntax = false
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            detail = "missing field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let expected, let context)?:
            detail = "field \"\(path(context.codingPath))\" should be \(describeType(expected))"
        case .valueNotFound(let expected, let context)?:
            detail = "field \"\(path(context.codingPath))\" is null; it should be \(describeType(expected))"
        case .dataCorrupted(let context)?:
            isSyntax = context.codingPath.isEmpty
            let underlying = (context.underlyingError as? any CustomStringConvertible)?.description
            detail =
                context.codingPath.isEmpty
                ? (underlying ?? context.debugDescription)
                : "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        default:
            detail = "\(error)"
        }
        if isSyntax { return .notJSON(detail) }
        if let type { return .invalidPayload(type: type, detail: detail) }
        return .invalidEnvelope(detail)
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            .joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func describeType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}
