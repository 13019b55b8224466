import Foundation
import JobstreamMessages
import Testing

@testable import JobstreamDashboard

@Suite("The board's Sync History index")
struct SyncSessionIndexTests {
    /// A reproducible generator, so a failure can be run again.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let day = 86_400_000
    static let firstDay = CalendarDate(year: 2026, month: 11, day: 1)!

    func entry(_ id: String, operation: SyncOperation, startedDay: Double?) -> AnyEnvelope {
        let started = startedDay.map {
            Date(timeIntervalSince1970: Double(Self.firstDay.daysSinceEpoch * Self.day) / 1000 + $0 * 86_400)
        }
        return AnyEnvelope(
            Envelope(
                jobId: id,
                payload: SyncHistoryEntry(
                    operation: operation, status: .running, startedAt: started, recordsSynced: 0, recordsFailed: 0)))
    }

    /// What the list must show: every started session matching, by start then id, newest first.
    func expected(_ sessions: [String: (SyncOperation, Int?)], _ filter: SyncFilter, limit: Int) -> ([String], Int) {
        let matching = sessions.compactMap { id, session -> (Int, String)? in
            guard let started = session.1, filter.includes(startedAt: started, operation: session.0) else { return nil }
            return (started, id)
        }.sorted { $0 > $1 }
        return (matching.prefix(limit).map(\.1), matching.count)
    }

    @Test(
        "pages match a full scan after sessions arrive out of order, move, change operation and are removed",
        arguments: [1, 2, 3])
    func matchesAFullScan(seed: UInt64) async {
        var random = SplitMix(state: seed)
        let board = StatusBoard()
        var sessions: [String: (SyncOperation, Int?)] = [:]
        // Enough changes that pending inserts and removals are merged both on the way (past the
        // merge threshold) and when a page asks.
        for step in 0..<12_000 {
            let id = "session-\(Int.random(in: 0..<3_000, using: &random))"
            if step % 7 == 3, sessions[id] != nil {
                await board.removeSyncSession(id)
                sessions[id] = nil
                continue
            }
            let operation = SyncOperation.allCases.randomElement(using: &random)!
            // Mostly in start order, as a live board fills; some late, some never started.
            let startedDay: Double? =
                step % 11 == 0 ? nil : min(29.99, max(0, Double(step) / 400 + Double.random(in: -3...0.2, using: &random)))
            await board.apply(entry(id, operation: operation, startedDay: startedDay))
            let started = startedDay.map {
                Date(timeIntervalSince1970: Double(Self.firstDay.daysSinceEpoch * Self.day) / 1000 + $0 * 86_400)
                    .epochMilliseconds
            }
            sessions[id] = (operation, started)
            if step % 1_500 == 0 || step == 11_999 {
                for filter in filters(&random) {
                    for limit in [0, 1, 50, 500, 10_000] {
                        let (page, matching) = await board.syncHistory(filter, limit: limit)
                        let (ids, count) = expected(sessions, filter, limit: limit)
                        #expect(page.map(\.sessionId) == ids, "\(filter), limit \(limit), step \(step)")
                        #expect(matching == count, "\(filter), limit \(limit), step \(step)")
                    }
                }
            }
        }
    }

    func filters(_ random: inout SplitMix) -> [SyncFilter] {
        func day(_ offset: Int) -> CalendarDate {
            CalendarDate(daysSinceEpoch: Self.firstDay.daysSinceEpoch + offset)!
        }
        let from = Int.random(in: -2...31, using: &random)
        let to = from + Int.random(in: -1...8, using: &random)
        let operation = SyncOperation.allCases.randomElement(using: &random)
        return [
            SyncFilter(),
            SyncFilter(operation: operation),
            SyncFilter(from: day(from)),
            SyncFilter(to: day(to)),
            SyncFilter(from: day(from), to: day(to), operation: operation),
            SyncFilter(from: day(from), to: day(to)),
        ]
    }

    @Test("a session listed once is shown once, however often its events repeat")
    func repeatsListOnce() async {
        let board = StatusBoard()
        for _ in 0..<3 {
            await board.apply(entry("late", operation: .manual, startedDay: 1))
            await board.apply(entry("early", operation: .manual, startedDay: 0))
        }
        let (page, matching) = await board.syncHistory(SyncFilter(), limit: 10)
        #expect(page.map(\.sessionId) == ["late", "early"])
        #expect(matching == 2)
    }
}
