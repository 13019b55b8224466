import Dispatch

/// Runs `body`, a call that blocks (a librdkafka poll, flush, commit or admin request), on `queue`
/// instead of Swift's cooperative pool, whose few threads every task needs; and waits for it.
/// The one place the Kafka layer leaves the pool.
func blocking<T: Sendable>(
    on queue: DispatchQueue = .global(),
    _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        queue.async { continuation.resume(with: Result { try body() }) }
    }
}

/// ``blocking(on:_:)`` for a call that cannot fail.
func blocking<T: Sendable>(on queue: DispatchQueue = .global(), _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        queue.async { continuation.resume(returning: body()) }
    }
}
