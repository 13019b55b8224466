import ArgumentParser
import Foundation
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
import Logging

/// `jobstream backfill submit`: stores the file and publishes the request.
struct BackfillSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a backfill: store its file in the file store and publish the request. Prints the job id.",
        discussion: "Files: .csv, or .zip holding one .csv; UTF-8 with or without BOM; LF or CRLF; RFC 4180 quoting.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The backfill action (see `jobstream backfill actions`).") var action: String
    @Option(help: "The CSV or zipped CSV file, for actions that take one.") var file: String?
    @Option(name: .customLong("generated-by"), help: "Who runs the backfill (default: $USER).")
    var generatedBy: String = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    @Option(help: "The file's MD5 checksum (32 hex digits); the job fails if the file does not match.") var md5: String?
    @Option(
        name: .customLong("max-failed"),
        help: "The failure brake: past this many failed rows (500) or this share of the rows so far (2.5%), the job goes Paused.")
    var maxFailed: String?
    @Option(help: "The most rows per second the job may apply, however many processors run (change it with `backfill rate`).")
    var rate: Int?
    @Flag(
        help: """
            A dry run: validate, then read for every valid row the record's current values and whether the row would \
            change anything, into a preview file; write no record. Apply it with `backfill apply JOB`.
            """)
    var preview = false
    @Option(
        name: .customLong("webhook"),
        help:
            "An address the job's end is also sent to, signed (repeat for more); only those the validators allow (--webhook-allow) are."
    )
    var webhooks: [String] = []
    @Flag(help: "Follow the job until it ends.") var wait = false

    func validate() throws {
        let action = try BackfillCommand.action(named: action)
        guard webhooks.count <= 5 else { throw ValidationError("at most 5 --webhook addresses") }
        for url in webhooks where !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw ValidationError("--webhook \(url.prefix(60)): not an http:// or https:// address")
        }
        if action.needsFile, file == nil { throw ValidationError("\(action.name) needs --file") }
        if !action.needsFile, file != nil { throw ValidationError("\(action.name) takes no file; drop --file") }
        if let file {
            let lowered = file.lowercased()
            guard lowered.hasSuffix(".csv") || lowered.hasSuffix(".zip") else {
                throw ValidationError("\(file): a backfill file is a .csv, or a .zip holding one")
            }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("\(file): no such readable file")
            }
        }
        if let md5, md5.count != 32 || !md5.allSatisfy(\.isHexDigit) {
            throw ValidationError("--md5 \"\(md5)\": an MD5 checksum is 32 hexadecimal digits")
        }
        guard !generatedBy.isEmpty else { throw ValidationError("--generated-by is empty") }
        if let maxFailed, case .failure(let problem) = FailureBrake.parse(maxFailed) {
            throw ValidationError("--max-failed: \(problem)")
        }
        if let rate, rate < 1 { throw ValidationError("--rate must be at least 1 row per second") }
    }

    func run() async throws {
        let jobId = try await BackfillSubmit.submit(
            BackfillRequest(
                action: action, md5: md5, generatedBy: generatedBy, maxFailed: maxFailed, ratePerSecond: rate,
                preview: preview ? true : nil, webhooks: webhooks.isEmpty ? nil : webhooks),
            upload: try file.map { (URL(fileURLWithPath: $0), try storeOptions.files()) }, options: options)
        print(jobId)
        if wait {
            try await BackfillWait.follow(jobId, storeOptions: storeOptions, timeout: .seconds(3600))
        }
    }

    /// Stores the file to upload (if any) in its file store, publishes the request and returns the
    /// new job id.
    static func submit(
        _ request: BackfillRequest, upload: (file: URL, files: FileStore)? = nil, options: ServiceOptions
    ) async throws -> String {
        let jobId = UUID().uuidString.lowercased()
        var request = request
        if let upload {
            request.file = try await upload.files.storeUpload(from: upload.file, jobId: jobId)
        }
        try await publish(Envelope(jobId: jobId, payload: request), to: Topics.backfillRequests, options: options)
        return jobId
    }
}

/// Publishes one message keyed by its job id and waits for the broker's acknowledgement.
func publish<Payload: JobstreamMessage>(_ envelope: Envelope<Payload>, to topic: String, options: ServiceOptions) async throws {
    let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: options.logLevel)
    let producer = try KafkaProducer(
        configuration: ProducerConfiguration(kafka: options.kafkaConfiguration(defaultClientID: "jobstream-cli")), logger: logger)
    do {
        _ = try await producer.send(KafkaProducerMessage(topic: topic, envelope: envelope))
    } catch {
        await producer.shutdown()
        throw error
    }
    await producer.shutdown()
}

/// `jobstream backfill retry`: a new job from the failed rows of a finished one.
struct BackfillRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract:
            "Start a new backfill from only the rows of JOB that failed (or were not processed), with their original columns.",
        discussion: "The two jobs are linked: each one's details name the other.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The finished job to retry.") var job: String
    @Option(name: .customLong("generated-by"), help: "Who runs the retry (default: $USER).")
    var generatedBy: String = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    @Flag(help: "Follow the new job until it ends.") var wait = false

    func run() async throws {
        let original = try await requireJob(job, storeOptions)
        guard original.preview == 0 else {
            throw ValidationError(
                "backfill \(job) is a preview and applied nothing: apply it (`jobstream backfill apply \(job)`), or fix the file and preview it again"
            )
        }
        guard original.status.isTerminal, let resultPath = original.resultPath else {
            throw ValidationError(
                "backfill \(job) is \(original.status.rawValue)\(original.status.isTerminal ? " and has no result file" : ""); only a finished job with a result file can be retried"
            )
        }
        let stem = ((original.uploadedFile ?? "backfill.csv") as NSString).deletingPathExtension
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jobstream-retry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let resultURL = folder.appendingPathComponent("result.csv")
        try await storeOptions.files().copy(resultPath, to: resultURL)
        let retryFile = folder.appendingPathComponent("\(stem)-retry.csv")
        let failed = try FailedRows.extract(fromResult: resultURL, to: retryFile)
        guard failed > 0 else { throw ValidationError("backfill \(job) has no failed rows to retry") }
        let jobId = try await BackfillSubmit.submit(
            BackfillRequest(action: original.action, generatedBy: generatedBy, retryOf: original.jobId),
            upload: (retryFile, try storeOptions.files()), options: options)
        print(jobId)
        if wait {
            try await BackfillWait.follow(jobId, storeOptions: storeOptions, timeout: .seconds(3600))
        }
    }
}
