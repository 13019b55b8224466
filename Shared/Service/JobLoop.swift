import ServiceLifecycle

/// A job library's loop (a supervisor's `run()`: takeovers, sweeps) as a service of the stage: it
/// runs until graceful shutdown, which cancels it, and the loop then stops its jobs and lets go of
/// their claims before the service ends.
public struct JobLoop: Service {
    let body: @Sendable () async -> Void

    public init(run body: @escaping @Sendable () async -> Void) {
        self.body = body
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}
