/// The three kinds of job jobstream runs. The raw value labels metrics (`kind="sync"`); ``noun`` is
/// how messages and logs name one job of the kind.
public enum JobKind: String, Sendable, Hashable, CaseIterable {
    case backfill
    case migration
    case sync

    /// One job of this kind in a sentence: "backfill", "migration", "sync session".
    public var noun: String {
        switch self {
        case .backfill: "backfill"
        case .migration: "migration"
        case .sync: "sync session"
        }
    }
}
