import ArgumentParser
import Foundation
import Synchronization

/// Where an option's value comes from when its flag is not given: first the environment
/// (`JOBSTREAM_` and the flag's name in upper case, `-` as `_`: `--metrics-port` is
/// `JOBSTREAM_METRICS_PORT`), then the configuration file (`--config FILE` or `$JOBSTREAM_CONFIG`,
/// lines of `metrics-port = 9464`), then the built-in default. A flag wins over both.
///
/// Options read their defaults through ``value(_:default:)``, so one rule serves every service and
/// the README's table. librdkafka properties follow the same order: `kafka.NAME = value` in the file,
/// `JOBSTREAM_KAFKA_NAME` (dots as `_`) in the environment, `-X NAME=value` on the command line.
/// Problems (an unreadable file, a value that does not parse, an unknown key) are reported by
/// ``validate()``, which ``ServiceOptions`` calls once every option has been read.
public enum Settings {
    /// Every key a jobstream executable reads, for checking configuration files.
    public static let knownKeys: Set<String> = [
        "brokers", "group", "client-id", "log-level", "log-format", "metrics-host", "metrics-port",
        "statistics-interval", "store", "file-store", "chunk-size", "lease", "slice-size", "error-after",
        "retention-days", "retention-interval", "batch-size", "host", "port", "max-chunks-per-second",
        "max-slices-per-second", "max-message-bytes", "max-field-bytes", "max-fields", "max-record-bytes",
        "max-file-bytes", "max-unpacked-bytes", "max-zip-ratio", "unpack-timeout", "max-takeovers", "orphan-file-hours",
        "require-approval", "keep-before-images-days", "max-upload-bytes", "webhook-retry-hours",
    ]

    /// The environment variable for `key`.
    public static func environmentName(for key: String) -> String {
        "JOBSTREAM_" + key.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
    }

    /// The value of `key` from the environment or the file, or `fallback`.
    public static func value<Value: ExpressibleByArgument>(_ key: String, default fallback: Value) -> Value {
        value(key) ?? fallback
    }

    /// The value of `key` from the environment or the file, or nil.
    public static func value<Value: ExpressibleByArgument>(_ key: String) -> Value? {
        sources.value(key)
    }

    /// librdkafka properties from the file's `kafka.*` keys and `JOBSTREAM_KAFKA_*` variables.
    public static var kafkaProperties: [String: String] { sources.kafkaProperties }

    /// Throws a `ValidationError` naming every problem found in the environment or the file.
    public static func validate() throws {
        let problems = sources.problems
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// This process's sources, read once: the environment and the file named by `--config` or
    /// `$JOBSTREAM_CONFIG` (found in the raw arguments, since defaults are read before parsing ends).
    static let sources = SettingsSources(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
}

/// The environment and configuration file of one process, and the problems found reading them.
final class SettingsSources: Sendable {
    private let environment: [String: String]
    private let file: ConfigurationFile?
    private let loadProblem: String?
    private let valueProblems = Mutex<[String]>([])

    init(arguments: [String], environment: [String: String]) {
        self.environment = environment
        let path = Self.configPath(in: arguments) ?? environment["JOBSTREAM_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            file = try path.map(ConfigurationFile.init(path:))
            loadProblem = nil
        } catch {
            file = nil
            loadProblem = "\(error)"
        }
    }

    /// The value after `--config` (or in `--config=…`) in the raw arguments.
    static func configPath(in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }

    func value<Value: ExpressibleByArgument>(_ key: String) -> Value? {
        let name = Settings.environmentName(for: key)
        let found: (text: String, origin: String)?
        if let text = environment[name] {
            found = (text, "environment variable \(name)")
        } else if key == "brokers", let text = environment["KAFKA_BROKERS"] {
            found = (text, "environment variable KAFKA_BROKERS")
        } else if let file, let entry = file.entries[key] {
            found = (entry.value, "\(file.path) line \(entry.line)")
        } else {
            found = nil
        }
        guard let found else { return nil }
        guard let value = Value(argument: found.text) else {
            valueProblems.withLock { $0.append("\(found.origin): \"\(found.text)\" is not a valid value for --\(key)") }
            return nil
        }
        return value
    }

    var kafkaProperties: [String: String] {
        var properties: [String: String] = [:]
        for (key, entry) in file?.entries ?? [:] where key.hasPrefix("kafka.") {
            properties[String(key.dropFirst("kafka.".count))] = entry.value
        }
        for (name, value) in environment where name.hasPrefix("JOBSTREAM_KAFKA_") && name.count > "JOBSTREAM_KAFKA_".count {
            properties[name.dropFirst("JOBSTREAM_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")] = value
        }
        return properties
    }

    var problems: [String] {
        var problems = loadProblem.map { [$0] } ?? []
        if let file {
            for (key, entry) in file.entries.sorted(by: { $0.value.line < $1.value.line })
            where !Settings.knownKeys.contains(key) && !key.hasPrefix("kafka.") {
                problems.append(
                    "\(file.path) line \(entry.line): unknown setting \"\(key)\" (see the settings table in the README)")
            }
        }
        return problems + valueProblems.withLock { $0 }
    }
}

/// A configuration file: `key = value` lines; blank lines and lines starting with `#` are skipped;
/// a value may be wrapped in double quotes.
struct ConfigurationFile: Sendable {
    let path: String
    let entries: [String: (value: String, line: Int)]

    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("configuration file \(path) cannot be read: \(error.localizedDescription)")
        }
        try self.init(path: path, text: text)
    }

    init(path: String, text: String) throws {
        self.path = path
        var entries: [String: (value: String, line: Int)] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ValidationError("\(path) line \(number): expected key = value, found \"\(line)\"")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
                throw ValidationError("\(path) line \(number): \"\(key)\" is not a setting name")
            }
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            if let earlier = entries[key] {
                throw ValidationError("\(path) line \(number): \(key) is already set on line \(earlier.line)")
            }
            entries[key] = (value, number)
        }
        self.entries = entries
    }
}
