import ArgumentParser
import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamStore

/// `jobstream audit`: the audit trail, newest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit trail, newest first: every action asked of the dashboard and its API, taken or refused.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Only the entries of this job or migration (the job an action started is named in its entry's detail).")
    var job: String?
    @Option(help: "Only the entries of this actor (a token's name).") var actor: String?
    @Option(help: "Show at most N entries.") var limit: Int = 100
    @Flag(help: "Print JSON, one object a line.") var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if let job, let problem = JobIdRule.problem(job) { throw ValidationError("--job: \(problem)") }
    }

    func run() async throws {
        let events = try await withStore(storeOptions) {
            try await AuditTrail(store: $0).events(targetId: job, actor: actor, limit: limit)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for event in events { print(String(decoding: try encoder.encode(event), as: UTF8.self)) }
            return
        }
        let rows = events.map { event in
            [
                logDate(event.at), event.actor, event.role, event.action, event.targetId ?? "-", event.outcome,
                event.source ?? "-", (event.detail ?? "").replacingOccurrences(of: "\n", with: " "),
            ]
        }
        print(Table(header: ["When", "Who", "Role", "Action", "Job", "Outcome", "From", "Detail"], rows: rows).rendered)
        if events.isEmpty { print("(no entries)") }
    }
}
