import Foundation
import HTTPTypes
import Hummingbird
import JobstreamMessages
import JobstreamStore
import Logging

/// Writing the audit trail (``AuditTrail``): every action asked of the dashboard, its pages and its
/// API, taken or refused, with who asked, their role and where the request came from.
extension Dashboard {
    /// Who asked, as the trail and the job log name them: a named token's name, else the name given
    /// with the shared operator token (`fallback`).
    static func actorName(_ identity: DashboardAccess.Identity, fallback: String) -> String {
        identity.name ?? fallback
    }

    /// The request's source: the peer's address, and what a proxy says in `X-Forwarded-For`
    /// (reported as given: a client can write anything there).
    static func source(_ request: Request, _ context: DashboardRequestContext) -> String? {
        let peer = context.remoteAddress?.ipAddress ?? context.remoteAddress?.description
        let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!].map { "forwarded for \($0.prefix(200))" }
        let parts = [peer, forwarded].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// Adds one entry. A trail that cannot be written is logged, not hidden; the action's own answer
    /// stands (it was recorded in the job log, or refused, already).
    func audit(
        _ identity: DashboardAccess.Identity, actor: String, action: String, target: (kind: String, id: String?),
        outcome: CancelOutcome, detail: String?, request: Request, context: DashboardRequestContext
    ) async {
        let outcomeText: String
        var detail = detail
        switch outcome {
        case .requested: outcomeText = "accepted"
        case .refused(let status, let message):
            outcomeText = "refused (\(status.code))"
            detail = [detail, message].compactMap { $0 }.joined(separator: ": ")
        }
        let event = AuditTrail.Event(
            at: Date().epochMilliseconds, actor: actor, role: identity.role.name, action: action, targetKind: target.kind,
            targetId: target.id, outcome: outcomeText, detail: detail, source: Self.source(request, context))
        do {
            try await AuditTrail(store: store).record(event)
        } catch {
            context.logger.error(
                "the audit trail could not record \(action) by \(actor): \(error)", metadata: ["target": "\(target.id ?? "")"])
        }
    }
}
