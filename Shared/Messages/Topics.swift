/// Every topic jobstream uses, with its partitions, configs and the message types it carries.
public struct TopicDefinition: Sendable, Hashable {
    public let name: String
    public let partitions: Int32
    /// Topic-level configs, e.g. `cleanup.policy=compact`.
    public let configs: [String: String]
    public let messageTypes: [MessageType]
    /// What the topic is for, for `jobstream topics list` and the README.
    public let purpose: String
}

/// The topics, in one place. Names are `jobstream.<kind>.<what>`.
public enum Topics {
    private static let day = 86_400_000
    /// Work and requests: kept a week, long enough to replay a failed stage.
    private static let work = ["cleanup.policy": "delete", "retention.ms": String(7 * day)]
    /// Status topics: the latest event per job stays (compaction), so a new dashboard can catch up.
    private static let latestPerJob = ["cleanup.policy": "compact", "min.compaction.lag.ms": "60000"]

    public static let backfillRequests = "jobstream.backfill.requests"
    public static let backfillChunks = "jobstream.backfill.chunks"
    public static let backfillStatus = "jobstream.backfill.status"
    public static let migrationRequests = "jobstream.migration.requests"
    public static let migrationSlices = "jobstream.migration.slices"
    public static let migrationStatus = "jobstream.migration.status"
    public static let syncEvents = "jobstream.sync.events"
    public static let syncHistory = "jobstream.sync.history"
    public static let syncRetries = "jobstream.sync.retries"
    /// Messages no service could decode or handle, with headers saying why and where from.
    public static let deadLetters = "jobstream.dead-letters"

    /// Every topic definition, for provisioning.
    public static let all: [TopicDefinition] = [
        TopicDefinition(
            name: backfillRequests, partitions: 6, configs: work, messageTypes: [.backfillRequest],
            purpose: "backfill requests, for the validators"),
        TopicDefinition(
            name: backfillChunks, partitions: 12, configs: work, messageTypes: [.backfillChunk],
            purpose: "validated rows, for the processors"),
        TopicDefinition(
            name: backfillStatus, partitions: 6, configs: latestPerJob, messageTypes: [.backfillStatus],
            purpose: "every change of every backfill job"),
        TopicDefinition(
            name: migrationRequests, partitions: 3, configs: work, messageTypes: [.migrationRequest],
            purpose: "migration requests"),
        TopicDefinition(
            name: migrationSlices, partitions: 12, configs: work, messageTypes: [.migrationSlice],
            purpose: "slices of a migration, for any runner"),
        TopicDefinition(
            name: migrationStatus, partitions: 3, configs: latestPerJob, messageTypes: [.migrationStatus],
            purpose: "every change and progress step of every migration"),
        TopicDefinition(
            name: syncEvents, partitions: 6, configs: work,
            messageTypes: [.syncSessionStarted, .syncRecordOutcome, .syncSessionFinished, .syncSessionFailed],
            purpose: "what sync engines report, keyed by session"),
        TopicDefinition(
            name: syncHistory, partitions: 6, configs: latestPerJob, messageTypes: [.syncHistory],
            purpose: "the summary of every sync session"),
        TopicDefinition(
            name: syncRetries, partitions: 6, configs: work, messageTypes: [.syncRetry],
            purpose: "records and sessions for the next sync session to retry"),
        TopicDefinition(
            name: deadLetters, partitions: 3, configs: ["cleanup.policy": "delete", "retention.ms": String(30 * day)],
            messageTypes: [], purpose: "messages that could not be decoded or handled"),
    ]

    /// The definition of a topic by name.
    public static func definition(named name: String) -> TopicDefinition? {
        all.first { $0.name == name }
    }
}
