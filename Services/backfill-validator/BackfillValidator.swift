import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct BackfillValidator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-validator",
        abstract: "Takes backfill requests, validates their files, fans rows out to the processors and keeps each job's status.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-validator",
            topics: [Topics.backfillRequests, Topics.backfillControl, Topics.backfillResults],
            accepting: [.backfillRequest, .backfillCancel, .backfillChunkResult],
            options: options
        ) { _ in
            // This stage joins its group and acknowledges its messages; its work arrives with its issue.
            { envelope, _, logger in
                logger.info("received \(envelope.type.rawValue)")
            }
        }
    }
}
