import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct BackfillProcessor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-processor",
        abstract: "Applies validated backfill rows to the record store and reports each row's outcome. Run as many as needed.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-processor",
            topics: [Topics.backfillChunks],
            accepting: [.backfillChunk],
            options: options
        ) { _ in
            // This stage joins its group and acknowledges its messages; its work arrives with its issue.
            { envelope, _, logger in
                logger.info("received \(envelope.type.rawValue)")
            }
        }
    }
}
