import Foundation
import Hummingbird
import HummingbirdTesting
import JobstreamDashboard
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import Logging
import NIOCore

/// Records the operators' requests (cancel, pause, resume, apply, revert) the dashboard makes: the seam between the routes and the job log
/// (``JobLogOperatorActions``, exercised with real validators by the browser tests).
actor RecordedCancels: OperatorActions {
    private(set) var requests: [(jobId: String, requestedBy: String)] = []
    /// Pauses and resumes, as "pause JOB by NAME" and "resume JOB".
    private(set) var holds: [String] = []

    func requestCancel(jobId: String, requestedBy: String) async throws {
        requests.append((jobId, requestedBy))
    }

    func requestPause(jobId: String, requestedBy: String) async throws {
        holds.append("pause \(jobId) by \(requestedBy)")
    }

    func resume(jobId: String, maxFailed: String?) async throws {
        holds.append("resume \(jobId)" + (maxFailed.map { " max failed \($0)" } ?? ""))
    }

    func setRate(jobId: String, rowsPerSecond: Int?) async throws {
        holds.append("rate \(jobId) \(rowsPerSecond.map(String.init) ?? "none")")
    }

    /// Backfills submitted, with their ids, and migrations started.
    private(set) var submitted: [(jobId: String, request: BackfillRequest)] = []
    private(set) var migrations: [(id: String, request: MigrationRequest)] = []

    func submit(_ request: BackfillRequest, jobId: String) async throws {
        submitted.append((jobId, request))
    }

    func startMigration(_ request: MigrationRequest, migrationId: String) async throws {
        migrations.append((migrationId, request))
    }

    /// Applies and reverts started, as "apply JOB approved by NAME as BY" and "revert JOB as BY".
    private(set) var started: [String] = []

    func apply(jobId: String, approvedBy: String, generatedBy: String, overwriteChanged: Bool) async throws -> String {
        started.append("apply \(jobId) approved by \(approvedBy) as \(generatedBy)" + (overwriteChanged ? " overwriting" : ""))
        return "new-\(started.count)"
    }

    func revert(jobId: String, generatedBy: String, overwriteChanged: Bool) async throws -> String {
        started.append("revert \(jobId) as \(generatedBy)" + (overwriteChanged ? " overwriting" : ""))
        return "new-\(started.count)"
    }
}

/// A dashboard over a fresh SQLite store and file store, with a board filled by the test.
struct TestDashboard: Sendable {
    static let operatorToken = "operator-token-0123456789"
    static let viewerToken = "viewer-token-0123456789ab"
    /// The most bytes a file submitted to the test dashboard may have.
    static let maximumUploadBytes: Int64 = 64 * 1024
    /// Named tokens: an approver, an operator and a viewer, each with a name of its own.
    static let approverToken = "js_approver_5c1f0e9d8b7a6"
    static let namedOperatorToken = "js_operator_4b3c2d1e0f9a8"
    static let namedViewerToken = "js_viewer_3a2b1c0d9e8f7g"
    static let namedTokens: NamedTokens = {
        let lines = [
            NamedTokens.line(name: "bea.costa", role: .approver, token: approverToken),
            NamedTokens.line(name: "ana.lima", role: .operator, token: namedOperatorToken),
            NamedTokens.line(name: "carl.viewer", role: .viewer, token: namedViewerToken),
        ]
        return try! NamedTokens.parse(lines.joined(separator: "\n"))
    }()

    let board = StatusBoard()
    let cancels = RecordedCancels()
    let store: Store
    let files: FileStore
    let dashboard: Dashboard

    static func with(
        operatorToken: String? = operatorToken, viewerToken: String? = nil, named: NamedTokens = .none,
        objects: InMemoryObjectStorage? = nil,
        _ body: @escaping @Sendable (TestDashboard, any TestClientProtocol) async throws -> Void
    ) async throws {
        let (store, folder) = try await TestStores.open(.sqlite)
        defer { folder.remove() }
        let files = FileStore(root: folder.url.appendingPathComponent("files").path, objects: objects)
        let test = try TestDashboard(
            store: store, files: files,
            access: DashboardAccess(operatorToken: operatorToken, viewerToken: viewerToken, named: named))
        do {
            try await Application(router: test.dashboard.router()).test(.router) { client in try await body(test, client) }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    private init(store: Store, files: FileStore, access: DashboardAccess) {
        self.store = store
        self.files = files
        var dashboard = Dashboard(board: board, access: access, store: store, files: files, actions: cancels)
        dashboard.maximumUploadBytes = Self.maximumUploadBytes
        self.dashboard = dashboard
    }

    func publish<Payload: JobstreamMessage>(_ payload: Payload, id: String, at time: Date = Date()) async {
        await board.apply(AnyEnvelope(Envelope(jobId: id, time: time, payload: payload)))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

func date(_ text: String) -> Date { Timestamp.parse(text)! }
