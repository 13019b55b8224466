import JobstreamMessages

/// What a migration sends to the other stages: slices to every runner, and its states to the status
/// topic. The services send them over Kafka; unit tests record them.
public protocol MigrationMessenger: Sendable {
    /// Sends `slices` of migration `migrationId` to the runners; returns once the broker has every
    /// one of them, and throws if it does not.
    func sendSlices(_ slices: [MigrationSlice], of migrationId: String) async throws
    /// Announces `event`, the state of migration `migrationId`, on the status topic.
    func announce(_ event: MigrationStatusEvent, of migrationId: String) async throws
}
