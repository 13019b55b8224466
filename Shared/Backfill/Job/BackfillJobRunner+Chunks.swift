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

    /// Plans the fingerprints of `group` in the ledger, then sends it.
    func sendPlanned(_ group: [BackfillChunk], shared: RunState) async throws {
        guard !group.isEmpty else { return }
        try checkpoint(shared)
        try await environment.ledger.planChunks(jobId, group.map { ($0.chunkIndex, ChunkDigest.of($0)) })
        try await environment.messenger.sendChunks(group, of: jobId)
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
            if done != lastMoved.1 {
                lastMoved = (environment.clock.now(), done)
            } else if environment.clock.now() - lastMoved.0 >= Self.stallAfter {
                logger.warning(
                    "backfill \(jobId): no chunk applied for \(Self.stallAfter) (\(done) of \(chunkCount) done); sending the rest again"
                )
                try await sendAgain()
                lastMoved.0 = environment.clock.now()
            }
            try await environment.clock.sleep(for: .milliseconds(250))
        }
    }

    /// A file-less action is one chunk without rows; Records Processed is the records it changed.
    func runFileless(_ shared: RunState, action: BackfillAction, logger: Logger) async throws {
        shared.withLock { $0.processing = true }
        do {
            if try await environment.ledger.appliedChunkIndices(jobId).isEmpty {
                try await sendPlanned([BackfillChunk(chunkIndex: 0, action: action.name, rows: [])], shared: shared)
            }
            try await waitForChunks(1, shared: shared, logger: logger)
        } catch is CanceledByUser {
            return try await finishCounting(shared, status: .canceled)
        }
        try await finishCounting(shared, status: .completed)
    }
}
