import Foundation

/// Where the database is: an SQLite file (the default) or a PostgreSQL server.
///
/// Parsed from `--store` / `$JOBSTREAM_STORE`: a `postgres://user:password@host:port/database` URL, or
/// an SQLite file path (optionally written `sqlite:PATH`).
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The SQLite file used when nothing else is given, under the project-local data folder.
    public static let defaultSQLitePath = ".local/data/jobstream.sqlite"

    public init(parsing text: String) throws(StoreError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            guard let url = URL(string: trimmed), url.host != nil, url.user != nil, url.port.map({ $0 > 0 }) ?? true else {
                throw StoreError.badLocation(
                    "\"\(Self.withoutPassword(text))\" is not a PostgreSQL URL of the form postgres://user[:password]@host[:port]/database"
                )
            }
            self = .postgres(url: trimmed)
            return
        }
        let path = trimmed.hasPrefix("sqlite:") ? String(trimmed.dropFirst("sqlite:".count)) : trimmed
        guard !path.isEmpty else {
            throw StoreError.badLocation("the store location is empty; give an SQLite file path or a postgres:// URL")
        }
        guard !path.contains("://") else {
            throw StoreError.badLocation(
                "\"\(Self.withoutPassword(text))\": only postgres:// URLs and SQLite file paths are supported")
        }
        self = .sqlite(path: path)
    }

    /// `text` with any password between `scheme://user:` and `@` replaced by `***`, for an error about
    /// a location that did not parse (so it cannot be taken apart as a URL).
    public static func withoutPassword(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@"),
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }

    /// The location without a password, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://…" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://…"
        }
    }
}

/// A store that could not be opened or used, with what went wrong in words.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case badLocation(String)
    case unreachable(String)
    case notFound(String)
    case conflict(String)
    /// A stored value this build cannot read (written by something else, or damaged).
    case corrupt(String)

    public var description: String {
        switch self {
        case .badLocation(let text), .unreachable(let text), .notFound(let text), .conflict(let text), .corrupt(let text): text
        }
    }
}
