import Logging
import NIOCore
import SQLKit
import Synchronization

/// A PostgreSQL connection's statements, each of which is certain to end.
///
/// PostgresNIO 1.33 can leave a statement waiting forever when the server ends the session while
/// the statement is in flight (a terminated backend, a server shut down mid-query; reproduced by
/// `StoreConnectionTests`): the channel closes, the statement's future never completes, and with one
/// connection per process the whole process stops. So each statement here also ends, with
/// ``StoreError/unreachable(_:)`` (an outage: retried like any other), when
/// - the connection closes and the statement has not ended 100 ms later (the driver's own error,
///   carrying the server's reason, is preferred when it comes), or
/// - the server has not answered within `deadline` — then the connection is closed too, so the
///   server rolls the transaction back and the next statement connects again.
final class AnsweringDatabase: SQLDatabase {
    let base: any SQLDatabase
    let deadline: TimeAmount
    private let close: @Sendable () -> Void
    /// The statements not ended yet, failed together when the connection closes.
    private let pending = Mutex<(next: UInt64, promises: [UInt64: EventLoopPromise<Void>], closed: Bool)>((0, [:], false))

    /// Watches `base`, whose channel's closing completes `closed`; `close` closes the connection.
    init(_ base: any SQLDatabase, closed: EventLoopFuture<Void>, deadline: TimeAmount, close: @escaping @Sendable () -> Void) {
        self.base = base
        self.deadline = deadline
        self.close = close
        closed.whenComplete { [weak self, eventLoop = base.eventLoop] _ in
            eventLoop.scheduleTask(in: .milliseconds(100)) { [weak self] in
                guard let self else { return }
                let waiting = self.pending.withLock { state in
                    state.closed = true
                    defer { state.promises = [:] }
                    return Array(state.promises.values)
                }
                // Ignored by any that ended meanwhile: a promise completes once.
                for promise in waiting {
                    promise.fail(StoreError.unreachable("the PostgreSQL store's connection closed during a statement"))
                }
            }
        }
    }

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let ended = eventLoop.makePromise(of: Void.self)
        let id: UInt64? = pending.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            state.promises[state.next] = ended
            return state.next
        }
        guard let id else {
            ended.fail(StoreError.unreachable("the PostgreSQL store's connection is closed"))
            return ended.futureResult
        }
        base.execute(sql: query, onRow).cascade(to: ended)
        let seconds = deadline.nanoseconds / 1_000_000_000
        let unanswered = eventLoop.scheduleTask(in: deadline) { [close] in
            ended.fail(
                StoreError.unreachable("the PostgreSQL store did not answer within \(seconds) s; its connection was closed"))
            close()
        }
        ended.futureResult.whenComplete { _ in
            unanswered.cancel()
            self.pending.withLock { _ = $0.promises.removeValue(forKey: id) }
        }
        return ended.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await execute(sql: query, onRow).get()
    }
}
