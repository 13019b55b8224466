/// What an operator can do to a backfill from the dashboard: each is a button (with its
/// confirmation) and a `POST /backfills/ID/<action>` route, under the same token and origin rules.
/// Apply (approve a preview) and Revert start a new job.
enum OperatorAction: String, CaseIterable, Sendable {
    case cancel, pause, resume, apply, revert

    var verb: String { rawValue }

    var pastTense: String {
        switch self {
        case .cancel: "canceled"
        case .pause: "paused"
        case .resume: "resumed"
        case .apply: "applied"
        case .revert: "reverted"
        }
    }

    /// The `notice` query value the details page is sent back with.
    var notice: String { "\(rawValue)-requested" }

    init?(notice: String) {
        guard let action = Self.allCases.first(where: { $0.notice == notice }) else { return nil }
        self = action
    }

    var noticeText: String {
        switch self {
        case .cancel: "Cancel requested: the job stops before its next chunk and ends Canceled."
        case .pause: "Pause requested: no further chunk is applied, and the job shows Paused within a second or two."
        case .resume: "Resume requested: the chunks not applied are sent again within a second or two."
        case .apply: "Apply requested: a new backfill applies this preview; it appears in the Backfill Logs within a few seconds."
        case .revert:
            "Revert requested: a new backfill puts these changes back; it appears in the Backfill Logs within a few seconds."
        }
    }

    /// What the button's confirmation asks.
    var confirmation: String {
        switch self {
        case .cancel: "Cancel this backfill? No further rows are applied."
        case .pause: "Pause this backfill? No further rows are applied until it is resumed."
        case .resume: "Resume this backfill? The rows not applied yet are applied."
        case .apply: "Approve and apply this preview? Its rows are applied to the records, as previewed."
        case .revert: "Revert this backfill? A new job puts back the values it changed."
        }
    }
}
