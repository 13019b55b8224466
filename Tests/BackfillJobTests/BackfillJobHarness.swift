import Foundation
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import Logging
import SQLKit
import Synchronization
import Testing

/// Records what a backfill job sends instead of sending it. A chunk is applied to the store at once
/// (as a processor would) while `applies` is on; `onChunks` runs before the chunks are recorded, so
/// a test can act at the moment a fan-out happens.
final class RecordingBackfillMessenger: BackfillMessenger {
    struct State {
        var chunks: [BackfillChunk] = []
        var events: [BackfillStatusEvent] = []
        var applies = true
        var failSending: (any Error)?
    }

    let state = Mutex(State())
    let applier: ChunkApplier
    let onChunks: @Sendable ([BackfillChunk]) async throws -> Void
    let onAnnounce: @Sendable (BackfillStatusEvent) async -> Void

    init(
        store: Store, onChunks: @escaping @Sendable ([BackfillChunk]) async throws -> Void = { _ in },
        onAnnounce: @escaping @Sendable (BackfillStatusEvent) async -> Void = { _ in }
    ) {
        applier = ChunkApplier(store: store)
        self.onChunks = onChunks
        self.onAnnounce = onAnnounce
    }

    func sendChunks(_ chunks: [BackfillChunk], of jobId: String) async throws {
        if let failure = state.withLock({ $0.failSending }) { throw failure }
        try await onChunks(chunks)
        let applies = state.withLock { state in
            state.chunks += chunks
            return state.applies
        }
        if applies {
            for chunk in chunks { _ = try await applier.apply(chunk, jobId: jobId) }
        }
    }

    func announce(_ event: BackfillStatusEvent, of jobId: String) async throws {
        await onAnnounce(event)
        state.withLock { $0.events.append(event) }
    }

    var statuses: [BackfillStatus] { state.withLock { $0.events.map(\.status) } }
    var chunks: [BackfillChunk] { state.withLock { $0.chunks } }
    var events: [BackfillStatusEvent] { state.withLock { $0.events } }
}

/// One validator's job logic on a temporary SQLite store (or the PostgreSQL database of the suffix
/// `database`, emptied; one per suite, as suites run at once) with seeded charges, a file store, a recording messenger and a fast clock:
/// no broker, and a job runs in milliseconds.
struct BackfillJobHarness {
    let store: Store
    let folder: TemporaryFolder
    let files: FileStore
    let messenger: RecordingBackfillMessenger
    let environment: BackfillJobEnvironment
    var log: BackfillJobLog { environment.log }

    static let instance = "validator-a"

    /// The tables a PostgreSQL harness empties first.
    static let tables = [
        "rate_plan_charges", "invoice_items", "backfill_jobs", "backfill_chunks", "backfill_chunk_plan", "backfill_row_errors",
        "backfill_before_images", "backfill_brakes", "backfill_preview_rows",
    ]

    /// Runs `body` with a harness whose charges RPC-00000001…RPC-00000020 exist.
    static func with(
        flavor: SQLFlavor = .sqlite, database: String = "_undo", chunkSize: Int = 2, requireApproval: Bool = false,
        objects: InMemoryObjectStorage? = nil,
        onChunks: @escaping @Sendable (_ harness: BackfillJobHarness, [BackfillChunk]) async throws -> Void = { _, _ in },
        onAnnounce: @escaping @Sendable (_ harness: BackfillJobHarness, BackfillStatusEvent) async -> Void = { _, _ in },
        _ body: (BackfillJobHarness) async throws -> Void
    ) async throws {
        let (store, folder) = try await TestStores.open(
            flavor, database: database, emptying: flavor == .postgres ? tables : [])
        defer { folder.remove() }
        try await StoreSeeder(charges: 20, invoiceItems: 0).seed(store)
        let files = FileStore(root: folder.url.appendingPathComponent("files").path, objects: objects)
        let late = Mutex<BackfillJobHarness?>(nil)
        let messenger = RecordingBackfillMessenger(
            store: store,
            onChunks: { chunks in
                if let harness = late.withLock({ $0 }) { try await onChunks(harness, chunks) }
            },
            onAnnounce: { event in
                if let harness = late.withLock({ $0 }) { await onAnnounce(harness, event) }
            })
        let environment = BackfillJobEnvironment(
            instance: instance, store: store, files: files, messenger: messenger, logger: Logger(label: "test"),
            chunkSize: chunkSize, lease: Lease(duration: .seconds(15), maxTakeovers: 3), clock: FastJobClock(),
            requireApproval: requireApproval)
        let harness = BackfillJobHarness(
            store: store, folder: folder, files: files, messenger: messenger, environment: environment)
        late.withLock { $0 = harness }
        do {
            try await body(harness)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Puts `csv` in the file store and returns the request that names it.
    func request(csv: String, action: String = "update-rate-plan-charge", name: String = "charges.csv") throws -> BackfillRequest
    {
        let (relative, url) = try files.place(["uploads", UUID().uuidString, name])
        if let objects = files.objects as? InMemoryObjectStorage {
            objects.put(relative, Array(csv.utf8))
        } else {
            try Data(csv.utf8).write(to: url)
        }
        return BackfillRequest(action: action, file: FileReference(path: relative, name: name), generatedBy: "test")
    }

    /// Logs a job as a validator that accepted it would (Accepted, claimed by `owner`), without running it.
    func insert(
        _ request: BackfillRequest, id: String = UUID().uuidString, status: BackfillStatus = .accepted,
        owner: String = instance
    ) async throws -> String {
        var previewed: BackfillJobRecord?
        if let preview = request.applies { previewed = try await log.job(preview) }
        var job = BackfillJobRecord.accepted(
            request, jobId: id, submittedAt: environment.clock.epochMilliseconds(), chunkSize: environment.chunkSize,
            owner: owner, requireApproval: environment.requireApproval, previewed: previewed)
        job.status = status
        let inserted = try await log.insert(job, leaseMilliseconds: environment.lease.milliseconds)
        #expect(inserted, "the job was not inserted")
        return id
    }

    /// Runs the job to its end (or until it stops) as this validator. A runner still going after a
    /// minute is a failure (recorded, and the runner cancelled), never a hang.
    func run(_ jobId: String) async throws {
        let runner = Task { [environment] in await BackfillJobRunner(jobId: jobId, environment: environment).run() }
        try await ended(runner, "the runner of backfill \(jobId) to stop")
    }

    /// Lets the job's claim lapse and has `owner` take it over, as the orphan loop of another
    /// validator would once the lease ran out.
    /// Another validator takes the job over, as the orphan loop's claim does (a new owner, the next
    /// epoch), in one statement: lapsing the lease first and claiming it after would race the owner's
    /// keeper, which can renew the lease in between (under the fast clock it renews all the time).
    func takeOver(_ jobId: String, by owner: String) async throws {
        let until = Date().epochMilliseconds + 3_600_000
        try await store.withDatabase {
            try await $0.raw(
                """
                UPDATE backfill_jobs SET owner = \(bind: owner), epoch = epoch + 1, lease_until = \(bind: until),
                    takeovers = takeovers + 1
                WHERE job_id = \(bind: jobId)
                """
            ).run()
        }
    }

    func job(_ jobId: String) async throws -> BackfillJobRecord? {
        try await log.job(jobId)
    }
}
