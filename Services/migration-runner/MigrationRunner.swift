import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct MigrationRunner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migration-runner",
        abstract: "Generates revenue data as of a cutover date, slice by slice, with progress and warnings.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "migration-runner",
            topics: [Topics.migrationRequests, Topics.migrationSlices, Topics.migrationResults],
            accepting: [.migrationRequest, .migrationSlice, .migrationSliceResult],
            options: options
        ) { _ in
            // This stage joins its group and acknowledges its messages; its work arrives with its issue.
            { envelope, _, logger in
                logger.info("received \(envelope.type.rawValue)")
            }
        }
    }
}
