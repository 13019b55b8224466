/// A job's status, encoded as its display name, with the table of legal changes.
///
/// An illegal change (say Completed → Processing) is refused with ``IllegalTransition`` rather than
/// applied, so a late or duplicated event can never move a job backwards.
public protocol JobStatus: RawRepresentable<String>, CaseIterable, Codable, Sendable, Hashable {
    /// What kind of job this status belongs to.
    static var jobKind: JobKind { get }
    /// The statuses a job may move to from this one.
    var allowedNext: Set<Self> { get }
}

extension JobStatus {
    /// The name shown to users, exactly as the documentation writes it.
    public var displayName: String { rawValue }

    /// Whether no further change is possible.
    public var isTerminal: Bool { allowedNext.isEmpty }

    /// Whether a job in this status may move to `next`.
    public func canTransition(to next: Self) -> Bool {
        allowedNext.contains(next)
    }

    /// The new status, or ``IllegalTransition`` if the move is not allowed.
    public func transition(to next: Self) throws(IllegalTransition) -> Self {
        guard canTransition(to: next) else {
            throw IllegalTransition(
                jobKind: Self.jobKind.noun, from: rawValue, to: next.rawValue,
                allowed: allowedNext.map(\.rawValue).sorted())
        }
        return next
    }
}

/// A refused status change.
public struct IllegalTransition: Error, Equatable, CustomStringConvertible, Sendable {
    public let jobKind: String
    public let from: String
    public let to: String
    public let allowed: [String]

    public var description: String {
        let options = allowed.isEmpty ? "it is final" : "allowed: \(allowed.joined(separator: ", "))"
        return "a \(jobKind) job cannot move from \(from) to \(to) (\(options))"
    }
}

/// The statuses of a data backfill, as on the Backfill Logs page.
public enum BackfillStatus: String, JobStatus {
    /// The request was taken.
    case accepted = "Accepted"
    /// The uploaded file is being validated.
    case pending = "Pending"
    /// Rows are being applied.
    case processing = "Processing"
    /// Stopped for a person to decide (paused by an operator, or by the failure brake): no row is
    /// applied until it is resumed (back to Processing) or canceled.
    case paused = "Paused"
    /// The job failed; the event's `error` says why.
    case failed = "Failed"
    /// Every row was processed; the result file is ready.
    case completed = "Completed"
    /// Canceled while Pending, Processing or Paused; rows not yet applied stay unapplied.
    case canceled = "Canceled"

    public static let jobKind = JobKind.backfill

    public var allowedNext: Set<BackfillStatus> {
        switch self {
        // A file-less action has nothing to validate and goes straight to Processing.
        case .accepted: [.pending, .processing, .failed]
        case .pending: [.processing, .failed, .canceled]
        case .processing: [.paused, .completed, .failed, .canceled]
        // Paused → Completed: the last chunk was applied just before the pause took hold.
        case .paused: [.processing, .completed, .failed, .canceled]
        case .failed, .completed, .canceled: []
        }
    }

    /// Whether a user may cancel a job in this status (Pending or Processing, as the seed says, and Paused).
    public var isCancelable: Bool { self == .pending || self == .processing || self == .paused }
}

/// The statuses of a data migration, as on the Migration Logs page.
public enum MigrationStatus: String, JobStatus {
    /// The request was taken.
    case accepted = "Accepted"
    /// Revenue data is being generated; the event carries the progress.
    case inProgress = "In progress"
    /// A system failure stopped the migration; the event's `error` says why.
    case error = "Error"
    /// All data was generated.
    case completed = "Completed"
    /// Done, but some data could not be generated; the warnings say which and why.
    case completedWarning = "Completed-Warning"

    public static let jobKind = JobKind.migration

    public var allowedNext: Set<MigrationStatus> {
        switch self {
        case .accepted: [.inProgress, .error]
        case .inProgress: [.error, .completed, .completedWarning]
        case .error, .completed, .completedWarning: []
        }
    }
}

/// The statuses of a CRM sync session, as on the Sync History page, plus Running while it is open.
public enum SyncSessionStatus: String, JobStatus {
    /// The session started and has not finished.
    case running = "Running"
    /// Completed; every record synced.
    case finished = "Finished"
    /// Completed, but some records failed; they are retried in the next session.
    case finishedWithErrors = "Finished with Errors"
    /// A system failure ended the session early; the whole session is retried next cycle.
    case failure = "Failure"

    public static let jobKind = JobKind.sync

    public var allowedNext: Set<SyncSessionStatus> {
        switch self {
        case .running: [.finished, .finishedWithErrors, .failure]
        case .finished, .finishedWithErrors, .failure: []
        }
    }
}
