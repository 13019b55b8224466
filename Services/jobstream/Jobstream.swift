import ArgumentParser

@main
struct Jobstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobstream",
        abstract: "Operate jobstream: provision topics, inspect message formats.",
        subcommands: [TopicsCommand.self, MessagesCommand.self, VersionCommand.self])
}
