import ArgumentParser
import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamStore
import JobstreamSync

/// `jobstream sync …`: the sync history, a session's detail status and failed records, and the simulator.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Read the CRM sync history, and simulate a sync engine.",
        subcommands: [SyncHistory.self, SyncShow.self, SyncFailures.self, SyncSimulate.self])
}

/// A time as the sync history shows it, to the second, in UTC.
func syncDate(_ date: Date?) -> String {
    logDate(date.map { $0.epochMilliseconds })
}

extension SyncOperation: ExpressibleByArgument {
    public init?(argument: String) {
        guard let operation = SyncOperation.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else {
            return nil
        }
        self = operation
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// Parses a `--from`/`--to` date, or fails naming the option.
func filterDate(_ text: String?, option: String) throws -> CalendarDate? {
    guard let text else { return nil }
    guard let date = CalendarDate(text) else {
        throw ValidationError("\(option) \"\(text)\" is not a date written YYYY-MM-DD (e.g. 2026-11-01)")
    }
    return date
}

/// `jobstream sync history`: the Sync History list.
struct SyncHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List sync sessions, newest first, filtered by sync date range and operation.",
        discussion:
            "Dates are days in UTC and include the whole day. Sessions whose start has not been reported yet are not listed.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Sessions started on or after this day, YYYY-MM-DD.") var from: String?
    @Option(help: "Sessions started on or before this day, YYYY-MM-DD.") var to: String?
    @Option(help: "Only this operation: Manual, Scheduled, Real-time, On-demand or Clean-up.") var operation: SyncOperation?
    @Option(help: "Show at most N sessions.") var limit: Int = 50

    func validate() throws {
        let from = try filterDate(from, option: "--from"), to = try filterDate(to, option: "--to")
        if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000") }
    }

    func run() async throws {
        let filter = SyncHistoryQuery.Filter(
            from: try filterDate(from, option: "--from"), to: try filterDate(to, option: "--to"),
            operation: operation)
        let limit = self.limit
        let sessions = try await withStore(storeOptions) { try await SyncHistoryQuery(store: $0).history(filter, limit: limit) }
        let header = ["Session Id", "Operation", "Started On", "Finished On", "Synced", "Failed", "Status"]
        let rows = sessions.map { session in
            [
                session.sessionId, session.facts.operation?.rawValue ?? "-", syncDate(session.facts.startedAt),
                syncDate(session.finishedAt), String(session.facts.recordsSynced), String(session.facts.recordsFailed),
                session.status.rawValue,
            ]
        }
        print(Table(header: header, rows: rows).rendered)
        if sessions.isEmpty { print("(no sync sessions match)") }
    }
}

/// `jobstream sync show`: the Show Result page of one session.
struct SyncShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one sync session's detail status: counts, retries, failure, CRM id changes.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The session id.") var session: String
    @Option(help: "How many failed records and CRM id changes to list.") var records: Int = 10

    func run() async throws {
        let id = session, shown = max(0, records)
        let (record, failures, changes) = try await withStore(storeOptions) { store in
            let query = SyncHistoryQuery(store: store)
            guard let record = try await query.session(id) else {
                throw ValidationError(
                    "no sync session \(id) in the history at \(store.location) (never recorded, or deleted after 30 days)")
            }
            return (record, try await query.failedRecords(id, limit: shown), try await query.crmIdChanges(id, limit: shown))
        }
        let facts = record.facts
        var lines: [(String, String)] = [
            ("Session Id", record.sessionId), ("Operation", facts.operation?.rawValue ?? "- (start not reported yet)"),
            ("Status", record.status.rawValue), ("Started On", syncDate(facts.startedAt)),
            ("Finished On", syncDate(record.finishedAt)),
            ("Records Synced", String(facts.recordsSynced)), ("Records Failed", String(facts.recordsFailed)),
            ("Retried Automatically", String(record.recordsToRetry)), ("Need A Manual Fix", String(record.recordsNeedingFix)),
            ("CRM Id Changes", String(record.crmIdChanges)),
        ]
        if let expected = facts.recordsExpected { lines.insert(("Records Reported", String(expected)), at: 5) }
        if let failure = facts.failure {
            lines.append(("Failure", "\(failure.rawValue) failure: \(facts.failureReason ?? "")"))
            lines.append(("Next Cycle", "the whole session is retried"))
        } else if record.recordsToRetry > 0 {
            lines.append(("Next Cycle", "\(record.recordsToRetry) record(s) retried"))
        }
        printFields(lines)
        if !failures.isEmpty {
            print(
                "\nFailed records\(facts.recordsFailed > failures.count ? ", first \(failures.count) of \(facts.recordsFailed)" : ""):"
            )
            print(
                Table(
                    header: ["Object", "Id", "Error Code", "Error Message", "Retry"],
                    rows: failures.map {
                        [
                            $0.objectType, $0.objectId, $0.errorCode, $0.errorMessage ?? "",
                            $0.retryable ? "Automatic" : "Manual fix",
                        ]
                    }
                ).rendered)
            print("(all of them: jobstream sync failures \(record.sessionId) -o failures.csv)")
        }
        if !changes.isEmpty {
            print("\nCRM Id Change Results:")
            print(
                Table(
                    header: ["Object", "Id", "Previous CRM Id", "New CRM Id"],
                    rows: changes.map {
                        [$0.objectType, $0.objectId, $0.previousCrmId, $0.newCrmId]
                    }
                ).rendered)
        }
    }
}

/// `jobstream sync failures`: the "[more...]" CSV of a session's failed records.
struct SyncFailures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failures",
        abstract: "Write a sync session's failed records, with their errors, as CSV.",
        discussion: "Columns: Object Type, Object Id, CRM Id, Error Code, Error Message, Retry (Automatic, or Manual fix).")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The session id.") var session: String
    @Option(name: .shortAndLong, help: "The CSV file to write.") var output: String

    func run() async throws {
        let id = session
        let destination = URL(fileURLWithPath: output)
        let written = try await withStore(storeOptions) { store in
            let query = SyncHistoryQuery(store: store)
            guard try await query.session(id) != nil else {
                throw ValidationError("no sync session \(id) in the history at \(store.location)")
            }
            return try await writePagedCSV(
                to: destination, header: ["Object Type", "Object Id", "CRM Id", "Error Code", "Error Message", "Retry"],
                pageSize: 10_000,
                fields: {
                    [
                        $0.objectType, $0.objectId, $0.crmId ?? "", $0.errorCode, $0.errorMessage ?? "",
                        $0.retryable ? "Automatic" : "Manual fix",
                    ]
                },
                position: { (objectType: $0.objectType, objectId: $0.objectId) }
            ) { after, limit in
                try await query.failedRecords(id, after: after, limit: limit)
            }
        }
        print("wrote \(written) failed record(s) of session \(id) to \(destination.path)")
    }
}
