/// A piece of HTML. Building one by interpolation escapes every interpolated `String` (and anything
/// else described as text), so a file name, an error message or a CSV cell from a user can only ever
/// show as text; only another `HTML` value is inserted as markup.
///
/// ```swift
/// let row: HTML = "<td>\(job.uploadedFile)</td>"   // "<script>" arrives as "&lt;script&gt;"
/// ```
public struct HTML: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The markup, ready to send.
    public private(set) var rendered: String

    /// Markup written by the dashboard itself, inserted as is.
    public init(trusted markup: String) { rendered = markup }

    public init(stringLiteral value: String) { rendered = value }

    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.rendered }

    public var description: String { rendered }

    /// Joins pieces of HTML without anything between them.
    public static func joined(_ pieces: some Sequence<HTML>) -> HTML {
        HTML(trusted: pieces.map(\.rendered).joined())
    }

    /// Text, escaped for an element's content or a quoted attribute value.
    public static func escaping(_ text: String) -> String {
        // Most values (ids, dates, counts, names) hold nothing to escape.
        guard
            text.utf8.contains(where: {
                $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">")
                    || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'")
            })
        else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Collects literal markup as is and interpolated values escaped.
    public struct Interpolation: StringInterpolationProtocol {
        var rendered = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            rendered.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) { rendered += literal }

        public mutating func appendInterpolation(_ html: HTML) { rendered += html.rendered }

        public mutating func appendInterpolation(_ pieces: [HTML]) { rendered += HTML.joined(pieces).rendered }

        public mutating func appendInterpolation(_ text: String) { rendered += HTML.escaping(text) }

        public mutating func appendInterpolation(_ text: String?) { rendered += HTML.escaping(text ?? "") }

        public mutating func appendInterpolation<Value: CustomStringConvertible>(_ value: Value) {
            rendered += HTML.escaping(value.description)
        }
    }
}
