import Foundation
import Logging
import Synchronization

/// Writes each log record as one JSON object on one line of standard error, for log collectors:
/// `{"time":…,"level":…,"label":…,"message":…,"source":…, …metadata}`. Metadata keys keep their
/// names (`job.id`, `kafka.topic`, `kafka.partition`, `kafka.offset`), so collectors can index them.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [:]
        let merged = metadata.merging(metadataProvider?.get() ?? [:]) { $1 }.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged {
            fields[key] = Self.json(value)
        }
        fields["time"] = Self.timestamp(Date())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        fields["source"] = event.source
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return
        }
        write(String(decoding: data, as: UTF8.self))
    }

    /// One line to standard error, written whole: lines from different threads never interleave.
    @Sendable public static func writeToStandardError(_ line: String) {
        let data = Data((line + "\n").utf8)
        standardErrorLock.withLock { _ in FileHandle.standardError.write(data) }
    }

    private static let standardErrorLock = Mutex(())

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let entries): entries.mapValues(json)
        }
    }

    /// RFC 3339 in UTC with milliseconds, as collectors parse it.
    private static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
                .timeSeparator(.colon).timeZone(separator: .omitted))
    }
}
