import ArgumentParser
import Foundation
import JobstreamMessages

struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "The message formats on jobstream's topics.",
        subcommands: [Examples.self, Decode.self])

    struct Examples: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an example envelope of every message type, one TYPE.json file each.")

        @Option(name: .shortAndLong, help: ArgumentHelp("The folder to write to (created if missing).", valueName: "dir"))
        var out: String

        func run() async throws {
            let folder = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (type, bytes) in try MessageExamples.all().sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let file = folder.appendingPathComponent("\(type.rawValue).json")
                try Data(bytes).write(to: file)
                print(file.path)
            }
        }
    }

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a file holds one valid jobstream message, and say what it is.")

        @Argument(help: "A file holding one JSON envelope.")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("\(file): cannot read the file")
            }
            do {
                let envelope = try MessageCodec.decode(Array(data))
                print("\(envelope.type.rawValue) \(envelope.version) job \(envelope.jobId) at \(Timestamp.format(envelope.time))")
            } catch {
                throw ValidationError("\(file): \(error)")
            }
        }
    }
}
