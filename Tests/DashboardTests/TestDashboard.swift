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
actor RecordedCancels: BackfillOperatorActions {
    private(set) var requests: [(jobId: String, requestedBy: String)] = []
    /// Pauses and resumes, as "pause JOB by NAME" and "resume JOB".
    private(set) var holds: [String] = []

    func requestCancel(jobId: String, requestedBy: String) async throws {
        requests.append((jobId, requestedBy))
    }

    func requestPause(jobId: String, requestedBy: String) async throws {
        holds.append("pause \(jobId) by \(requestedBy)")
    }

    func resume(jobId: String) async throws {
        holds.append("resume \(jobId)")
    }

    /// Applies and reverts started, as "apply JOB approved by NAME as BY" and "revert JOB as BY".
    private(set) var started: [String] = []

    func apply(jobId: String, approvedBy: String, generatedBy: String) async throws -> String {
        started.append("apply \(jobId) approved by \(approvedBy) as \(generatedBy)")
        return "new-\(started.count)"
    }

    func revert(jobId: String, generatedBy: String) async throws -> String {
        started.append("revert \(jobId) as \(generatedBy)")
        return "new-\(started.count)"
    }
}

/// A dashboard over a fresh SQLite store and file store, with a board filled by the test.
struct TestDashboard: Sendable {
    static let operatorToken = "operator-token-0123456789"
    static let viewerToken = "viewer-token-0123456789ab"

    let board = StatusBoard()
    let cancels = RecordedCancels()
    let store: Store
    let files: FileStore
    let dashboard: Dashboard

    static func with(
        operatorToken: String? = operatorToken, viewerToken: String? = nil,
        _ body: @escaping @Sendable (TestDashboard, any TestClientProtocol) async throws -> Void
    ) async throws {
        let (store, folder) = try await TestStores.open(.sqlite)
        defer { folder.remove() }
        let files = FileStore(root: folder.url.appendingPathComponent("files").path)
        let test = try TestDashboard(
            store: store, files: files,
            access: DashboardAccess(operatorToken: operatorToken, viewerToken: viewerToken))
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
        self.dashboard = Dashboard(board: board, access: access, store: store, files: files, actions: cancels)
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
