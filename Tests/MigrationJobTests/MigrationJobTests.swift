import Foundation
import JobstreamMessages
import JobstreamMigration
import JobstreamStore
import JobstreamTestSupport
import Logging
import Testing

/// The migration's state machine, without a broker: plan, progress, end, fencing, takeover, stalls
/// and the store failing, each in milliseconds (``MigrationJobHarness``).
@Suite("Migration job logic")
struct MigrationJobTests {
    @Test("a migration goes Accepted → In progress → Completed, its progress rising to 100")
    func completes() async throws {
        try await MigrationJobHarness.with { harness in
            let supervisor = MigrationSupervisor(environment: harness.environment)
            let id = UUID().uuidString
            try await supervisor.accept(
                MigrationRequest(cutoverDate: harness.cutover, generatedBy: "test"), migrationId: id,
                logger: harness.environment.logger)
            try await eventually("the migration to end") { harness.messenger.statuses.last?.isTerminal == true }
            let events = harness.messenger.events
            #expect(events.first?.status == .accepted)
            #expect(events.contains { $0.status == .inProgress })
            #expect([.completed, .completedWarning].contains(events.last?.status))
            #expect(events.last?.progress == 100)
            for (before, after) in zip(events, events.dropFirst()) {
                #expect(after.progress >= before.progress, "progress fell: \(before.progress) then \(after.progress)")
                #expect(before.status == after.status || before.status.canTransition(to: after.status))
            }
            let migration = try #require(try await harness.log.migration(id))
            let slices = try #require(migration.sliceCount)
            #expect(slices > 1, "the seeded charges make several slices of ten")
            #expect(harness.messenger.sent.flatMap { $0 }.sorted() == Array(0..<slices), "each slice sent once")
            #expect(migration.chargesInScope == events.last?.chargesInScope)
            try await eventually("the coordinator to stop") { supervisor.coordinating.isEmpty }
        }
    }

    @Test("a preview counts what the migration would generate, warnings too, and writes no schedule")
    func preview() async throws {
        try await MigrationJobHarness.with { harness in
            let supervisor = MigrationSupervisor(environment: harness.environment)
            let schedules = { @Sendable in
                try await harness.store.withDatabase { database in
                    try await database.raw("SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v FROM revenue_schedules").first()
                        .map { "\(try $0.decode(column: "n", as: Int.self))/\(try $0.decode(column: "v", as: Int.self))" } ?? ""
                }
            }
            let run = { @Sendable (preview: Bool) in
                let id = UUID().uuidString
                try await supervisor.accept(
                    MigrationRequest(cutoverDate: harness.cutover, generatedBy: "test", preview: preview ? true : nil),
                    migrationId: id, logger: harness.environment.logger)
                try await eventually("the migration to end") { try await harness.log.migration(id)?.status.isTerminal == true }
                try await eventually("the coordinator to stop") { supervisor.coordinating.isEmpty }
                return try #require(try await harness.log.migration(id))
            }
            let before = try await schedules()
            let preview = try await run(true)
            #expect(try await schedules() == before, "a preview writes no schedule")
            #expect(preview.preview == 1 && harness.messenger.events.last?.preview == true)
            let real = try await run(false)
            let afterReal = try await schedules()
            #expect(afterReal != before)
            #expect(real.preview == 0 && harness.messenger.events.last?.preview == nil)
            #expect(preview.chargesInScope == real.chargesInScope && (preview.chargesInScope ?? 0) > 0)
            #expect(preview.schedulesGenerated == real.schedulesGenerated && preview.warnings == real.warnings)
            #expect(preview.warnings > 0, "the seeded charges include some that cannot be migrated")
            let warned = try await MigrationLedger(store: harness.store).warnings(preview.migrationId, limit: 1000)
            #expect(warned.count == preview.warnings, "a preview records every warning")
            _ = try await run(true)
            #expect(try await schedules() == afterReal, "nor replaces or removes a schedule")
        }
    }

