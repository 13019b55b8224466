import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct BackfillProcessor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-processor",
        abstract: "Applies validated backfill rows to the record store and reports each row's outcome. Run as many as needed.",
        discussion: "This version joins its consumer group, decodes and acknowledges its messages; the stage's work is not built yet.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-processor",
            topics: [Topics.backfillChunks],
            accepting: [.backfillChunk],
            options: options,
            makeHandler: ServiceRunner.logReceipt)
    }
}
