import Foundation
import Synchronization

/// A thread that serves a producer's queued callbacks (delivery reports, logs) until stopped.
/// librdkafka's poll blocks, so it runs on its own thread rather than Swift's cooperative pool.
final class RDKafkaPoller: Sendable {
    private final class Flags: Sendable {
        let stopping = Atomic<Bool>(false)
        let finished: Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])> = Mutex((false, []))
    }

    private let flags = Flags()

    init(client: RDKafkaClient, name: String) {
        let flags = self.flags
        let thread = Thread {
            while !flags.stopping.load(ordering: .relaxed) {
                client.poll(timeoutMilliseconds: 50)
            }
            client.poll(timeoutMilliseconds: 0)
            let waiters = flags.finished.withLock { state in
                state.done = true
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to stop without waiting for it.
    func requestStop() {
        flags.stopping.store(true, ordering: .relaxed)
    }

    /// Stops the thread and waits until it has left its loop. Idempotent.
    func stop() async {
        requestStop()
        await withCheckedContinuation { continuation in
            let done = flags.finished.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
