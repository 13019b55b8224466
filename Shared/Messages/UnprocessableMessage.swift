/// Thrown by a handler for a message that can never be handled (it is well-formed but makes no
/// sense, e.g. refers to something that cannot exist). The message goes to the dead-letter topic.
public struct UnprocessableMessage: Error, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
