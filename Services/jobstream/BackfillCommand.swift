import ArgumentParser
import Foundation
import JobstreamBackfill

/// `jobstream backfill …`: submit, follow, pause, resume, cancel, retry and revert backfills, and read their log.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Run data backfills and read the backfill log.",
        subcommands: [
            Actions.self, Template.self, BackfillSubmit.self, BackfillLogs.self, BackfillShow.self,
            BackfillWait.self, BackfillDownload.self, BackfillCancel.self, BackfillPause.self, BackfillResume.self,
            BackfillRate.self, BackfillRetry.self, BackfillApply.self, BackfillRevert.self,
        ])

    struct Actions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backfill actions and their columns.")

        func run() {
            for action in BackfillAction.all {
                print("\(action.name)\n  \(action.summary)")
                for column in action.columns {
                    let role = column.isKey ? "key, required" : "optional"
                    print("  - \(column.name) (\(column.type.rawValue), \(role)): \(column.help)")
                }
                print("")
            }
            print("A column an action does not know is kept in the result file and never applied.")
        }
    }

    struct Template: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the CSV template (header line) of an action.")

        @Argument(help: "The action, e.g. update-rate-plan-charge.") var action: String

        func run() throws {
            let action = try BackfillCommand.action(named: action)
            guard action.needsFile else {
                throw ValidationError("\(action.name) takes no file: submit it without --file")
            }
            print(action.templateHeader.joined(separator: ","))
        }
    }

    static func action(named name: String) throws -> BackfillAction {
        guard let action = BackfillAction.named(name) else {
            throw ValidationError("unknown action \"\(name)\"; known: \(BackfillAction.all.map(\.name).joined(separator: ", "))")
        }
        return action
    }
}
