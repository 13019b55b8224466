import ArgumentParser
import Foundation
import JobstreamDashboard

/// `jobstream token new`: a fresh random token for a dashboard's token file.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Make named API tokens for the dashboard's token file.",
        subcommands: [TokenNew.self])
}

struct TokenNew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Print a new random token, and the line of the token file that holds its hash (never the token).",
        discussion: """
            Give the token to its holder once; add the line to the file named by the dashboard's --tokens-file \
            ($JOBSTREAM_DASHBOARD_TOKENS_FILE) and restart the dashboard. Lose the token and make a new one: the \
            file cannot give it back.
            """)

    @Option(help: "Who holds the token: the name the job log and the audit trail record (letters, digits, . _ - @).")
    var name: String
    @Option(help: "viewer (reads), operator (starts and steers jobs) or approver (also applies previews).")
    var role: String

    func validate() throws {
        if let problem = NamedTokens.nameProblem(name) { throw ValidationError(problem) }
        guard let role = DashboardAccess.Role.named(role), role != .anonymous else {
            throw ValidationError("--role \(role.prefix(20)) is not viewer, operator or approver")
        }
    }

    func run() async throws {
        var generator = SystemRandomNumberGenerator()
        let token =
            "js_" + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        let role = DashboardAccess.Role.named(role) ?? .viewer
        print("token: \(token)")
        print("line:  \(NamedTokens.line(name: name, role: role, token: token))")
    }
}
