import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging
import Synchronization

/// Processing: the fan-out of chunks and the wait for every chunk's outcome.
extension BackfillJobRunner {
    /// Processing: sends every valid row, a chunk at a time, skipping chunks already applied. Chunks
    /// go in groups: the group's fingerprints are planned in the ledger first (``ChunkDigest``), so a
    /// processor finds every chunk it is sent planned.
    func fanOut(
        _ file: ValidatedFile, action: BackfillAction, chunkSize: Int, shared: RunState,
        logger: Logger
    ) async throws {
        let applied = try await environment.ledger.appliedChunkIndices(jobId)
        var rows: [BackfillRow] = []
        var chunkIndex = 0
        var sent = 0
        var group: [BackfillChunk] = []
        func sendGroup() async throws {
            try await sendPlanned(group, shared: shared)
            sent += group.count
            group.removeAll(keepingCapacity: true)
        }
        func add() async throws {
            defer {
                rows.removeAll(keepingCapacity: true)
                chunkIndex += 1
            }
            guard !applied.contains(chunkIndex) else { return }
            group.append(BackfillChunk(chunkIndex: chunkIndex, action: action.name, rows: rows))
            if group.count == Self.chunkGroup { try await sendGroup() }
        }
        try await file.forEachRow { _, _, verdict in
            guard case .success(let row) = verdict else { return }
            rows.append(row)
            if rows.count == chunkSize { try await add() }
        }
        if !rows.isEmpty { try await add() }
        try await sendGroup()
        logger.info("backfill \(jobId): \(sent) chunks sent (\(applied.count) were applied already)")
    }

    /// How many chunks go in one group: planned in one transaction, sent in one wait for the broker.
    static let chunkGroup = 64

    /// Plans the fingerprints of `group` in the ledger, then sends it; throws ``Held`` while the job is
    /// held (its chunks would not be applied: they are sent once it is resumed).
    /// With a rate limit, the chunks go one at a time, each when the rate allows (``pace(_:)``).
    func sendPlanned(_ group: [BackfillChunk], shared: RunState) async throws {
        guard !group.isEmpty else { return }
        try checkpoint(shared)
        if shared.withLock({ $0.hold != nil }) { throw Held() }
        guard shared.withLock({ $0.rate }) != nil else {
            try await environment.ledger.planChunks(jobId, group.map { ($0.chunkIndex, ChunkDigest.of($0)) })
            try await environment.messenger.sendChunks(group, of: jobId)
            return
        }
        for chunk in group {
            try await pace(shared)
            try await environment.ledger.planChunks(jobId, [(chunk.chunkIndex, ChunkDigest.of(chunk))])
            try await environment.messenger.sendChunks([chunk], of: jobId)
            let sent = (environment.clock.now(), chunk.rows.count)
            shared.withLock { $0.lastSent = sent }
        }
    }

    /// Waits until the job's rate allows its next chunk: the last chunk's rows over the rate since it
    /// was sent. Processors apply only what they are sent, so the rate holds however many run. The
    /// rate is read again on every step, so a change (`jobstream backfill rate`) takes effect at once.
    func pace(_ shared: RunState) async throws {
        while true {
            try checkpoint(shared)
            if shared.withLock({ $0.hold != nil }) { throw Held() }
            guard
                let (rate, last) = shared.withLock({ state in state.rate.flatMap { rate in state.lastSent.map { (rate, $0) } } })
            else { return }
            let ready = last.at + .seconds(Double(last.rows) / Double(max(rate, 1)))
            let now = environment.clock.now()
            if now >= ready { return }
            try await environment.clock.sleep(for: min(ready - now, .milliseconds(250)))
        }
    }

    /// How long no chunk may be applied before the chunks not applied are sent again.
    public static let stallAfter = Duration.seconds(120)

    /// Waits until processors applied `chunkCount` chunks (or the job is canceled). Records Processed
    /// is published by the keeper meanwhile. When no chunk is applied for ``stallAfter`` (a chunk
    /// message lost, or no processor running), `sendAgain` sends the chunks not applied once more;
    /// processors skip any applied meanwhile.
    func waitForChunks(
        _ chunkCount: Int, shared: RunState, logger: Logger,
        sendAgain: () async throws -> Void = {}
    ) async throws {
        var lastMoved = (environment.clock.now(), -1)
        while true {
            try checkpoint(shared)
            let done = try await environment.ledger.progress(jobId).chunks
            if done >= chunkCount { return }
            if try await followHold(shared, logger: logger, sendAgain: sendAgain) {
                lastMoved.0 = environment.clock.now()  // a paused job is not stalled
            } else if done != lastMoved.1 {
                lastMoved = (environment.clock.now(), done)
            } else if environment.clock.now() - lastMoved.0 >= Self.stallAfter {
                logger.warning(
                    "backfill \(jobId): no chunk applied for \(Self.stallAfter) (\(done) of \(chunkCount) done); sending the rest again"
                )
                try await unlessHeld(sendAgain)
                lastMoved.0 = environment.clock.now()
            }
            try await environment.clock.sleep(for: .milliseconds(250))
        }
    }

    /// Reads the job's holds once before its chunks go out, so that a job found Paused (taken over,
    /// or resumed by a restarted validator) sends nothing until resumed.
    func startProcessing(_ shared: RunState) async throws {
        let job = shared.withLock { $0.job }
        let hold = try await environment.log.hold(job)
        shared.withLock {
            $0.hold = hold
            $0.rate = job.rateLimit
            $0.processing = true
        }
    }

    /// Moves the job to Paused while a hold stands, and back to Processing once it is lifted — sending
    /// again the chunks not applied meanwhile. Returns whether the job is paused now.
    func followHold(_ shared: RunState, logger: Logger, sendAgain: () async throws -> Void) async throws -> Bool {
        let (hold, status) = shared.withLock { ($0.hold, $0.job.status) }
        switch (hold, status) {
        case (let reason?, .processing):
            try await transition(shared, to: .paused) {
                $0.pauseReason = reason
                $0.rowsPerSecond = nil
                $0.estimatedEnd = nil
            }
            shared.withLock { $0.pace.reset() }
            logger.notice("backfill \(jobId) is Paused: \(reason)")
            return true
        case (nil, .paused):
            try await transition(shared, to: .processing) { $0.pauseReason = nil }
            logger.notice("backfill \(jobId) resumed: sending the chunks not applied again")
            try await unlessHeld(sendAgain)
            return false
        case (.some, .paused):
            return true
        default:
            return false
        }
    }

    /// Runs `send`, stopping quietly when the job becomes held meanwhile (the rest goes on resume).
    func unlessHeld(_ send: () async throws -> Void) async throws {
        do {
            try await send()
        } catch is Held {
            return
        }
    }

    /// A file-less action is one chunk without rows; Records Processed is the records it changed.
    func runFileless(_ shared: RunState, action: BackfillAction, logger: Logger) async throws {
        try await startProcessing(shared)
        do {
            let chunk = BackfillChunk(chunkIndex: 0, action: action.name, rows: [])
            let send = {
                if try await environment.ledger.appliedChunkIndices(jobId).isEmpty {
                    try await sendPlanned([chunk], shared: shared)
                }
            }
            try await unlessHeld(send)
            try await waitForChunks(1, shared: shared, logger: logger, sendAgain: send)
        } catch is CanceledByUser {
            return try await finishFileless(shared, action: action, status: .canceled)
        }
        try await finishFileless(shared, action: action, status: .completed)
    }
}
