import ArgumentParser
import JobstreamMessages
import JobstreamService

@main
struct MigrationRunner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migration-runner",
        abstract: "Generates revenue data as of a cutover date, slice by slice, with progress and warnings.",
        discussion: "This version joins its consumer group, decodes and acknowledges its messages; the stage's work is not built yet.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(
            name: "migration-runner",
            topics: [Topics.migrationRequests, Topics.migrationSlices, Topics.migrationResults],
            accepting: [.migrationRequest, .migrationSlice, .migrationSliceResult],
            options: options,
            makeHandler: ServiceRunner.logReceipt)
    }
}
