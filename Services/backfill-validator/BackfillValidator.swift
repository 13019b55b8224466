import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct BackfillValidator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-validator",
        abstract: "Takes backfill requests, validates their files, fans rows out to the processors and keeps each job's status.",
        discussion: "This version joins its consumer group, decodes and acknowledges its messages; the stage's work is not built yet.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-validator",
            topics: [Topics.backfillRequests, Topics.backfillControl, Topics.backfillResults],
            accepting: [.backfillRequest, .backfillCancel, .backfillChunkResult],
            options: options,
            makeHandler: ServiceRunner.logReceipt)
    }
}
