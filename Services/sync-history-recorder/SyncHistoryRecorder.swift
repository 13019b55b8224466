import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct SyncHistoryRecorder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-history-recorder",
        abstract: "Records CRM sync sessions and each record's outcome, and keeps 30 days of sync history.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "sync-history-recorder",
            topics: [Topics.syncEvents],
            accepting: [.syncSessionStarted, .syncRecordOutcome, .syncSessionFinished, .syncSessionFailed],
            options: options
        ) { _ in
            // This stage joins its group and acknowledges its messages; its work arrives with its issue.
            { envelope, _, logger in
                logger.info("received \(envelope.type.rawValue)")
            }
        }
    }
}
