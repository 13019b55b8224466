import PostgresKit
import SQLiteKit
import Synchronization

/// Tells a database failure that will heal (the server is away, a lock is contended, a connection was
/// closed) from one that will fail the same way every time (a value the database refuses, a
/// constraint, a statement too large). Message loops retry the first without limit and dead-letter
/// a message whose handling keeps failing with the second.
public enum StoreFailure {
    /// What a failure says about the database, when it says anything.
    public enum Kind: Sendable, Equatable {
        /// The database is away, busy or restarting: the same work may succeed later.
        case outage
        /// The database refused this work itself: trying it again fails again.
        case refused
    }

    /// The kind of `error`, or nil when it did not come from the database.
    public static func kind(of error: any Error) -> Kind? {
        if let error = error as? StoreError {
            if case .unreachable = error { return .outage }
            return .refused
        }
        if let error = error as? SQLiteError {
            switch error.reason {
            case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .lockedBySharedCache, .ioError, .full,
                .cantOpen, .noMemory, .interrupt:
                return .outage
            default:
                return .refused
            }
        }
        if let error = error as? PSQLError {
            guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return .outage }
            return postgresKind(sqlState: state)
        }
        return nil
    }

    /// Whether `error` means the database session is over: the connection was closed or broke, the
    /// server ended the session (a FATAL error), or a statement went unanswered. A PostgreSQL store
    /// then connects again rather than send the next statement on it.
    public static func endsSession(_ error: any Error) -> Bool {
        if let error = error as? StoreError, case .unreachable = error { return true }
        guard let error = error as? PSQLError else { return false }
        guard error.code == .server else { return true }
        let severity = error.serverInfo?[.severity]
        return severity == "FATAL" || severity == "PANIC"
    }

    /// `error` in words: a PostgreSQL server's own message and SQLSTATE (PostgresNIO describes its
    /// errors only generically, so as not to leak a query's values into logs); anything else as it
    /// describes itself.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                return "PostgreSQL: \(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
            }
            return "PostgreSQL: \(error.code)"
        }
        return "\(error)"
    }

    /// SQLSTATE classes of a server that is away or overloaded, or of work that lost a race
    /// (serialization failure, deadlock, lock not available): all worth another try.
    static func postgresKind(sqlState: String) -> Kind {
        let transientClasses: Set<Substring> = ["08", "40", "53", "57", "58"]
        if transientClasses.contains(sqlState.prefix(2)) || sqlState == "55P03" || sqlState == "55006" { return .outage }
        return .refused
    }
}

extension Store {
    /// Whether `error` is an outage of the surroundings rather than a fault of the work: a database
    /// outage by its kind; for an error that is not the database's, whether the database fails to
    /// answer a trivial query within 5 s right now.
    public func isOutage(_ error: any Error) async -> Bool {
        switch StoreFailure.kind(of: error) {
        case .outage?: return true
        case .refused?: return false
        case nil: return !(await answers(within: .seconds(5)))
        }
    }

    /// Whether the database answers `SELECT 1` within `limit`. The query runs in a task of its own, so
    /// a query stuck behind a transaction (or a server that never answers) cannot hold the caller.
    public func answers(within limit: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = FirstAnswer(continuation)
            Task { answer.give((try? await self.ping()) != nil) }
            Task {
                try? await Task.sleep(for: limit)
                answer.give(false)
            }
        }
    }
}

/// Resumes a continuation with the first value given; later ones are dropped.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ value: Bool) {
        continuation.withLock { waiting in
            defer { waiting = nil }
            return waiting
        }?.resume(returning: value)
    }
}
