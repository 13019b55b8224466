import ArgumentParser
import Foundation
import JobstreamObjectStore
import JobstreamService

/// `jobstream files check`: whether the file store these settings name can be written, read and
/// cleared, before any service needs it.
struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "The file store: check that it can be used.", subcommands: [FilesCheck.self])
}

struct FilesCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Write, read back and remove a small file in the file store, and say where the store is.",
        discussion: """
            With an s3:// store the bucket must exist (or give --create-bucket) and the credentials must allow \
            GetObject, PutObject, DeleteObject, ListBucket and the multipart upload actions under the prefix.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "With an s3:// store, make the bucket first when it is not there.")
    var createBucket = false

    func run() async throws {
        let files = try storeOptions.files()
        if createBucket, let bucket = files.objects as? S3ObjectStorage { try await bucket.createBucket() }
        try await files.objects?.checkReachable()
        let probeName = "check-\(UUID().uuidString.prefix(8).lowercased()).txt"
        let place = try files.place(["probes", probeName])
        let text = "jobstream files check \(Date())\n"
        try Data(text.utf8).write(to: place.url)
        try await files.publish(place.url, as: place)
        let back = FileManager.default.temporaryDirectory.appendingPathComponent(probeName)
        defer { try? FileManager.default.removeItem(at: back) }
        try await files.copy(place.relative, to: back)
        let read = try String(contentsOf: back, encoding: .utf8)
        try await files.remove(place.relative)
        guard read == text else { throw ValidationError("the file store gave back other bytes than were written") }
        print("file store \(files.location): written, read back and removed \(place.relative)")
    }
}
