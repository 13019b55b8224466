import ArgumentParser
import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamService

/// `jobstream backfill revert`: a new job that puts back what a finished backfill changed.
struct BackfillRevert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Start a new backfill that puts back the values JOB changed, from the before-images kept as it applied them.",
        discussion: """
            A record changed since JOB (by another job or anything else) is not put back but reported in the \
            revert's result file, naming who changed it, unless --overwrite-changed. The two jobs are linked: \
            each one's details name the other (Reverts / Reverted By). A revert can itself be reverted. \
            Prints the new job id.
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The finished job to revert.") var job: String
    @Flag(name: .customLong("overwrite-changed"), help: "Put back records changed since JOB too.")
    var overwriteChanged = false
    @Option(name: .customLong("generated-by"), help: "Who runs the revert (default: $USER).")
    var generatedBy: String = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    @Flag(help: "Follow the new job until it ends.") var wait = false

    func validate() throws {
        if let problem = JobIdRule.problem(job) { throw ValidationError("\(Quoted(job)): \(problem)") }
        guard !generatedBy.isEmpty else { throw ValidationError("--generated-by is empty") }
    }

    func run() async throws {
        // The validator checks again when it takes the request (anyone may publish one); checking here
        // first tells the user at once.
        if let problem = try await withJobLog(storeOptions, { try await $0.revertProblem(of: job) }) {
            throw ValidationError(problem)
        }
        let original = try await requireJob(job, storeOptions)
        let jobId = try await BackfillSubmit.submit(
            BackfillRequest(
                action: original.action, generatedBy: generatedBy, reverts: original.jobId,
                overwriteChanged: overwriteChanged ? true : nil),
            options: options)
        print(jobId)
        if wait {
            try await BackfillWait.follow(jobId, storeOptions: storeOptions, timeout: .seconds(3600))
        }
    }
}
