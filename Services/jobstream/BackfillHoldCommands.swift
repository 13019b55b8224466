import ArgumentParser
import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamService

/// `jobstream backfill pause`: asks a Processing job to stop applying rows until it is resumed.
struct BackfillPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract:
            "Pause a Processing backfill: no chunk applies from now on until `resume`; it shows Paused within a second or two.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The job id.") var job: String
    @Option(name: .customLong("requested-by"), help: "Who pauses (default: $USER).")
    var requestedBy: String = ProcessInfo.processInfo.environment["USER"] ?? "unknown"

    func run() async throws {
        try report(
            try await withJobLog(storeOptions, { try await $0.requestPause(job, by: requestedBy) }), job: job, storeOptions,
            "pause requested for backfill \(job); no chunk applies from now on, and its validator shows it Paused")
    }
}

/// Prints `done` when the job log took the request, or fails saying why it did not.
func report(_ outcome: BackfillJobLog.HoldOutcome, job: String, _ storeOptions: StoreOptions, _ done: String) throws {
    switch outcome {
    case .requested: print(done)
    case .notFound: throw ValidationError("no backfill \(job) in the log at \(storeOptions.store)")
    case .refused(let why): throw ValidationError(why)
    }
}

/// `jobstream backfill resume`: lifts a pause (an operator's, or the failure brake's).
struct BackfillResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a Paused backfill: the chunks not applied are sent again.",
        discussion: """
            A job stopped by its failure brake resumes with the brake turned off, or with the new limit \
            given by --max-failed (counting the failures so far).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The job id.") var job: String
    @Option(name: .customLong("max-failed"), help: "A new failure brake: rows (500) or a percentage (2.5%).")
    var maxFailed: String?

    func validate() throws {
        if let maxFailed, case .failure(let problem) = FailureBrake.parse(maxFailed) {
            throw ValidationError("--max-failed: \(problem)")
        }
    }

    func run() async throws {
        try report(
            try await withJobLog(storeOptions, { try await $0.resume(job, maxFailed: maxFailed) }), job: job, storeOptions,
            "backfill \(job) resumes within a second or two\(maxFailed.map { " with the failure brake at \($0)" } ?? "")")
    }
}

/// `jobstream backfill rate`: changes how many rows per second a running job may apply.
struct BackfillRate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Set the most rows per second a backfill may apply, however many processors run (`off`: no limit).",
        discussion: "Takes effect within a second or two. The job is paced a chunk at a time (--chunk-size of the validator).")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The job id.") var job: String
    @Argument(help: "Rows per second, or off.") var rate: String

    func validate() throws {
        guard rate == "off" || (Int(rate) ?? 0) >= 1 else {
            throw ValidationError("\(Quoted(rate)): give rows per second (1 or more), or off")
        }
    }

    func run() async throws {
        let limit = rate == "off" ? nil : Int(rate)
        try report(
            try await withJobLog(storeOptions, { try await $0.setRate(job, to: limit) }), job: job, storeOptions,
            "backfill \(job) applies \(limit.map { "at most \($0) rows per second" } ?? "without a rate limit") from now on")
    }
}
