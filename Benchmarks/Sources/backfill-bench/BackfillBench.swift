import ArgumentParser
import BenchSupport
import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Logging

/// Tools for `make bench-backfill`: the benchmark's input files, and its ceiling — the same
/// updates applied straight to the same store by one process, without Kafka.
@main
struct BackfillBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-bench",
        abstract: "Backfill benchmark tools: generate input files, measure the store's ceiling.",
        subcommands: [GenerateFile.self, Ceiling.self, JobFile.self])

    struct GenerateFile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-file",
            abstract:
                "Write an update-rate-plan-charge file: charges RPC-00000001… in order, each row setting a booking date and an accounting code."
        )

        @Option(help: "Data rows.") var rows: Int
        @Option(help: "Characters of an informational Note column on every row (0: no such column).") var note: Int = 0
        @Option(name: .shortAndLong, help: "The file to write.") var output: String

        func run() throws {
            guard FileManager.default.createFile(atPath: output, contents: nil),
                let handle = FileHandle(forWritingAtPath: output)
            else {
                throw ValidationError("\(output): cannot create the file")
            }
            let padding = String(repeating: "x", count: note)
            var buffer = "Charge Id,Booking Date,Accounting Code\(note > 0 ? ",Note" : "")\n"
            for n in 1...max(rows, 1) where rows > 0 {
                let id = String(n)
                buffer += "RPC-" + String(repeating: "0", count: max(0, 8 - id.count)) + id
                buffer += ",2025-\(n % 12 < 9 ? "0" : "")\(n % 12 + 1)-15,ACC-\(n % 7)"
                buffer += note > 0 ? ",\(padding)\n" : "\n"
                if buffer.utf8.count > 1 << 20 {
                    try handle.write(contentsOf: Data(buffer.utf8))
                    buffer = ""
                }
            }
            try handle.write(contentsOf: Data(buffer.utf8))
            try handle.close()
        }
    }

    struct Ceiling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Read a file and apply its valid rows straight to the store, a chunk per transaction, with the processors' SQL.",
            discussion:
                "No Kafka, no job log, no ledger: the most one process gets out of the store. Prints rows/s. --preview reads as a preview's chunks do."
        )

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "The backfill action.") var action: String = BackfillAction.updateRatePlanCharge.name
        @Option(help: "The CSV file.") var file: String
        @Option(name: .customLong("chunk-size"), help: "Rows per transaction, as the validator's chunks.") var chunkSize: Int =
            1000
        @Flag(
            name: .customLong("no-before-images"),
            help: "Apply without keeping before-images (the baseline of their cost; the processors always keep them).")
        var noBeforeImages = false
        @Flag(help: "Read the rows as a preview does (current values, would-change) instead of applying them.")
        var preview = false

        func run() async throws {
            guard let action = BackfillAction.named(action), action.needsFile else {
                throw ValidationError("--action must be a file action")
            }
            let store = try await storeOptions.openStore(logger: LoggingSetup.bootstrap(label: "backfill-bench", level: .warning))
            let clock = ContinuousClock()
            let start = clock.now
            let validated = try await BackfillFileScan.validate(
                csvURL: URL(fileURLWithPath: file), fileName: file, action: action, refuse: { _ in }, isCanceled: { false })
            var rows: [BackfillRow] = []
            var applied = 0, failed = 0
            let (jobId, keeping) = ("bench-\(UUID().uuidString.lowercased())", !noBeforeImages)
            func flush() async throws {
                let chunk = rows
                let failures = try await store.transaction { database in
                    preview
                        ? try await ChunkApplier.previewRows(
                            chunk, action: action, jobId: jobId, flavor: store.flavor, in: database)
                        : try await ChunkApplier.applyRows(
                            chunk, action: action, jobId: jobId, keepingBeforeImages: keeping, flavor: store.flavor,
                            in: database)
                }
                applied += chunk.count - failures.count
                failed += failures.count
                rows.removeAll(keepingCapacity: true)
            }
            try await validated.forEachRow { _, _, verdict in
                guard case .success(let row) = verdict else { return }
                rows.append(row)
                if rows.count == chunkSize { try await flush() }
            }
            if !rows.isEmpty { try await flush() }
            let seconds = (clock.now - start).seconds
            await store.close()
            print(
                String(
                    format: "ceiling: %d rows %@ (%d failed) in %.2f s = %.0f rows/s (%@, %@)",
                    applied, preview ? "previewed" : "applied", failed, seconds, Double(applied + failed) / seconds,
                    store.location.description,
                    preview ? "read only" : keeping ? "before-images kept" : "before-images not kept"))
        }
    }

    struct JobFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "job-file",
            abstract: "Write the result file (or with --preview, the preview file) of a job in the store, timed.",
            discussion:
                "The job's chunks must all be in its ledger: run it to the end first. Prints rows/s of the file's last step."
        )

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "The job's id.") var job: String
        @Option(help: "The backfill action.") var action: String = BackfillAction.updateRatePlanCharge.name
        @Option(help: "The job's CSV file.") var file: String
        @Option(name: .shortAndLong, help: "The file to write.") var output: String
        @Flag(help: "Write the preview file of a preview job.") var preview = false

        func run() async throws {
            guard let action = BackfillAction.named(action), action.needsFile else {
                throw ValidationError("--action must be a file action")
            }
            let store = try await storeOptions.openStore(logger: LoggingSetup.bootstrap(label: "backfill-bench", level: .warning))
            let validated = try await BackfillFileScan.validate(
                csvURL: URL(fileURLWithPath: file), fileName: file, action: action, refuse: { _ in }, isCanceled: { false })
            let ledger = BackfillLedger(store: store)
            let clock = ContinuousClock()
            let start = clock.now
            if preview {
                _ = try await PreviewFileWriter(ledger: ledger, previews: PreviewRows(store: store), jobId: job)
                    .write(validated, to: URL(fileURLWithPath: output))
            } else {
                _ = try await ResultFileWriter(ledger: ledger, jobId: job).write(validated, to: URL(fileURLWithPath: output))
            }
            let seconds = (clock.now - start).seconds
            await store.close()
            print(
                String(
                    format: "job file: %@ file of %d rows in %.2f s = %.0f rows/s (%@)", preview ? "preview" : "result",
                    validated.rowCount, seconds, Double(validated.rowCount) / seconds, store.location.description))
        }
    }
}
