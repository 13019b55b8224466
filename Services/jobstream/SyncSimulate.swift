import ArgumentParser
import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamSync
import Kafka

/// `jobstream sync simulate`: a sync-engine simulator for demos, tests and benchmarks.
struct SyncSimulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "SIMULATOR: publish realistic sync sessions, as a sync engine would report them, with chosen failure rates.",
        discussion: """
            This is a simulator, not a sync engine: no CRM is contacted. It publishes each session's start, \
            one outcome per record (successes, retryable row-lock errors, invalid-CRM-account-id errors that \
            need a manual fix, a few CRM id changes) and its finish — or, for a share of sessions, a system \
            failure part-way through — to \(Topics.syncEvents). It prints each session with the status the \
            recorder should give it. The same --seed plans the same sessions.
            """)

    @OptionGroup var options: ServiceOptions
    @Option(help: "How many sessions.") var sessions: Int = 3
    @Option(help: "Records per session.") var records: Int = 20
    @Option(name: .customLong("failure-rate"), help: "The share of records that fail, 0 to 1.") var failureRate: Double = 0.05
    @Option(name: .customLong("retryable-share"), help: "The share of failed records whose error is retryable, 0 to 1.")
    var retryableShare: Double = 0.5
    @Option(name: .customLong("system-failure-rate"), help: "The share of sessions a system failure ends early, 0 to 1.")
    var systemFailureRate: Double = 0
    @Option(help: "Every session's operation (default: a mix).") var operation: SyncOperation?
    @Option(name: .customLong("duplicate-rate"), help: "The share of events sent twice, 0 to 1.") var duplicateRate: Double = 0
    @Flag(help: "Send each session's events in random order.") var shuffle = false
    @Option(
        name: .customLong("days-ago"),
        help: "Start the last session this many days ago (fractions allowed); the others start a minute apart before it.")
    var daysAgo: Double = 0
    @Option(help: "The random seed.") var seed: UInt64 = 1
    @Option(help: "Session ids are PREFIX-000001, PREFIX-000002… (default: sim- and a random part).") var prefix: String?
    @Flag(help: "Print each planned session as a JSON line instead of a table.") var json = false

    func validate() throws {
        guard (1...1_000_000).contains(sessions) else { throw ValidationError("--sessions must be between 1 and 1000000") }
        guard (0...10_000_000).contains(records) else { throw ValidationError("--records must be between 0 and 10000000") }
        for (name, value) in [
            ("--failure-rate", failureRate), ("--retryable-share", retryableShare),
            ("--system-failure-rate", systemFailureRate), ("--duplicate-rate", duplicateRate),
        ] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must be between 0 and 1, not \(value)") }
        }
        guard (0...3650).contains(daysAgo) else { throw ValidationError("--days-ago must be between 0 and 3650") }
        if let prefix, prefix.isEmpty || prefix.utf8.count > 100 {
            throw ValidationError("--prefix must be 1 to 100 characters")
        }
    }

    func run() async throws {
        var settings = SyncSimulation.Settings()
        settings.sessions = sessions
        settings.recordsPerSession = records
        settings.failureRate = failureRate
        settings.retryableShare = retryableShare
        settings.systemFailureRate = systemFailureRate
        settings.operation = operation
        settings.duplicateRate = duplicateRate
        settings.shuffle = shuffle
        settings.lastStart = Date().addingTimeInterval(-daysAgo * 86_400)
        settings.seed = seed
        settings.sessionPrefix = prefix ?? "sim-" + UUID().uuidString.prefix(6).lowercased()
        let planned = SyncSimulation(settings).sessions()

        let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: options.logLevel)
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(kafka: options.kafkaConfiguration(defaultClientID: "jobstream-sync-simulator")),
            logger: logger)
        let started = ContinuousClock.now
        var events = 0
        do {
            for session in planned {
                for event in session.events {
                    try await producer.enqueue(
                        KafkaProducerMessage(
                            topic: Topics.syncEvents, key: session.sessionId,
                            value: try MessageCodec.encode(event.payload, jobId: session.sessionId, time: event.time)))
                    events += 1
                }
            }
        } catch {
            await producer.shutdown()
            throw error
        }
        let drained = await producer.flush(timeout: .seconds(120))
        let failed = producer.failedCount
        await producer.shutdown()
        guard drained, failed == 0 else {
            throw ValidationError(
                "\(failed) of \(events) events were not delivered to \(Topics.syncEvents)\(drained ? "" : " (timed out)")")
        }
        let seconds = (ContinuousClock.now - started).seconds
        if json {
            for session in planned { print(try Self.jsonLine(session)) }
        } else {
            print(
                Table(
                    header: ["Session Id", "Operation", "Records", "Synced", "Failed", "Retryable", "Expected Status"],
                    rows: planned.map {
                        [
                            $0.sessionId, $0.operation.rawValue, String($0.recordsSynced + $0.recordsFailed),
                            String($0.recordsSynced),
                            String($0.recordsFailed), String($0.recordsToRetry), $0.expectedStatus.rawValue,
                        ]
                    }
                ).rendered)
        }
        let rate = seconds > 0 ? Int(Double(events) / seconds) : events
        FileHandle.standardError.write(
            Data(
                "simulator: published \(events) events of \(planned.count) session(s) in \(String(format: "%.2f", seconds)) s (\(rate) events/s)\n"
                    .utf8))
    }

    /// What the recorder should make of a session, as one JSON object.
    static func jsonLine(_ session: SyncSimulation.Session) throws -> String {
        let fields: [String: any Sendable] = [
            "sessionId": session.sessionId, "operation": session.operation.rawValue, "status": session.expectedStatus.rawValue,
            "recordsSynced": session.recordsSynced, "recordsFailed": session.recordsFailed,
            "recordsToRetry": session.recordsToRetry, "crmIdChanges": session.crmIdChanges,
            "startedAt": Timestamp.format(session.startedAt), "finishedAt": Timestamp.format(session.finishedAt),
            "events": session.events.count,
        ]
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