    @Test("a request while another migration is active is logged and announced as Error, saying which")
    func oneAtATime() async throws {
        try await MigrationJobHarness.with { harness in
            harness.messenger.state.withLock { $0.generates = false }
            let supervisor = MigrationSupervisor(environment: harness.environment)
            let logger = harness.environment.logger
            let first = UUID().uuidString, second = UUID().uuidString
            try await supervisor.accept(
                MigrationRequest(cutoverDate: harness.cutover, generatedBy: "test"), migrationId: first, logger: logger)
            try await supervisor.accept(
                MigrationRequest(cutoverDate: harness.cutover, generatedBy: "test"), migrationId: second, logger: logger)
            let refused = try #require(try await harness.log.migration(second))
            #expect(refused.status == .error)
            #expect(refused.error?.contains(first) == true, "\(refused.error ?? "no reason")")
            // The first never ends (no slice is generated): stop its coordinator as shutdown would.
            let loop = Task { await supervisor.run() }
            loop.cancel()
            await loop.value
            #expect(supervisor.coordinating.isEmpty)
        }
    }

    @Test("a runner that lost its claim mid-migration stops without saving or announcing an end")
    func fencedAfterTakeover() async throws {
        let id = UUID().uuidString
        try await MigrationJobHarness.with(onSlices: { harness, _ in
            if harness.messenger.sent.isEmpty { try await harness.takeOver(id, by: "runner-b") }
        }) { harness in
            _ = try await harness.insert(id: id)
            try await harness.coordinate(id)
            let migration = try #require(try await harness.log.migration(id))
            #expect(migration.owner == "runner-b")
            #expect(migration.status == .inProgress, "the old coordinator must not end what it lost")
            #expect(!harness.messenger.statuses.contains { $0.isTerminal })
        }
    }

    @Test("a migration whose coordinator stopped renewing is taken over and completed")
    func takeover() async throws {
        try await MigrationJobHarness.with { harness in
            let id = try await harness.insert(owner: "dead-runner")
            try await harness.store.withDatabase { try await $0.raw("UPDATE migrations SET lease_until = 0").run() }
            let supervisor = MigrationSupervisor(environment: harness.environment)
            let loop = Task { await supervisor.run() }
            try await eventually("the migration to complete") { try await harness.log.migration(id)?.status.isTerminal == true }
            loop.cancel()
            await loop.value
            let migration = try #require(try await harness.log.migration(id))
            #expect(migration.owner == MigrationJobHarness.instance && migration.progress == 100)
        }
    }

    @Test("slices nobody generated for two minutes are sent again, and only those")
    func stalledSlicesAreSentAgain() async throws {
        try await MigrationJobHarness.with { harness in
            harness.messenger.state.withLock { $0.generates = false }
            let id = try await harness.insert()
            let coordinator = Task { [environment = harness.environment] in
                await MigrationCoordinator(migrationId: id, environment: environment).run()
            }
            try await eventually("the slices to be sent twice") { harness.messenger.sent.count >= 2 }
            coordinator.cancel()
            await coordinator.value
            let sent = harness.messenger.sent
            let slices = try #require(try await harness.log.migration(id)?.sliceCount)
            #expect(sent[0] == Array(0..<slices) && sent[1] == sent[0])
        }
    }

    @Test("a store that keeps failing ends the migration as Error, announced at once and logged once the store is back")
    func storeFailure() async throws {
        let id = UUID().uuidString
        try await MigrationJobHarness.with(onSlices: { harness, _ in
            if harness.messenger.sent.isEmpty { try await harness.storeRefusesChanges(true) }
        }) { harness in
            harness.messenger.state.withLock { $0.generates = false }
            _ = try await harness.insert(id: id)
            let coordinator = Task { [environment = harness.environment] in
                await MigrationCoordinator(migrationId: id, environment: environment).run()
            }
            try await eventually("Error to be announced") { harness.messenger.statuses.last == .error }
            #expect(harness.messenger.events.last?.error?.contains("the store is down") == true)
            #expect(try await harness.log.migration(id)?.status == .inProgress, "not logged while the store refuses")
            try await harness.storeRefusesChanges(false)
            try await ended(coordinator, "the coordinator to log Error and stop")
            #expect(try await harness.log.migration(id)?.status == .error)
        }
    }
}
