import ArgumentParser

@main
struct Jobstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobstream",
        abstract:
            "Operate jobstream: run and inspect backfills and migrations, fill the record store, provision topics, inspect message formats.",
        subcommands: [
            BackfillCommand.self, MigrationCommand.self, SyncCommand.self, StoreCommand.self, TopicsCommand.self,
            MessagesCommand.self, FilesCommand.self, TokenCommand.self, AuditCommand.self, VersionCommand.self,
        ])
}
