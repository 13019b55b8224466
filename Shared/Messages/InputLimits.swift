/// The bounds every input to jobstream is held to. Messages and files come from anyone who may publish
/// to a topic or upload a file, so nothing is read, kept or quoted without one. The README's "Limits
/// and failure behaviour" table lists them; those an operator may need to raise are settings
/// (``FileLimits`` for files; `--max-message-bytes` for messages).
public enum InputLimits {
    /// The most UTF-8 bytes of a backfill or migration id (the envelope's `jobId`).
    public static let jobIdBytes = 100
    /// The most UTF-8 bytes of a sync session id, an object type or an object id (database keys).
    public static let syncIdentifierBytes = 200
    /// The most UTF-8 bytes of a person's or a script's name (`generatedBy`, `requestedBy`).
    public static let nameBytes = 200
    /// The most UTF-8 bytes of an action name.
    public static let actionBytes = 100
    /// The most UTF-8 bytes of a file's path in the file store, and of its name.
    public static let filePathBytes = 1024
    public static let fileNameBytes = 255
    /// The most UTF-8 bytes of a free text kept from a message (a sync error message or reason);
    /// longer texts are cut, saying so, rather than refused.
    public static let messageTextBytes = 4096
    /// The most bytes of a message a service takes from a topic, unless `--max-message-bytes` says otherwise.
    public static let defaultMessageBytes = 1_048_576
    /// The most bytes of a dead letter's reason header.
    public static let reasonBytes = 1024
    /// How many characters of a value an error message quotes.
    public static let quotedCharacters = 60
}

/// The rule for backfill and migration ids: 1 to ``InputLimits/jobIdBytes`` bytes of ASCII letters,
/// digits, `.`, `_`, `-` and `:`, starting with a letter or a digit. An id is used in the names of
/// a job's folders in the file store, so the rule leaves no way to write `/`, `..` or a control character.
public enum JobIdRule {
    /// The rule as a regular expression, for the JSON Schemas and the README.
    public static let pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"

    /// Why `id` is not a valid job id, or nil.
    public static func problem(_ id: String) -> String? {
        let bytes = id.utf8
        guard let first = bytes.first else { return "the job id is empty" }
        guard bytes.count <= InputLimits.jobIdBytes else {
            return "the job id is \(bytes.count) bytes long; at most \(InputLimits.jobIdBytes)"
        }
        guard isAlphanumeric(first),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D || $0 == 0x3A })
        else {
            return
                "the job id \(Quoted(id)) may hold only letters, digits, \".\", \"_\", \"-\" and \":\", starting with a letter or a digit"
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}

/// Bounds on a text field of a message: its UTF-8 size, and no control characters where it is a key or a name.
public enum TextRule {
    /// Why `value` (the field `name`) breaks its bounds, or nil.
    ///
    /// `name` is only worked out when there is a problem to name: a processor checks every value of every
    /// chunk, and would otherwise write out a name (`row 17 Booking Date`) for each.
    public static func problem(
        _ value: String, named name: @autoclosure () -> String, maxBytes: Int, allowEmpty: Bool = false,
        allowLineBreaks: Bool = false
    ) -> String? {
        let size = value.utf8.count
        if !allowEmpty && value.trimmingSpaces.isEmpty { return "\(name()) is empty" }
        if size > maxBytes { return "\(name()) is \(size) bytes long; at most \(maxBytes)" }
        let control = value.utf8.contains { byte in
            (byte < 0x20 && !(allowLineBreaks && (byte == 0x0A || byte == 0x0D || byte == 0x09))) || byte == 0x7F
        }
        if control { return "\(name()) \(Quoted(value)) holds a control character" }
        return nil
    }

    /// `value` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), saying how long it was.
    public static func cut(_ value: String, toBytes maxBytes: Int) -> String {
        guard value.utf8.count > maxBytes else { return value }
        let marker = " … (cut; \(value.utf8.count) bytes in all)"
        var kept = ""
        kept.reserveCapacity(maxBytes)
        var size = 0
        for character in value {
            let length = character.utf8.count
            if size + length > max(0, maxBytes - marker.utf8.count) { break }
            kept.append(character)
            size += length
        }
        return kept + marker
    }
}

/// A value quoted in an error message: at most ``InputLimits/quotedCharacters`` characters of it, with
/// its length when it was cut, and control characters shown as escapes — so an error never repeats a
/// megabyte of a hostile field, nor breaks a log line.
public struct Quoted: CustomStringConvertible, Sendable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String {
        var shown = ""
        var characters = 0
        var cut = false
        for scalar in value.unicodeScalars {
            if characters == InputLimits.quotedCharacters {
                cut = true
                break
            }
            switch scalar {
            case "\"": shown += "\\\""
            case "\\": shown += "\\\\"
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.generalCategory == .format {
                    shown += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    shown.unicodeScalars.append(scalar)
                }
            }
            characters += 1
        }
        guard cut else { return "\"\(shown)\"" }
        return "\"\(shown)…\" (\(value.utf8.count) bytes)"
    }
}
