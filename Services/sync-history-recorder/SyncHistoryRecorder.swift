import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct SyncHistoryRecorder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-history-recorder",
        abstract: "Records CRM sync sessions and each record's outcome, and keeps 30 days of sync history.",
        discussion: "This version joins its consumer group, decodes and acknowledges its messages; the stage's work is not built yet.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "sync-history-recorder",
            topics: [Topics.syncEvents],
            accepting: [.syncSessionStarted, .syncRecordOutcome, .syncSessionFinished, .syncSessionFailed],
            options: options,
            makeHandler: ServiceRunner.logReceipt)
    }
}
